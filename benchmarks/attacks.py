"""Replay issue 11's attacks against a live gunicorn and print each answer beside the old one.

``make bench-attacks`` (or ``python -m benchmarks.attacks``) sets up what the
issue's attacker had, in a scratch data directory under ``var/bench/``:

* the development settings with ``DJANGO_DEBUG=false`` (``development.py`` sets
  ``DEBUG = True`` whatever it says: the setup line prints the ``DEBUG`` in effect;
  the API answers JSON errors either way), in-process (eager) tasks, throttling off,
  and ``DJANGO_WEBHOOK_ALLOW_PRIVATE=false`` (development turns it on by default);
* ``manage.py ingest`` of ``samples/img.csv`` and of a generated 800,000 x 360 log
  (:mod:`benchmarks.gen_csv`, cached as ``var/bench/borehole-800000x360.csv`` and
  reused by the next run), both owned by the user ``owner``;
* tokens of two users from ``manage.py createtoken`` (``owner`` and ``other``), and
  a secret-looking webhook URL on the sample's row, set in the database (an upload
  with a public URL would make the in-process job POST to it: the run contacts
  nothing outside the machine);
* gunicorn with 2 sync workers and the issue's 120 s worker timeout.

Then it sends each request of the issue's first section ("Tried as an attacker
would") and prints one line per case: the request, the status, the error code (or
what the answer says), the time in ms, whether that is the intended answer, and the
answer the issue recorded before the fixes. The last line is ``N cases, M answered
as intended``; the exit status is 1 if any case answered otherwise.

This is a benchmark, not a test (it is not in ``make test``): the behaviour each case
checks is tested through HTTP in ``tests/``; this replays the issue as it was told.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from benchmarks.gen_csv import generate
from benchmarks.ingest import BENCH_DIR, prepare_csv
from benchmarks.serve import PYTHON, REPO, SAMPLE, Server, _free_port

#: Size of the large log the issue's attacker ingested.
LARGE_ROWS, LARGE_COLUMNS = 800_000, 360
#: gunicorn's worker timeout in the issue's run: a request that hangs is killed after it.
WORKER_TIMEOUT = 120
#: A webhook URL as a secret (a chat hook's path is its credential); never contacted here.
SECRET_HOOK = "https://hooks.example.com/services/T0000/B0000/attacks-secret"  # noqa: S105 - a fake one
#: The issue's style: a large_image ``function`` entry calls ``numpy.save``.
FUNCTION_STYLE = '{"bands":[{"band":1,"palette":"viridis"}],"function":[{"name":"numpy.save","stage":"pre"}]}'
SSRF_URLS = (
    "http://127.0.0.1:6379/",
    "http://localhost:5432/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8000/",
    "http://0.0.0.0:80/",
    "http://10.1.2.3/hook",
)
DEAD_WORKER_TEST = (
    "tests/integration/test_stack.py::"
    "test_stack_whole_worker_killed_resumes_on_a_fresh_worker_within_a_minute"
)


@dataclass
class Answer:
    """One HTTP answer: status, body and the time from sending to the last byte."""

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    ms: float = 0.0

    def json(self) -> dict | None:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str:
        """The error shape's ``code``, ``-`` for an answer without one, ``HTML`` for a page."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return str(body["error"].get("code"))
        if self.body.lstrip()[:1] == b"<":
            return "HTML"
        return "-"


@dataclass
class Outcome:
    """A case's answer as printed, and whether it is the intended one."""

    status: str
    code: str
    ms: float | None
    ok: bool
    note: str = ""


@dataclass
class Case:
    """One attack: what is sent, what the server should answer, what it answered before."""

    label: str
    intended: str
    before: str
    run: Callable[[], Outcome]


