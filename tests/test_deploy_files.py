"""The deployment files: docker-compose.yml, the Dockerfile, .env.example, .dockerignore.

No Docker engine runs here, so these tests read the files: the compose topology (four
services, health checks, start order, the shared data volume, the commands), the two
build stages, and that every ``DJANGO_`` variable the compose file passes is documented
in .env.example. When the ``docker compose`` command is installed, it validates the file
as Docker would (``docker compose config`` needs no engine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.urls import Resolver404, resolve

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"

SERVICES = {"web", "worker", "postgres", "redis"}
APP_SERVICES = ("web", "worker")
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
    for line in text.splitlines():
        line = line.strip()
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


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def test_compose_services_are_web_worker_postgres_redis(compose):
    assert set(compose["services"]) == SERVICES


def test_compose_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), f"{name} disables its healthcheck"
        test = healthcheck.get("test")
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"}, (name, test)
        assert len(test) > 1 and all(test[1:]), (name, test)


def test_compose_postgres_and_redis_health_checks_use_their_own_clients(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["image"].startswith("redis:7")
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_service_waits_for_healthy_postgres_and_redis(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs the long form to carry a condition"
    for dependency in ("postgres", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)


def test_compose_web_and_worker_run_the_one_image(compose):
    web, worker = (compose["services"][name] for name in APP_SERVICES)
    assert web["image"] == worker["image"]
    assert web["build"]["context"] == worker["build"]["context"] == "."
    assert web["build"].get("dockerfile", "Dockerfile") == "Dockerfile"


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
    assert values["DJANGO_SECRET_KEY"] == ""
    assert values["DJANGO_WEBHOOK_SECRET"] == ""


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
    if not _docker_compose_available():
        # Debian ships no Compose v2 plugin, so a fresh machine (CI included) may lack it;
        # the structural tests above still check the file.
        pytest.skip("`docker compose` is unavailable (no docker CLI or no compose plugin)")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "POSTGRES_"))}
    env.pop("COMPOSE_FILE", None)
    env.pop("COMPOSE_PROJECT_NAME", None)
    result = subprocess.run(
        ["docker", "compose", "config", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert set(rendered["services"]) == SERVICES
    web_env = rendered["services"]["web"]["environment"]
    assert web_env["DJANGO_DATABASE_URL"] == ("postgres://depthtiles:depthtiles@postgres:5432/depthtiles")
    assert web_env["DJANGO_CELERY_TASK_ALWAYS_EAGER"] == "false"
    assert rendered["services"]["worker"]["depends_on"]["postgres"]["condition"] == ("service_healthy")
