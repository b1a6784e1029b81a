"""One table of settings: base.py's docstring, the README's, and the variables really read."""

from __future__ import annotations

import re

from project.settings import base
from tests.conftest import REPO

ROW = re.compile(r"^\| (DJANGO_[A-Z0-9_]+(?:, DJANGO_[A-Z0-9_]+)*) \| (\w+) \| (.+) \|$")


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if ROW.match(line)]


def variables(rows: list[str]) -> set[str]:
    return {name for row in rows for name in ROW.match(row)[1].split(", ")}


def read_in_settings() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "project" / "settings").glob("*.py"):
        names |= set(re.findall(r"""["'](DJANGO_[A-Z0-9_]+)["']""", path.read_text()))
    names.discard("DJANGO_SETTINGS_MODULE")  # chooses the module; not a setting of ours
    return names


def test_readme_settings_table_is_base_py_table_row_for_row():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("\n## Settings\n") :]
    section = section[: section.index("\n### ")]
    assert table_rows(section) == table_rows(base.__doc__)
    assert len(table_rows(base.__doc__)) > 40


def test_every_variable_read_in_settings_is_in_the_table_and_no_other():
    assert variables(table_rows(base.__doc__)) == read_in_settings()