class Client:
    """Plain ``http.client`` requests to the server under test, one connection each."""

    def __init__(self, port: int):
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if token:
            sent["Authorization"] = f"Token {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WORKER_TIMEOUT + 30)
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            return Answer(None, repr(exc).encode(), ms=(time.perf_counter() - began) * 1000)
        finally:
            connection.close()
        ms = (time.perf_counter() - began) * 1000
        return Answer(response.status, data, dict(response.getheaders()), ms)

    def upload(self, token: str, csv: bytes, filename: str = "attack.csv", **fields: str) -> Answer:
        """``POST /api/v1/images`` as multipart: ``file`` and the given form fields."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: text/csv\r\n\r\n".encode()
            + csv
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST",
            "/api/v1/images",
            token=token,
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


def expect(answer: Answer, status: int, code: str = "-", note: str = "") -> Outcome:
    """The outcome of an answer that should be ``status`` with error ``code`` (``-``: none)."""
    if answer.status is None:
        return Outcome("no answer", answer.body.decode(errors="replace")[:80], answer.ms, False)
    ok = answer.status == status and answer.code == code
    return Outcome(str(answer.status), answer.code, answer.ms, ok, note)


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with ``env``; its standard output (raises with its errors if it fails)."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def ingest(env: dict[str, str], path: Path, name: str) -> int:
    """``manage.py ingest`` as the user ``owner``; the new image's id."""
    out = manage(env, "ingest", str(path), "--name", name, "--owner", "owner")
    match = re.search(r"^image (\d+):", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"manage.py ingest {path}: unexpected output {out!r}")
    return int(match.group(1))


