"""The README's example client session, run line by line with curl against a live server.

The commands are read from the fenced block under "### Example client session" in
README.md, so the README and this test cannot drift: every line is run in one bash
(variables carry over), in a scratch folder laid out like the repository
(``.venv``, ``manage.py`` and ``samples/img.csv``), against gunicorn started
here on a free port with its own data folder (SQLite, eager tasks). Each line's
answer is checked; a line without a check fails the test.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image as PILImage

from tests.conftest import REPO, free_port, gunicorn

HEADING = "### Example client session"


def readme_session() -> list[str]:
    """The command lines of the README's session block (comments and blank lines left out)."""
    text = (REPO / "README.md").read_text()
    assert HEADING in text, f"README.md has no {HEADING!r} section"
    after = text[text.index(HEADING) :]
    match = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert match, "no ```sh block under the session heading"
    lines = [line for line in match.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert not [line for line in lines if line.endswith("\\")], "keep each command on one line"
    return lines


@pytest.fixture
def server(tmp_path, sample_csv):
    """gunicorn on a free port, with a fresh data folder; yields (base URL, environment, work folder)."""
    if shutil.which("curl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("curl is missing")
        pytest.skip("curl is missing")
    work = tmp_path / "repo"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    (work / "manage.py").symlink_to(REPO / "manage.py")
    (work / "samples").mkdir()
    (work / "samples" / "img.csv").symlink_to(sample_csv)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings.development",
        DJANGO_DATA_DIR=str(tmp_path / "data"),
        DJANGO_CELERY_TASK_ALWAYS_EAGER="true",
        BASE=f"http://127.0.0.1:{port}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    python = str(REPO / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    args = ["--bind", f"127.0.0.1:{port}", "--workers", "1"]
    with gunicorn(args, env=env, base=env["BASE"], log_path=tmp_path / "gunicorn.log"):
        yield env["BASE"], env, work


def run_session(lines: list[str], env: dict, work: Path) -> list[tuple[int, bytes, bytes]]:
    """Run the lines in one bash; returns (exit status, stdout, stderr) per line."""
    out = work / ".session"
    out.mkdir()
    script = [f"cd {work}"]
    for i, line in enumerate(lines):
        script.append(f"{{ {line} ; }} > {out}/{i}.out 2> {out}/{i}.err; echo $? > {out}/{i}.rc")
    script.append(f'echo "$TOKEN" > {out}/token; echo "$ID" > {out}/id')
    subprocess.run(["bash", "-c", "\n".join(script)], env=env, check=True, timeout=300)
    return [
        (int((out / f"{i}.rc").read_text()), (out / f"{i}.out").read_bytes(), (out / f"{i}.err").read_bytes())
        for i in range(len(lines))
    ]


def decode_png(data: bytes) -> np.ndarray:
    image = PILImage.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGBA"))


def test_readme_session_runs_and_every_answer_is_right(server, sample_reference):
    _, env, work = server
    depth, values = sample_reference
    lines = readme_session()
    results = run_session(lines, env, work)
    for line, (rc, _, err) in zip(lines, results, strict=True):
        assert rc == 0, f"{line!r} exited {rc}: {err.decode()[-1000:]}"
    token = (work / ".session" / "token").read_text().strip()
    image_id = int((work / ".session" / "id").read_text())

    def check_token(stdout):
        assert re.fullmatch(r"[0-9a-f]{64}", token)  # a knox token

    def check_upload(stdout):
        upload = json.loads((work / "upload.json").read_text())
        assert upload["id"] == image_id
        assert upload["status"] == "succeeded"  # eager tasks: done in the request
        assert (upload["rows"], upload["columns"]) == (5460, 200)

    def check_detail(stdout):
        detail = json.loads(stdout)
        assert (detail["id"], detail["status"], detail["depth_unit"]) == (image_id, "succeeded", "m")
        assert detail["depth_min"] == 9000.1
        assert detail["depth_max"] == pytest.approx(9546.0)

    def check_region(stdout):
        pixels = decode_png((work / "region.png").read_bytes()).astype(int)
        rows = np.flatnonzero((depth >= 9100 - 1e-9) & (depth <= 9110 + 1e-9))
        assert pixels.shape == (101, 200, 4)
        expected = np.round(matplotlib.colormaps["viridis"](values[rows] / 255) * 255)
        assert np.abs(pixels - expected).max() <= 1

    def check_strip(stdout):
        assert decode_png((work / "strip.png").read_bytes()).shape == (600, 48, 4)

    def check_frames(stdout):
        body = json.loads(stdout)
        assert body["image_id"] == image_id
        assert [frame["depth"] for frame in body["images"]] == pytest.approx(
            [9100.0, 9100.1, 9100.2, 9100.3, 9100.4]
        )
        assert decode_png(base64.b64decode(body["images"][0]["image"])).shape == (1, 200, 4)

    checks = [
        (r"^BASE=", lambda stdout: None),
        (r"^TOKEN=\$\(.*createtoken", check_token),
        (r"^curl .*-F file=@.*/api/v1/images\"$", check_upload),
        (r"^ID=", lambda stdout: None),
        (r"^until curl", lambda stdout: None),
        (r'^curl -sSf "\$BASE/api/v1/images/\$ID"$', check_detail),
        (r"data/region\.png\?depth_min=", check_region),
        (r"data/thumbnail\.png\?width=48&height=600", check_strip),
        (r"/get-images/", check_frames),
    ]
    unchecked = []
    for line, (_, stdout, _) in zip(lines, results, strict=True):
        matching = [check for pattern, check in checks if re.search(pattern, line)]
        if not matching:
            unchecked.append(line)
        for check in matching:
            check(stdout)
    assert unchecked == [], "README session lines without a check in this test"
