"""SECURITY.md names, for each trust boundary, the tests that prove it: they must exist."""

from __future__ import annotations

import re

from tests.conftest import REPO

REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def references() -> list[tuple[str, str | None]]:
    """(test file, test name or None) in the order SECURITY.md names them; ``::name`` is in the last file."""
    found, current = [], None
    for match in REFERENCE.finditer((REPO / "SECURITY.md").read_text()):
        path, name, bare = match.groups()
        if path:
            current = path
            found.append((path, name))
        else:
            assert current, f"::{bare} names no file before it"
            found.append((current, bare))
    return found


def test_security_doc_names_only_tests_that_exist():
    refs = references()
    assert len(refs) > 50
    missing = []
    for path, name in refs:
        source = REPO / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^(async )?def {name}\(", source.read_text(), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, "SECURITY.md names tests that do not exist: " + ", ".join(missing)
