"""The schema tells the truth: every route is in it, and every operation answers as documented.

tests/test_api_fuzz.py sends generated requests (mostly refused ones) to the live
server; here each documented operation gets one real, successful request on the
real sample (literal parameters), and its answer is checked against the schema
by schemathesis: a documented status and content type, a body that validates,
documented headers. The list of routes is read from Django's URL resolver, so a
route added without its schema fails here.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from schemathesis.checks import CHECKS, load_all_checks

from project.wsgi import application
from tests.test_picks_schema_truth import PICKS_REQUESTS

pytestmark = pytest.mark.django_db

ID = "<id>"  # replaced by the sample image's id
MINE = "<mine>"  # replaced by the id of an image the token's user uploaded (its owner)
WELL = "<well>"  # replaced by the id of a LAS well the token's user uploaded (curve GR)

#: One real request per documented operation: path parameters, query, multipart body.
REQUESTS: dict[tuple[str, str], dict] = {
    ("GET", "/api/v1/"): {},
    ("GET", "/api/v1/images"): {"query": {"limit": 5}},
    ("POST", "/api/v1/images"): {"body": {"file": "csv", "name": "well-B", "depth_unit": "ft"}},
    ("GET", "/api/v1/images/{id}"): {"path": {"id": ID}},
    ("PATCH", "/api/v1/images/{id}"): {"path": {"id": MINE}, "json": {"name": "renamed", "public": False}},
    ("DELETE", "/api/v1/images/{id}"): {"path": {"id": MINE}},
    ("POST", "/api/v1/auth/logout"): {},
    ("GET", "/api/v1/wells"): {"query": {"limit": 5}},
    ("POST", "/api/v1/wells"): {"body": {"file": "csv", "name": "well-W", "depth_unit": "ft"}},
    ("GET", "/api/v1/wells/{id}"): {"path": {"id": WELL}},
    ("PATCH", "/api/v1/wells/{id}"): {"path": {"id": WELL}, "json": {"name": "renamed", "public": False}},
    ("DELETE", "/api/v1/wells/{id}"): {"path": {"id": WELL}},
    ("GET", "/api/v1/wells/{id}/curves"): {"path": {"id": WELL}},
    ("GET", "/api/v1/wells/{id}/curves/{mnemonic}"): {
        "path": {"id": WELL, "mnemonic": "GR"},
        "query": {"depth_min": 10, "depth_max": 12, "max_points": 4},
    },
    ("GET", "/api/v1/images/{id}/tiles/{z}/{x}/{y}.{fmt}"): {
        "path": {"id": ID, "z": 5, "x": 0, "y": 3, "fmt": "png"},
        "query": {"palette": "viridis"},
    },
    ("GET", "/api/v1/images/{id}/tiles/{z}/{x}/{y}/corners"): {"path": {"id": ID, "z": 1, "x": 0, "y": 0}},
    ("GET", "/api/v1/images/{id}/tiles/metadata"): {"path": {"id": ID}},
    ("GET", "/api/v1/images/{id}/data/region.{fmt}"): {
        "path": {"id": ID, "fmt": "webp"},
        "query": {"depth_min": 9100, "depth_max": 9110, "palette": "YlOrBr"},
    },
    ("GET", "/api/v1/images/{id}/data/thumbnail.{fmt}"): {
        "path": {"id": ID, "fmt": "npy"},
        "query": {"width": 48, "height": 600},
    },
    ("GET", "/api/v1/images/{id}/data/pixel"): {"path": {"id": ID}, "query": {"left": 3, "depth": 9100}},
    ("GET", "/api/v1/images/{id}/data/histogram"): {"path": {"id": ID}, "query": {"bins": 16}},
    ("GET", "/api/v1/images/{id}/info/metadata"): {"path": {"id": ID}},
    ("GET", "/api/v1/images/{id}/info/metadata_internal"): {"path": {"id": ID}},
    ("GET", "/api/v1/images/{id}/info/bands"): {"path": {"id": ID}},
    ("GET", "/api/v1/images/{id}/info/band"): {"path": {"id": ID}, "query": {"band": 1}},
    ("GET", "/api/v1/images/{id}/info/frames"): {"path": {"id": ID}},
    ("GET", "/api/v1/images/{id}/info/tiffdump"): {"path": {"id": ID}},
    ("GET", "/api/v1/colormaps"): {},
    ("GET", "/api/v1/colormaps/{name}.png"): {"path": {"name": "resistivity"}, "query": {"vertical": "true"}},
    ("POST", "/upload-csv/"): {"body": {"file": "csv", "name": "well-C"}},
    ("GET", "/get-images/{depth_min}/{depth_max}/"): {
        "path": {"depth_min": 9100, "depth_max": 9100.4},
        "query": {"image": ID, "colormap": "viridis"},
    },
    ("GET", "/healthz"): {},
    ("GET", "/readyz"): {},
}

#: Routes that are not the API (HTML pages, the admin, the schema and its viewer).
NOT_API = re.compile(r"^/($|images/|wells/\{id\}$|admin/|api/schema$|api/docs$)")

#: The checks each answer must pass.
CHECK_NAMES = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]


@pytest.fixture
def api_schema():
    """schemathesis's view of ``/api/schema``, calling the WSGI application in-process."""
    return schemathesis.openapi.from_wsgi("/api/schema?format=json", application)