def clean_env() -> dict[str, str]:
    """The environment without any ``DJANGO_*`` variable (no settings module, no secrets)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}


def settings_trap(command: list[str], shown: str) -> Case:
    """A process started with no settings module and no secrets must refuse to start."""

    def run() -> Outcome:
        began = time.perf_counter()
        try:
            done = subprocess.run(
                command, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=90, check=False
            )
        except subprocess.TimeoutExpired:
            return Outcome("running after 90 s", "-", 90_000, False)
        ms = (time.perf_counter() - began) * 1000
        lines = (done.stderr + done.stdout).splitlines()
        raised = [line for line in lines if line.startswith("django.core.exceptions.ImproperlyConfigured")]
        error = raised[-1].removeprefix("django.core.exceptions.") if raised else ""
        status = f"exit {done.returncode}"
        return Outcome(status, error or "no ImproperlyConfigured", ms, done.returncode != 0 and bool(error))

    return Case(
        shown,
        "refuses to start: ImproperlyConfigured (production settings need their secrets)",
        "ran the development settings: DEBUG pages, the known secret key (forgeable webhook signatures)",
        run,
    )


def cases(  # noqa: PLR0915 - one statement block per case of the issue, in its order
    client: Client, ids: dict[str, int], tokens: dict[str, str], scratch: Path
) -> list[Case]:
    """Every case of issue 11's first section, in its order."""
    owner, other = tokens["owner"], tokens["other"]
    sample, large = ids["sample"], ids["large"]
    style = quote(FUNCTION_STYLE, safe="")
    out: list[Case] = []

    # Code from a URL: through DRF (a token sends it down the full stack), then the fast lane.
    tile = f"/api/v1/images/{sample}/tiles/0/0/0.png?style={style}"
    out.append(
        Case(
            f"GET {tile.replace(style, '{function style}')} (token: full stack)",
            "400 invalid_style",
            "200; large_image imported numpy and called numpy.save with the tile",
            lambda: expect(client.request("GET", tile, token=owner), 400, "invalid_style"),
        )
    )

    def fast_lane() -> Outcome:
        # The lane answers images its process has loaded: warm both workers on a plain tile.
        for _ in range(6):
            client.request("GET", f"/api/v1/images/{sample}/tiles/0/0/0.png")
        return expect(client.request("GET", tile), 400, "invalid_style")

    out.append(
        Case(
            f"GET {tile.replace(style, '{function style}')} (anonymous, no Origin: fast lane)",
            "400 invalid_style",
            "200; the tile fast lane passed the style on too",
            fast_lane,
        )
    )

    # Webhook SSRF: refused at upload, nothing stored.
    for number, url in enumerate(SSRF_URLS):
        csv = f"depth,col1\r\n1.0,{number}\r\n1.1,{number + 1}\r\n".encode()

        def ssrf(csv: bytes = csv, url: str = url) -> Outcome:
            answer = client.upload(owner, csv, webhook_url=url)
            fields = (answer.json() or {}).get("error", {}).get("fields", {})
            named = "webhook_url" in fields
            outcome = expect(answer, 400, "invalid_parameter")
            outcome.ok = outcome.ok and named
            outcome.note = "; ".join(fields.get("webhook_url", [])) if named else "webhook_url not named"
            return outcome

        out.append(
            Case(
                f"POST /api/v1/images webhook_url={url}",
                "400 invalid_parameter naming webhook_url",
                "accepted; the worker POSTed there, its error text shown to anyone (a port scanner)",
                ssrf,
            )
        )

    # Unbounded reads on the 800k log.
    region = f"/api/v1/images/{large}/data/region.png?width=360&height=1"
    out.append(
        Case(
            f"GET {region} (800k log)",
            "200 within the read budget",
            "200 in 15 s (decoded all of level 0)",
            lambda: expect(client.request("GET", region), 200),
        )
    )
    histogram = f"/api/v1/images/{large}/data/histogram?bins=17"

    def histogram_case() -> Outcome:
        answer = client.request("GET", histogram)
        outcome = expect(answer, 200)
        body = answer.json()
        entry = body[0] if isinstance(body, list) and body else body
        if isinstance(entry, dict) and "coverage" in entry:
            outcome.note = f"sampled={entry['sampled']}, coverage={entry['coverage']:.3f} of the tiles"
        return outcome

    out.append(
        Case(
            f"GET {histogram} (800k log)",
            "200 within the read budget",
            "200 in 9.3 s (every level-0 tile)",
            histogram_case,
        )
    )

    # Unbounded jobs.
    gap_csv = b"depth,col1\r\n0,10\r\n0.001,20\r\n1000000,30\r\n"

    def job_case(answer: Answer) -> Outcome:
        outcome = expect(answer, 422, "invalid_csv")
        error = (answer.json() or {}).get("error", {})
        outcome.ok = outcome.ok and error.get("line") is not None
        outcome.note = error.get("message", "")
        return outcome

    out.append(
        Case(
            "POST /api/v1/images: 3 lines, depths 0, 0.001, 1000000 (a 10^9-row gap)",
            "422 invalid_csv naming the line, before allocating",
            "no answer: the web worker hung until gunicorn killed it at 120 s",
            lambda: job_case(client.upload(owner, gap_csv, filename="gap.csv")),
        )
    )
    narrow = scratch / "narrow-20000x1.csv"
    generate(narrow, 20_000, 1)
    narrow_bytes = narrow.read_bytes()
    out.append(
        Case(
            "POST /api/v1/images target_width=65535, a 20,000 x 1 CSV",
            "422 invalid_csv: target_width only narrows (line 1)",
            "202; ran 74 s and 'succeeded'",
            lambda: job_case(client.upload(owner, narrow_bytes, filename="narrow.csv", target_width="65535")),
        )
    )

    # The 500s (HTML debug pages) and TRACE.
    for path, intended, status, code in (
        (
            "/api/v1/images?limit=4333628726088377435160576&offset=-4522",
            "400 invalid_parameter",
            400,
            "invalid_parameter",
        ),
        (f"/api/v1/images/{sample}/info/band?band=x", "400 invalid_parameter", 400, "invalid_parameter"),
        (f"/api/v1/images/{sample}/info/band?band=99", "400 invalid_parameter", 400, "invalid_parameter"),
        (
            f"/api/v1/images/{sample}/data/region.png?depth_min=0&depth_max=1e308",
            "200: the whole log (1e308 means to the bottom)",
            200,
            "-",
        ),
        (
            f"/get-images/0/1e308/?image={large}",
            "400 output_too_large (800,000 frames > 10,000)",
            400,
            "output_too_large",
        ),
    ):
        out.append(
            Case(
                f"GET {path}",
                intended,
                "500 (HTML debug page)",
                lambda path=path, status=status, code=code: expect(client.request("GET", path), status, code),
            )
        )
    out.append(
        Case(
            "TRACE /healthz",
            "405 method_not_allowed",
            "200",
            lambda: expect(client.request("TRACE", "/healthz"), 405, "method_not_allowed"),
        )
    )

    # No owners: DELETE, per-owner dedupe, the webhook URL.
    mine = b"depth,col1,col2\r\n5.0,1,2\r\n5.1,3,4\r\n5.2,5,6\r\n"
    state: dict[str, int] = {}

    def upload_mine() -> int:
        if "mine" not in state:
            answer = client.upload(owner, mine, filename="mine.csv", name="mine")
            if answer.status not in (200, 202):
                raise RuntimeError(f"owner's upload answered {answer.status}: {answer.body[:300]!r}")
            state["mine"] = answer.json()["id"]
        return state["mine"]

    def same_bytes() -> Outcome:
        first = upload_mine()
        answer = client.upload(other, mine, filename="mine.csv", name="theirs")
        outcome = expect(answer, 202)
        body = answer.json() or {}
        theirs = body.get("id")
        kept = client.request("GET", f"/api/v1/images/{first}", token=owner).json() or {}
        outcome.note = f"ids {first} and {theirs}, names {kept.get('name')!r} and {body.get('name')!r}"
        outcome.ok = (
            outcome.ok and theirs != first and kept.get("name") == "mine" and body.get("name") == "theirs"
        )
        return outcome

    out.append(
        Case(
            "POST /api/v1/images, the same bytes by a second user (name=theirs)",
            "202: a new image of theirs (ids differ, both names kept)",
            "200 with the first user's image; their name and webhook silently dropped",
            same_bytes,
        )
    )
    out.append(
        Case(
            "DELETE /api/v1/images/{owner's image} by a second user",
            "403 permission_denied",
            "405 (no DELETE; nobody owns an image)",
            lambda: expect(
                client.request("DELETE", f"/api/v1/images/{upload_mine()}", token=other),
                403,
                "permission_denied",
            ),
        )
    )

    def delete_own() -> Outcome:
        image = upload_mine()
        outcome = expect(client.request("DELETE", f"/api/v1/images/{image}", token=owner), 204)
        after = client.request("GET", f"/api/v1/images/{image}", token=owner)
        outcome.note = f"then GET: {after.status} {after.code}"
        outcome.ok = outcome.ok and after.status == 404
        return outcome

    out.append(
        Case(
            "DELETE /api/v1/images/{owner's image} by its owner",
            "204, then GET 404",
            "405 (no DELETE)",
            delete_own,
        )
    )

    def webhook_hidden() -> Outcome:
        anonymous = client.request("GET", f"/api/v1/images/{sample}")
        mine = client.request("GET", f"/api/v1/images/{sample}", token=owner)
        shown = (anonymous.json() or {}).get("webhook_url", "absent")
        own = (mine.json() or {}).get("webhook_url")
        ok = anonymous.status == 200 and shown is None and own == SECRET_HOOK
        return Outcome(
            str(anonymous.status),
            f"webhook_url={json.dumps(shown)}",
            anonymous.ms,
            ok,
            f"the owner sees {'it' if own == SECRET_HOOK else repr(own)}",
        )

    out.append(
        Case(
            "GET /api/v1/images/{id} anonymous, of an image with a webhook URL",
            "200 with webhook_url null (the owner sees it)",
            "the webhook URL (often a secret) shown to anyone",
            webhook_hidden,
        )
    )

    # Settings trap.
    out.append(
        settings_trap(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                f"--bind=127.0.0.1:{_free_port()}",
                "--workers=1",
            ],
            "gunicorn project.wsgi:application (no DJANGO_SETTINGS_MODULE, no secrets)",
        )
    )
    out.append(
        settings_trap(
            [PYTHON, "-c", "import project.wsgi"],
            'python -c "import project.wsgi" (no DJANGO_SETTINGS_MODULE, no secrets)',
        )
    )
    return out


