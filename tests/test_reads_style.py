"""No code from a request: large_image ``style`` is checked against an allow-list, through HTTP.

large_image calls ``importlib.import_module`` for every ``function`` entry of a
style (``TileSource._applyStyleFunction``), at the top level or in a band. The
marker module below writes a file when imported: the control test shows
large_image itself imports it, the others that no request of ours does.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import sys
from urllib.parse import quote

import numpy as np
import pytest
from django.test import Client
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db

MARKER_MODULE = "depthtiles_style_marker"


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """A module that, once imported, leaves ``imported.txt``; and a log of import_module calls."""
    (tmp_path / f"{MARKER_MODULE}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(tmp_path / 'imported.txt')!r}).write_text('imported')\n"
        "def run(image, **kwargs):\n    return image\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MARKER_MODULE, raising=False)
    calls: list[str] = []
    original = importlib.import_module

    def recording(name, package=None):
        calls.append(name)
        return original(name, package)

    monkeypatch.setattr(importlib, "import_module", recording)
    return {"file": tmp_path / "imported.txt", "calls": calls}


def _imported(marker) -> bool:
    return marker["file"].exists() or MARKER_MODULE in marker["calls"] or MARKER_MODULE in sys.modules


def _style(value) -> str:
    return quote(json.dumps(value))


FUNCTION = {"name": f"{MARKER_MODULE}.run"}  # stages main and band: every style shape calls it
ATTACKS = [
    ({"band": 1, "palette": "viridis", "function": FUNCTION}, "top level"),
    ({"bands": [{"band": 1, "palette": "viridis"}], "function": [FUNCTION]}, "top level"),
    ({"bands": [{"band": 1}, {"band": "alpha", "function": FUNCTION}]}, "bands[1]"),
    ({"bands": [{"band": 1, "function": f"{MARKER_MODULE}.run"}]}, "bands[0]"),
]


def test_reads_style_function_is_what_large_image_would_import(sample_image, marker):
    """Control: the attack is real. large_image, given the style, imports the module."""
    import large_image_source_tiff

    from ingest.selectors import image_local_path

    style = json.dumps({"bands": [{"band": 1, "function": FUNCTION}]})
    source = large_image_source_tiff.open(str(image_local_path(sample_image)), style=style, noCache=True)
    source.getTile(0, 0, 0)
    assert marker["file"].exists() and MARKER_MODULE in marker["calls"]
    assert _imported(marker)


@pytest.mark.parametrize(("style", "where"), ATTACKS)
@pytest.mark.parametrize(
    "route", ["tiles/3/0/1.png", "data/region.png?top=0&bottom=300", "data/thumbnail.png"]
)
def test_reads_style_function_is_400_and_imports_nothing(client, sample_image, marker, style, where, route):
    joiner = "&" if "?" in route else "?"
    response = client.get(f"/api/v1/images/{sample_image.pk}/{route}{joiner}style={_style(style)}")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_style"
    assert "'function'" in error["message"] and where in error["message"]
    assert not _imported(marker)


@pytest.mark.parametrize(("style", "where"), ATTACKS)
def test_reads_style_function_through_the_fast_lane(sample_image, marker, style, where):
    """Anonymous tile GETs without Origin are the fast lane's (tiles/middleware.py): refused there too."""
    anonymous = Client()
    assert anonymous.get(f"/api/v1/images/{sample_image.pk}/tiles/5/0/0.png").status_code == 200  # cached
    response = anonymous.get(f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png?style={_style(style)}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_style"
    assert where in response.json()["error"]["message"]
    assert not _imported(marker)


@pytest.mark.parametrize(
    ("style", "named"),
    [
        ({"band": 1, "frame": 2}, "'frame'"),
        ({"band": 1, "dtype": "uint16"}, "'dtype'"),
        ({"bands": [{"band": 1, "palette": {"nested": "object"}}]}, "bands[0]: palette"),
        ({"bands": [{"band": 1, "min": {"x": 1}}]}, "bands[0]: min"),
        ({"bands": [{"band": 1, "max": "everything"}]}, "bands[0]: max"),
        ({"band": 1, "min": float("nan")}, "min must be a finite number"),
        ({"band": 1, "nodata": "0"}, "nodata must be a number"),
        ({"band": 1, "min": 1e308, "max": 1e308}, "min must be a finite number within"),
        ({"band": 1, "nodata": -1e31}, "nodata must be a finite number within"),
        ({"band": 1, "min": 0, "max": 1e-12}, "min and max are too close"),
        ({"band": True}, "band must be"),
        ({"band": 3}, "band 3 is not a band of image"),
        ({"bands": [{"band": 1}, {"band": "red"}]}, "bands[1]: band must be"),
        ({"band": 1, "palette": "__class__.__init__"}, "palette entries"),
        ({"band": 1, "palette": ["#000", 5]}, "palette entries"),
        ({"band": 1, "palette": "no-such-colormap-anywhere"}, "is not a colormap"),
        ({"band": 1, "composite": "xor"}, "composite"),
        ({"band": 1, "clamp": "yes"}, "clamp"),
        ({"bands": []}, "bands must be a list"),
        ({"bands": [{"band": 1}] * 17}, "bands must be a list"),
        ({"bands": [[1]]}, "bands[0]: must be a JSON object"),
        ([{"band": 1}], "must be a JSON object"),
    ],
)
def test_reads_style_keys_and_values_off_the_list_are_400(client, sample_image, style, named):
    url = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png?style={_style(style)}"
    response = client.get(url)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_style" and named in error["message"], error["message"]


def test_reads_style_too_long_or_too_deep_is_400(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png"
    assert client.get(f"{base}?style={_style({'band': 1, 'palette': ['#000'] * 600})}").status_code == 400
    deep = quote("[" * 100_000 + "]" * 100_000)
    assert client.get(f"{base}?style={deep}").status_code == 400


@pytest.mark.parametrize(
    "style",
    [
        {"band": 1, "palette": "viridis", "min": "auto", "max": "max:0.98"},
        {"band": "gray", "palette": ["#000", "#f80", "#fff"], "min": 20, "max": 230, "clamp": False},
        {"bands": [{"band": 1, "palette": "magma", "scheme": "discrete"}, {"band": "alpha", "min": 0}]},
        {"bands": [{"band": 1, "nodata": 0, "palette": "#f80"}, {"band": "alpha", "composite": "multiply"}]},
    ],
)
def test_reads_style_on_the_list_renders(client, sample_image, style):
    response = client.get(f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png?style={_style(style)}")
    assert response.status_code == 200, response.content[:300]
    pixels = np.asarray(PILImage.open(io.BytesIO(response.content)))
    assert pixels.shape[:2] == (256, 256) and len(np.unique(pixels)) > 1


def test_reads_equal_min_max_give_one_cache_key_and_the_same_pixels(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png?palette=viridis"
    answers = [client.get(f"{base}&min={low}&max=200") for low in ("20", "20.0", "20.0000000001", "2e1")]
    assert len({answer["ETag"] for answer in answers}) == 1
    assert len({answer.content for answer in answers}) == 1
    other = client.get(f"{base}&min=20.5&max=200")
    assert other["ETag"] != answers[0]["ETag"] and other.content != answers[0].content
    tile = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png"
    lows = (20, 20.0, 20.0000000001)
    styled = [client.get(f"{tile}?style={_style({'band': 1, 'min': low})}") for low in lows]
    assert len({answer["ETag"] for answer in styled}) == 1


def test_reads_style_longer_than_its_bound_is_400_naming_style(client, sample_image):
    from tiles.rest.params import STYLE_MAX_LENGTH

    style = json.dumps({"band": 1, "palette": ["#000000"] * 400})
    assert len(style) > STYLE_MAX_LENGTH
    response = client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png", {"style": style})
    assert response.status_code == 400
    assert "style" in response.json()["error"]["fields"]


def test_reads_style_of_the_longest_length_fits_gunicorns_request_line():
    from tests.conftest import REPO
    from tiles.rest.params import STYLE_MAX_LENGTH

    limit = int(re.search(r"limit_request_line = (\d+)", (REPO / "gunicorn.conf.py").read_text())[1])
    worst = quote('"' * STYLE_MAX_LENGTH, safe="")  # every character encoded as %XX
    line = f"GET /api/v1/images/2147483647/data/thumbnail.png?style={worst}&palette=viridis HTTP/1.1"
    assert len(line) <= limit


def test_reads_style_nodata_masks_a_value_of_more_than_six_digits(anonymous_client, write_csv):
    """large_image masks values equal to nodata: 1234.5625 (exact in float32) is not rounded to 1234.56."""
    from ingest.services import image_create_from_path, image_ingest

    lines = ["depth,col1,col2"] + [f"{10 + r},{1234.5625 if r % 2 else 100},{r}" for r in range(64)]
    image, _ = image_create_from_path(path=write_csv(lines), name="nodata", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded" and image.dtype == "float32", image.error
    style = {"band": 1, "palette": "viridis", "min": 0, "max": 2000, "nodata": 1234.5625}
    url = f"/api/v1/images/{image.pk}/data/region.png?width=2&height=64&style={quote(json.dumps(style))}"
    response = anonymous_client.get(url)
    assert response.status_code == 200, response.content[:300]
    alpha = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("RGBA"))[:, 0, 3]
    assert (alpha[1::2] == 0).all() and (alpha[0::2] == 255).all()
