"""schemathesis against the live server, from our own OpenAPI schema (``/api/schema``).

gunicorn is started here as in tests/test_readme_session.py: a free port on
127.0.0.1, the development settings named explicitly, a fresh data folder
(SQLite, eager tasks), the real sample ingested first (image 1, ready) so the
image routes render real pixels, and a small private image of another user
(image 2). schemathesis's CLI (``st run``) then sends
generated requests to every operation of the schema, with a fixed seed, and
checks each answer: no 5xx, a documented status, a documented content type, a
body that validates against the documented schema, and invalid requests
(negative data) refused with a 4xx. Two passes: every operation with the token
of the ``fuzzer`` user (``manage.py createtoken``), and every read without
credentials (public reads, and the tile fast lane that only serves those).

Uploads cannot fill the disk: the generated files are small (hypothesis bounds
them), ``DJANGO_MAX_UPLOAD_MB=1`` refuses anything larger before reading it,
the writes get fewer examples, and the data folder is the test's. No request
leaves the machine: every ``webhook_url`` that could name a host is rewritten to
a closed port on 127.0.0.1 by a schemathesis hook, and urllib's proxy (webhook
deliveries) points there too.

A failure lists, per failing test case: the operation, the status answered
(with the exception for a 500), each failed check and the request as a curl
command (from schemathesis's JUnit report); the full output is kept beside it,
with gunicorn's log and access log (seconds per request).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port, gunicorn

pytestmark = pytest.mark.fuzz

#: The seed of every run: the same requests each time (change it to explore).
SEED = 20261201
#: Test cases per operation and phase (the coverage phase adds its boundary cases).
MAX_EXAMPLES = 100
#: Writes (uploads) create rows and files: fewer of them.
WRITE_MAX_EXAMPLES = 8
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]
#: Seconds one request may take before it counts as a failure (a read with no budget).
REQUEST_TIMEOUT = 20
#: Seconds one pass may take before the test gives up on it (a pass takes 1-3 minutes).
PASS_TIMEOUT = 900
#: schemathesis workers. One: with two, hypothesis builds strategies in threads at once, and
#: CPython 3.11.7's ast module (gh-106905, fixed in later 3.11/3.12 releases) then fails
#: with "SystemError: AST constructor recursion depth mismatch" inside the tool, not our server.
WORKERS = 1

#: schemathesis hooks (a file it loads): every ``webhook_url`` that could name a host (Django's
#: URLValidator needs "://") is pointed at a closed port on 127.0.0.1 before the request is sent.
HOOKS = """
import schemathesis

WEBHOOK = {webhook!r}


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, dict) and "://" in str(case.body.get("webhook_url", "")):
        case.body["webhook_url"] = WEBHOOK
"""

#: schemathesis.toml (the command line sets the seed, checks and examples). ``path.id`` is
#: one of the two images most of the time (generated ids otherwise, mostly 404); the classic
#: frames get real depths of the sample.
CONFIG = """
hooks = "{hooks}"

[dictionaries.images]
values = [1, 2]

[dictionaries.depths]
values = [9000.1, 9100, 9100.4, 9546]

[parameters]
"path.id" = {{ dictionary = "images", probability = 0.8 }}
"query.image" = {{ dictionary = "images", probability = 0.8 }}
"path.depth_min" = {{ dictionary = "depths", probability = 0.5 }}
"path.depth_max" = {{ dictionary = "depths", probability = 0.5 }}

[checks.negative_data_rejection]
# schemathesis's list, with 413 (a body too large) and 414 (gunicorn: a request line too long)
expected-statuses = [
    "400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx",
]