def setup(scratch: Path) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
    """The server's environment, the ingested images' ids and the two users' tokens."""
    env = {
        **clean_env(),
        "DJANGO_SETTINGS_MODULE": "project.settings.development",
        "DJANGO_DEBUG": "false",
        "DJANGO_DATA_DIR": str(scratch),
        "DJANGO_WEBHOOK_ALLOW_PRIVATE": "false",
        "DJANGO_CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_THROTTLE_ANON": "",
        "DJANGO_THROTTLE_USER": "",
        "TMPDIR": str(scratch / "tmp"),
    }
    (scratch / "tmp").mkdir()
    manage(env, "migrate", "-v0")
    began = time.perf_counter()
    large_csv, generated = prepare_csv(LARGE_ROWS, LARGE_COLUMNS)
    how = f"generated in {time.perf_counter() - began:.0f} s" if generated else "reused"
    print(f"setup: {large_csv.relative_to(REPO)} ({large_csv.stat().st_size / 1e6:.0f} MB, {how})")
    ids = {"sample": ingest(env, SAMPLE, "img.csv")}
    began = time.perf_counter()
    ids["large"] = ingest(env, large_csv, "borehole-800k")
    print(
        f"setup: ingested samples/img.csv as image {ids['sample']} and the 800,000 x 360 log as "
        f"image {ids['large']} ({time.perf_counter() - began:.0f} s), owner 'owner'"
    )
    tokens = {user: manage(env, "createtoken", user).strip() for user in ("owner", "other")}
    # The owner's webhook URL, set directly: an upload with a public URL would make the
    # in-process job POST to it, and this run contacts nothing outside the machine.
    manage(
        env,
        "shell",
        "-c",
        f"from ingest.models import Image; Image.objects.filter(pk={ids['sample']})"
        f".update(webhook_url={SECRET_HOOK!r})",
    )
    return env, ids, tokens