def _routes() -> dict[str, set[str]]:
    """Every route of the URL resolver, as an OpenAPI path -> the methods its view answers.

    Function views (the probes) answer whatever they are sent: an empty set.
    """
    routes: dict[str, set[str]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif isinstance(pattern, URLPattern):
                routes[_openapi_path(text)] = _methods(pattern.callback)

    walk(get_resolver().url_patterns, "/")
    return routes


def _openapi_path(route: str) -> str:
    """``api/v1/^images/(?P<pk>\\d+)\\.(?P<fmt>png|...)$`` -> ``/api/v1/images/{id}.{fmt}``."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    return path.replace("^", "").replace("$", "").replace("\\.", ".").replace("{pk}", "{id}")


def _methods(callback) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a GET route's actions on its first request (ViewSetMixin.as_view):
        # HEAD is implied by GET either way, and the schema does not list it.
        return {method.upper() for method in actions} - {"HEAD"}
    view = getattr(callback, "cls", None)
    if view is None:
        return set()
    return {method.upper() for method in view.http_method_names if hasattr(view, method)} - {
        "OPTIONS",
        "HEAD",
    }


def test_api_schema_lists_every_route_with_its_methods(api_schema):
    documented = {
        path: {method.upper() for method in methods}
        for path, methods in api_schema.raw_schema["paths"].items()
    }
    routes = {path: methods for path, methods in _routes().items() if not NOT_API.match(path)}
    assert sorted(set(routes) - set(documented)) == [], "routes the schema does not list"
    assert sorted(set(documented) - set(routes)) == [], "documented paths no route serves"
    for path, methods in routes.items():
        if methods:  # class-based views: the methods they handle are the documented ones
            assert methods == documented[path], path


def test_api_schema_truth_one_request_for_every_operation(api_schema):
    operations = {
        (method.upper(), path)
        for path, methods in api_schema.raw_schema["paths"].items()
        for method in methods
    }
    missing = operations - set(REQUESTS) - set(PICKS_REQUESTS)  # picks: tests/test_picks_schema_truth.py
    assert sorted(missing) == [], "documented operations without a real request here"
    assert sorted(set(REQUESTS) - operations) == [], "requests here for operations the schema does not list"


def _my_well(api_token: str, directory) -> int:
    """Upload a small LAS well (curves GR, an image ABDC of 4 sectors) as the token's user; its id."""
    import lasio
    import numpy as np

    las = lasio.LASFile()
    depth = 10 + np.arange(40) * 0.25
    las.append_curve("DEPT", depth, unit="M")
    for sector in range(1, 5):
        las.append_curve(f"ABDC{sector}M", depth / 4 + sector, unit="g/cc")
    las.append_curve("GR", depth * 2, unit="gAPI")
    path = directory / "mine.las"
    las.write(str(path), version=2.0)
    answer = Client(HTTP_AUTHORIZATION=f"Token {api_token}").post(
        "/api/v1/wells", {"file": SimpleUploadedFile("mine.las", path.read_bytes())}
    )
    assert answer.status_code == 202, answer.content[:500]
    from ingest.wells import well_ingest

    well = well_ingest(well_id=answer.json()["id"])  # the test's transaction never commits: run it here
    assert well is not None and well.status == "succeeded", well and well.error
    return well.pk


@pytest.mark.parametrize(("method", "path"), list(REQUESTS), ids=[f"{m} {p}" for m, p in REQUESTS])
def test_api_schema_truth_answer_validates(api_schema, sample_image, api_token, write_csv, method, path):
    spec = REQUESTS[(method, path)]

    ids = {ID: sample_image.pk}
    if MINE in spec.get("path", {}).values():
        upload = write_csv(["depth,col1", "1,1", "2,2"]).read_bytes()
        answer = Client(HTTP_AUTHORIZATION=f"Token {api_token}").post(
            "/api/v1/images", {"file": SimpleUploadedFile("mine.csv", upload)}
        )
        ids[MINE] = answer.json()["id"]
    if WELL in spec.get("path", {}).values():
        ids[WELL] = _my_well(api_token, write_csv(["unused"]).parent)

    def resolve(values: dict) -> dict:
        return {
            key: ids.get(value, value) if isinstance(value, str) else value for key, value in values.items()
        }

    kwargs = {"path_parameters": resolve(spec.get("path", {})), "query": resolve(spec.get("query", {}))}
    if "body" in spec:
        csv = write_csv(["depth,col1,col2", f"{len(path)},1,2", f"{len(path) + 1},3,4"]).read_bytes()
        kwargs["body"] = {key: csv if value == "csv" else value for key, value in spec["body"].items()}
        kwargs["media_type"] = "multipart/form-data"
    if "json" in spec:
        kwargs["body"], kwargs["media_type"] = spec["json"], "application/json"
    case = api_schema[path][method].Case(**kwargs)
    headers = {"Authorization": f"Token {api_token}"} if method != "GET" else {}
    response = case.call(headers=headers)
    assert 200 <= response.status_code < 300, (response.status_code, response.text[:500])
    load_all_checks()
    case.validate_response(response, checks=CHECKS.get_by_names(CHECK_NAMES), headers=headers)
