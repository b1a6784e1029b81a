"""With 10,000 images in PostgreSQL, every list query reads an index, not the whole table.

Runs ``python -m benchmarks.lists --plans-only`` on the machine's PostgreSQL
(127.0.0.1:5432): a throw-away database, migrated, 20 users, 200 wells and
10,000 images bulk-created and vacuumed, then ``EXPLAIN`` of the first page (50
rows) of each list as the API queries it (:func:`ingest.selectors.image_list`,
:func:`~ingest.selectors.well_list`), and the database dropped. About 10 s.
With ``CI=true`` a missing PostgreSQL fails the run; elsewhere the module is
skipped with the reason (as tests/integration/test_stack.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POSTGRES = ("127.0.0.1", 5432)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plans() -> dict[str, str]:
    try:
        socket.create_connection(POSTGRES, timeout=2).close()
    except OSError:
        message = f"PostgreSQL not reachable on {POSTGRES[0]}:{POSTGRES[1]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: it must run)")
        pytest.skip(message)
    database = f"depthtiles_it_lists_{uuid.uuid4().hex[:10]}"
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.lists", "--plans-only", "--database", database],
        cwd=REPO,
        env={key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def reads(plan: str, index: str) -> bool:
    return f"Scan using {index} on" in plan or f"Bitmap Index Scan on {index}" in plan


def test_the_first_pages_read_the_date_indexes_without_sorting(plans):
    """Newest first is read off an index in order: no sort of the table, no sequential scan."""
    for label, index in (
        ("images, anonymous", "image_public_created"),
        ("images, signed in", "image_created"),
        ("images, owner=self", "image_owner_created_id"),
        ("images, name (common)", "image_public_created"),
        ("wells, signed in", "well_created"),
    ):
        plan = plans[label]
        assert reads(plan, index), f"{label}:\n{plan}"
        assert "Seq Scan on ingest_image" not in plan, f"{label}:\n{plan}"
        assert "Sort" not in plan, f"{label}:\n{plan}"


def test_narrow_filters_read_their_index(plans):
    """A well's images, the failed ones, a rare name: a small index read, then a sort of the few rows."""
    for label, index in (
        ("images, well", "ingest_image_well_id"),
        ("images, status=failed", "image_status_lease"),
        ("images, name (rare)", "image_name_trgm"),
        ("images, staff, name (rare)", "image_name_trgm"),
    ):
        plan = plans[label]
        assert index in plan, f"{label}:\n{plan}"
        assert "Seq Scan on ingest_image" not in plan, f"{label}:\n{plan}"


def test_the_counts_read_indexes_not_the_table(plans):
    """The pagination's counts: a signed-in user's public and own private images apart, each from an index.

    One ``count(*)`` of ``public OR owner`` would read every row; its two disjoint
    parts read the public partial index alone (index-only) and the owner's index.
    """
    for label in ("images, anonymous, count", "images, signed in, count"):
        assert "Index Only Scan using image_public_created on ingest_image" in plans[label], plans[label]
        assert "Seq Scan on ingest_image" not in plans[label], plans[label]
    signed_in = plans["images, signed in, count"]
    assert signed_in.count("Aggregate") == 2, signed_in  # two counts
    assert reads(signed_in, "ingest_image_owner_id_32ea0376") or reads(signed_in, "image_owner_created_id"), (
        signed_in
    )