[[operations]]
include-method = ["POST", "PUT", "PATCH", "DELETE"]
generation.max-examples = {write_max_examples}
"""

#: gunicorn's access log beside the reports: seconds, method, status, path and query of each request.
ACCESS_LOG_FORMAT = "%(L)s %(m)s %(s)s %(U)s?%(q)s"

#: Pass name -> (extra ``st run`` options, send the token). The token pass leaves out logout
#: (it would revoke the token and leave the rest of the pass to 401s; test_api_schema_truth.py
#: calls it). The anonymous pass sends no credentials at all (schemathesis otherwise also
#: tries made-up ones: 401).
PASSES = {
    "token": (["--exclude-path-regex", "/logout$"], True),
    "anonymous": (["--include-method", "GET", "--generation-with-security-parameters", "false"], False),
}


def _manage(python: str, env: dict, *args: str) -> str:
    done = subprocess.run(
        [python, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, sample_csv):
    """gunicorn with the sample ingested; yields (base URL, token of ``fuzzer``, work folder)."""
    work = tmp_path_factory.mktemp("fuzz")
    port, closed_port = free_port(), free_port()  # nothing listens on closed_port
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings.development",
        DJANGO_DATA_DIR=str(work / "data"),
        DJANGO_CELERY_TASK_ALWAYS_EAGER="true",
        DJANGO_MAX_UPLOAD_MB="1",
        DJANGO_WEBHOOK_MAX_ATTEMPTS="1",
        PYTHONDONTWRITEBYTECODE="1",
        # urllib (webhook deliveries) goes through this "proxy": nothing leaves the machine.
        http_proxy=f"http://127.0.0.1:{closed_port}",
        https_proxy=f"http://127.0.0.1:{closed_port}",
        no_proxy="",
    )
    python = sys.executable
    _manage(python, env, "migrate", "--noinput", "-v", "0")
    _manage(python, env, "ingest", str(sample_csv), "--name", "sample")
    token = _manage(python, env, "createtoken", "fuzzer").strip()
    (work / "fuzz_hooks.py").write_text(HOOKS.format(webhook=f"http://127.0.0.1:{closed_port}/hook"))
    (work / "schemathesis.toml").write_text(
        CONFIG.format(hooks=work / "fuzz_hooks.py", write_max_examples=WRITE_MAX_EXAMPLES)
    )
    base = f"http://127.0.0.1:{port}"
    args = ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", str(work / "access.log")]
    args += ["--access-logformat", ACCESS_LOG_FORMAT]
    with gunicorn(args, env=env, base=base, log_path=work / "gunicorn.log"):
        _upload_private_image(base, _manage(python, env, "createtoken", "owner").strip())
        yield base, token, work


def _upload_private_image(base: str, token: str) -> None:
    """Image 2: a small log of another user (``owner``), private (``public=false``).

    The fuzzer reads it with the token of ``fuzzer`` and without one: every
    answer must still be a documented one (404, as for no image).
    """
    rows = "".join(
        f"{9000 + row / 10:.1f},{row % 256},{(row * 7) % 256},{(row * 13) % 256}\n" for row in range(300)
    )
    answer = requests.post(
        f"{base}/api/v1/images",
        headers={"Authorization": f"Token {token}"},
        files={"file": ("private.csv", "depth,col1,col2,col3\n" + rows)},
        data={"name": "private", "public": "false"},
        timeout=60,
    )
    assert answer.status_code == 202 and answer.json()["id"] == 2, answer.text[:500]


def failure_summary(junit: Path) -> list[str]:
    """One entry per failing test case of schemathesis's JUnit report.

    Each: the operation and the status answered (with the exception named by a
    debug page), each failed check with its detail, and the request as curl.
    """
    entries = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            text = problem.text or problem.get("message") or ""
            for block in re.split(r"(?m)^\d+\. Test Case ID: \w+\n", text)[1:] or [text]:
                status = re.search(r"(?m)^\[(\d+)\] ([^\n]*):$", block)
                answered = f"{status[1]} {status[2]}" if status else "no answer"
                exception = re.search(r"<title>\s*(.*?)\s*</title>", block, re.DOTALL)
                if exception and status and status[1].startswith("5"):
                    answered += f" ({' '.join(exception[1].split())})"
                checks = [
                    f"    {match[1]}" + (": " + " ".join(match[2].split())[:300] if match[2] else "")
                    for match in re.finditer(r"(?m)^- (ST\d+ [^\n]+)\n(?:\n((?: {4}[^\n]*\n?)+))?", block)
                ] or ["    " + " ".join(block.split())[:500]]
                curl = re.search(r"(?m)^ +(curl [^\n]+)$", block)
                request = f"    {curl[1] if curl else ''}"
                entries.append("\n".join([f"{case.get('name')} -> {answered}", *checks, request]))
    return entries


@pytest.mark.parametrize("name", list(PASSES))
def test_api_fuzz_every_operation_answers_as_documented(live_api, name):
    base, token, work = live_api
    options, with_token = PASSES[name]
    st = Path(sys.executable).parent / "st"
    assert st.is_file(), "schemathesis is not installed (pip install '.[test]')"
    junit, report, output = (work / f"{name}.{ext}" for ext in ("junit.xml", "report.json", "out"))
    command = [
        str(st),
        "--config-file",
        str(work / "schemathesis.toml"),
        "run",
        f"{base}/api/schema?format=json",
        "--url",
        base,
        *options,
        *(["--header", f"Authorization: Token {token}"] if with_token else []),
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-database",
        "none",
        "--workers",
        str(WORKERS),
        "--request-timeout",
        str(REQUEST_TIMEOUT),
        "--continue-on-failure",
        "--report",
        "junit,json",
        "--report-junit-path",
        str(junit),
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=PASS_TIMEOUT, cwd=work)
    output.write_text(done.stdout + done.stderr)
    tested = json.loads(report.read_text())["operations"]["tested"] if report.is_file() else 0
    assert tested, f"schemathesis tested nothing:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    failures = failure_summary(junit)
    assert done.returncode == 0 and not failures, (
        f"schemathesis, {name} pass (seed {SEED}, {tested} operations): {len(failures)} failing "
        f"test cases; its full output: {output}\n\n" + "\n\n".join(failures)
    )
