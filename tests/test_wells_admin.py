"""The admin lists wells and shows a well with its curves (staff only)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.test_wells_las import upload_well, write_las

pytestmark = pytest.mark.django_db(transaction=True)


def test_wells_admin_lists_and_shows_a_well_with_its_curves(client, tmp_path):
    well = upload_well(client, write_las(tmp_path / "admin.las", rows=60).path)
    staff = get_user_model().objects.create_user("admin", password="x", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    listing = browser.get("/admin/ingest/well/")
    assert listing.status_code == 200 and b"ALPHA-1" in listing.content
    page = browser.get(f"/admin/ingest/well/{well['id']}/change/")
    assert page.status_code == 200
    assert b"GR" in page.content and b"CALI" in page.content
    image = browser.get(f"/admin/ingest/image/{well['images'][0]['id']}/change/")
    assert image.status_code == 200 and b"g/cc" in image.content
