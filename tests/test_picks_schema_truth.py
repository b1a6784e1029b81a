"""The schema tells the truth about the picks and survey routes: one real request per operation.

As tests/test_api_schema_truth.py does for the other routes: each documented
operation of ``/api/v1/images/{id}/picks...`` and ``/api/v1/wells/{id}/survey``
gets one real, successful request on the real sample (an image and a well of
the token's user, a pick on it), and its answer is checked against the schema
by schemathesis (status, content type, body, headers).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from schemathesis.checks import CHECKS, load_all_checks

from ingest.models import Well
from picks.models import Pick
from picks.services import survey_replace
from project.wsgi import application

pytestmark = pytest.mark.django_db

SURVEY_CSV = b"md,inclination,azimuth\n0,0,0\n9000,10,45\n9600,12,50\n"

#: One real request per picks/survey operation (``<pick>`` is a pick of the token user's image).
PICKS_REQUESTS: dict[tuple[str, str], dict] = {
    ("GET", "/api/v1/images/{id}/picks"): {
        "query": {"depth_min": 9000, "depth_max": 9200, "kind": "fracture"}
    },
    ("POST", "/api/v1/images/{id}/picks"): {
        "json": {"points": [{"column": 3, "row": 10}, {"column": 50, "row": 20}, {"column": 120, "row": 12}]}
    },
    ("POST", "/api/v1/images/{id}/picks/fit"): {
        "json": {
            "points": [
                {"azimuth": 350, "depth": 9100},
                {"azimuth": 10, "depth": 9100.1},
                {"azimuth": 180, "depth": 9100.05},
            ]
        }
    },
    ("GET", "/api/v1/images/{id}/picks.csv"): {"query": {"kind": "fracture"}},
    ("GET", "/api/v1/images/{id}/picks/{pick_id}"): {},
    ("PATCH", "/api/v1/images/{id}/picks/{pick_id}"): {"json": {"dip": 12.5, "comment": "checked"}},
    ("DELETE", "/api/v1/images/{id}/picks/{pick_id}"): {},
    ("GET", "/api/v1/wells/{id}/survey"): {"well": True},
    ("POST", "/api/v1/wells/{id}/survey"): {"well": True, "body": {"file": SURVEY_CSV}},
}


@pytest.fixture
def api_schema():
    """schemathesis's view of ``/api/schema``, calling the WSGI application in-process."""
    return schemathesis.openapi.from_wsgi("/api/schema?format=json", application)


def test_picks_schema_truth_lists_every_picks_operation(api_schema):
    documented = {
        (method.upper(), path)
        for path, methods in api_schema.raw_schema["paths"].items()
        for method in methods
        if "/picks" in path or "/survey" in path
    }
    assert documented == set(PICKS_REQUESTS)


@pytest.mark.parametrize(
    ("method", "path"), list(PICKS_REQUESTS), ids=[f"{m} {p}" for m, p in PICKS_REQUESTS]
)
def test_picks_schema_truth_answer_validates(api_schema, api_token, sample_csv, method, path):
    from ingest.services import image_create_from_path, image_ingest
    from tests.test_api_schema_truth import CHECK_NAMES  # here: that module imports PICKS_REQUESTS

    spec = PICKS_REQUESTS[(method, path)]
    owner = get_user_model().objects.get(username="uploader")
    well = Well.objects.create(
        name="w", owner=owner, public=True, format="las", bit_size=8.5, status="succeeded", sha256="0" * 64
    )
    image, _ = image_create_from_path(path=sample_csv, owner=owner, queue=False)
    image = image_ingest(image_id=image.pk)
    image.well = well
    image.save(update_fields=["well"])
    pick = Pick.objects.create(
        image=image, author=owner, depth=9100.0, dip_azimuth=10.0, dip=20.0, kind="fracture"
    )
    survey_replace(well=well, author=owner, md=[0.0, 9600.0], inclination=[0.0, 10.0], azimuth=[0.0, 45.0])
    if spec.get("well"):
        path_parameters = {"id": well.pk}
    else:
        path_parameters = {"id": image.pk, "pick_id": pick.pk} if "{pick_id}" in path else {"id": image.pk}
    kwargs: dict = {"path_parameters": path_parameters, "query": spec.get("query", {})}
    if "json" in spec:
        kwargs["body"], kwargs["media_type"] = spec["json"], "application/json"
    if "body" in spec:
        kwargs["body"], kwargs["media_type"] = spec["body"], "multipart/form-data"
    case = api_schema[path][method].Case(**kwargs)
    headers = {"Authorization": f"Token {api_token}"}
    response = case.call(headers=headers)
    assert 200 <= response.status_code < 300, (response.status_code, response.text[:500])
    load_all_checks()
    case.validate_response(response, checks=CHECKS.get_by_names(CHECK_NAMES), headers=headers)