def main() -> None:
    """Set up the server and the logs, replay every case, print one line each; exit 1 on a miss."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="attacks-", dir=BENCH_DIR))
    failures = total = 0
    try:
        env, ids, tokens = setup(scratch)
        shown = manage(env, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
        debug = shown.split()[-1]  # Django 5.2's shell first says what it imported
        server = Server(
            env,
            2,
            ready_path="/healthz",
            extra_args=(f"--timeout={WORKER_TIMEOUT}",),
            log=scratch / "gunicorn.log",
        )
        try:
            print(
                "setup: gunicorn, 2 sync workers, project.settings.development with DJANGO_DEBUG=false "
                f"(DEBUG in effect: {debug}), eager tasks, DJANGO_WEBHOOK_ALLOW_PRIVATE=false, no throttling"
            )
            print()
            for case in cases(Client(server.port), ids, tokens, scratch):
                outcome = case.run()
                total += 1
                failures += not outcome.ok
                ms = "" if outcome.ms is None else f" {outcome.ms:,.0f} ms"
                note = f" ({outcome.note})" if outcome.note else ""
                verdict = "as intended" if outcome.ok else f"NOT AS INTENDED (intended: {case.intended})"
                print(
                    f"{case.label} -> {outcome.status} {outcome.code}{ms}{note}: {verdict}"
                    f" | before: {case.before}"
                )
        finally:
            server.stop()
        print(f"dead worker node: covered by {DEAD_WORKER_TEST} (make test, -m integration)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{total} cases, {total - failures} answered as intended")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
