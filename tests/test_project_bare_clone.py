"""The repository stands alone: a bare clone needs nothing beside it.

Our users clone the repository into an empty folder; no sibling folder exists for
them. The sample log is carried in ``samples/img.csv`` (byte-identical to the
field export the project started from), and no tracked file may point at a path
outside the repository.
"""

from __future__ import annotations

import hashlib
import re
import subprocess

from tests.conftest import REPO, SAMPLE_CSV

#: sha256 of the sample log as published (shared/data/README.md of the project's start).
SAMPLE_SHA256 = "eb0467b34b8e1dd4924379ee2d3c3a0c5494ca1c0220ef686518bf14b2fe5968"

#: A path that may leave the repository: a parent folder (``../x``) or a sibling's name.
_OUTSIDE = re.compile(r"(?<![\w.])\.\./(?!\.)|\bshared/data/|/work/")
#: A relative path climbing out of its file's folder (``../viewer/axis.js``, ``../../x``).
_PARENT_PATH = re.compile(r"(?<![\w.])((?:\.\./)+[\w./-]*)")
#: Files whose relative paths name files (ES module imports): such a path is resolved from
#: the file's folder and is fine while it stays inside the repository.
_RESOLVED_SUFFIXES = (".js", ".mjs")


def _leaves_repository(name: str, line: str) -> bool:
    """True when ``line`` of the tracked file ``name`` names a path outside the repository."""
    if not _OUTSIDE.search(line):
        return False
    if not name.endswith(_RESOLVED_SUFFIXES) or re.search(r"\bshared/data/|/work/", line):
        return True
    folder = (REPO / name).parent
    return any(not (folder / match).resolve().is_relative_to(REPO) for match in _PARENT_PATH.findall(line))


#: A line that names such a path on purpose (a hostile name under test) carries this.
ALLOW = "path-outside-on-purpose"


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


def test_sample_log_is_in_the_repository_byte_for_byte():
    data = SAMPLE_CSV.read_bytes()
    assert SAMPLE_CSV.is_relative_to(REPO)
    assert hashlib.sha256(data).hexdigest() == SAMPLE_SHA256
    assert len(data) == 4_369_263
    assert data.count(b"\r\n") == 5_461  # CRLF kept (samples/*.csv is -text in .gitattributes)


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    offenders = []
    for name in tracked_files():
        if name.startswith("samples/") or name == "tests/test_project_bare_clone.py":
            continue
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _leaves_repository(name, line) and ALLOW not in line:
                offenders.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_outside_pattern_catches_what_it_should():
    assert _OUTSIDE.search("SAMPLE ?= ../shared/data/img.csv")
    assert _OUTSIDE.search("open('/work/shared/x')")
    assert not _OUTSIDE.search("SAMPLE ?= samples/img.csv")
    assert not _OUTSIDE.search("from ..models import Image")
