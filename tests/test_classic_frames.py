"""The classic depth-frame API: GET /get-images/<depth_min>/<depth_max>/ (tiles/rest/classic.py)."""

import base64
import io

import matplotlib
import numpy as np
import pytest
from PIL import Image as PILImage

from ingest.models import Image

pytestmark = pytest.mark.django_db


def frames_of(response) -> list[tuple[float, np.ndarray]]:
    """(depth, pixels) per frame: ``(h, w, 2)`` grey + alpha or ``(h, w, 4)`` RGBA."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    out = []
    for frame in response.json()["images"]:
        png = base64.b64decode(frame["image"], validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        image = PILImage.open(io.BytesIO(png))
        if image.mode in ("L", "LA"):
            pixels = np.asarray(image.convert("LA"))
        else:
            pixels = np.asarray(image.convert("RGBA"))
        out.append((frame["depth"], pixels))
    return out


def rows_between(depth: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.flatnonzero((depth >= low - 1e-9) & (depth <= high + 1e-9))


def ingest(write_csv, lines: list[str], name: str) -> Image:
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=write_csv(lines), name=name, queue=False)
    return image_ingest(image_id=image.pk)


def test_classic_frames_one_per_scanline_equal_csv_values(anonymous_client, sample_image, sample_reference):
    depth, values = sample_reference
    response = anonymous_client.get(f"/get-images/9100/9101/?image={sample_image.pk}")
    frames = frames_of(response)
    rows = rows_between(depth, 9100.0, 9101.0)
    assert rows.size == 11
    assert len(frames) == 11
    for (frame_depth, pixels), row in zip(frames, rows, strict=True):
        assert frame_depth == pytest.approx(depth[row], rel=0, abs=1e-9)
        assert pixels.shape == (1, 200, 2)  # one scanline, grey + alpha
        np.testing.assert_array_equal(pixels[0, :, 0], values[row])
        assert (pixels[..., 1] == 255).all()
    body = response.json()
    assert (body["image_id"], body["depth_unit"], body["frame_rows"]) == (sample_image.pk, "m", 1)


def test_classic_frames_viridis_equals_matplotlib(anonymous_client, sample_image, sample_reference):
    depth, values = sample_reference
    frames = frames_of(anonymous_client.get("/get-images/9300.05/9300.55/?colormap=viridis"))
    rows = rows_between(depth, 9300.05, 9300.55)
    assert len(frames) == rows.size == 5  # 9300.1 .. 9300.5
    pixels = np.concatenate([p for _, p in frames]).astype(int)
    expected = np.round(matplotlib.colormaps["viridis"](values[rows] / 255) * 255)
    assert pixels.shape == (5, 200, 4)
    assert np.abs(pixels - expected).max() <= 1
    assert [d for d, _ in frames] == pytest.approx(depth[rows].tolist(), rel=0, abs=1e-9)


def test_classic_frames_frame_rows_groups_scanlines(anonymous_client, sample_image, sample_reference):
    depth, values = sample_reference
    frames = frames_of(anonymous_client.get("/get-images/9100/9101/?frame_rows=4"))
    rows = rows_between(depth, 9100.0, 9101.0)  # 11 scanlines: frames of 4, 4 and 3
    assert [p.shape[0] for _, p in frames] == [4, 4, 3]
    # A frame's depth is its first scanline's.
    assert [d for d, _ in frames] == pytest.approx(depth[rows[[0, 4, 8]]].tolist(), rel=0, abs=1e-9)
    np.testing.assert_array_equal(np.concatenate([p[..., 0] for _, p in frames]), values[rows])


def test_classic_frames_default_to_newest_ready_image(anonymous_client, sample_image, write_csv):
    newest = ingest(write_csv, ["depth,col1,col2", "1.0,10,20", "1.5,30,40"], "small")
    failed = ingest(write_csv, ["depth,col1", "1.0,abc"], "broken")
    assert (newest.status, failed.status) == ("succeeded", "failed")
    frames = frames_of(anonymous_client.get("/get-images/0/2/"))
    assert anonymous_client.get("/get-images/0/2/").json()["image_id"] == newest.pk
    assert [d for d, _ in frames] == [1.0, 1.5]
    np.testing.assert_array_equal(frames[1][1][..., 0], [[30, 40]])
    # The older image is still reachable by id.
    assert anonymous_client.get(f"/get-images/9100/9100/?image={sample_image.pk}").status_code == 200


def test_classic_frames_nodata_rows_are_transparent(anonymous_client, write_csv):
    ingest(write_csv, ["depth,col1,col2", "1.0,10,20", "1.1,30,40", "1.3,50,60"], "gap")
    frames = frames_of(anonymous_client.get("/get-images/1.0/1.3/?colormap=viridis"))
    assert [d for d, _ in frames] == pytest.approx([1.0, 1.1, 1.2, 1.3])
    alphas = [int(p[..., 3].max()) for _, p in frames]
    assert alphas == [255, 255, 0, 255]  # 1.2 is a gap: nodata


def test_classic_frames_float_image_is_stretched(anonymous_client, write_csv):
    image = ingest(write_csv, ["depth,col1,col2", "1.0,0.5,1500", "1.1,2.5,-3"], "float")
    assert image.dtype == "float32"
    frames = frames_of(anonymous_client.get("/get-images/1.0/1.1/?min=-3&max=1500"))
    values = np.array([[0.5, 1500], [2.5, -3]])
    expected = np.rint((values + 3) * 255 / 1503)
    np.testing.assert_array_equal(np.concatenate([p[..., 0] for _, p in frames]), expected)


def test_classic_frames_no_scanline_in_range_is_404(anonymous_client, sample_image):
    response = anonymous_client.get("/get-images/100/200/")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "no_scanline_in_range"
    assert "9000.1..9546" in error["message"]
    # Between two scanlines: no row either.
    assert anonymous_client.get("/get-images/9100.01/9100.02/").status_code == 404


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/get-images/9101/9100/", "depth_min"),
        ("/get-images/abc/9100/", "depth_min"),
        ("/get-images/9100/nan/", "depth_max"),
        ("/get-images/9100/9101/?colormap=no-such-map", "colormap"),
        ("/get-images/9100/9101/?frame_rows=0", "frame_rows"),
        ("/get-images/9100/9101/?image=abc", "image"),
        ("/get-images/9100/9101/?min=200&max=100", "min"),
    ],
)
def test_classic_frames_bad_parameter_is_400(anonymous_client, sample_image, url, field):
    response = anonymous_client.get(url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert field in error["fields"], error


def test_classic_frames_over_max_frames_is_400_with_the_limit(anonymous_client, sample_image, settings):
    settings.MAX_FRAMES = 10
    response = anonymous_client.get("/get-images/9100/9101/")  # 11 scanlines
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "output_too_large"
    assert "11 frames" in error["message"] and error["limit"] == 10
    assert "DJANGO_MAX_FRAMES" in error["message"]
    assert len(frames_of(anonymous_client.get("/get-images/9100/9101/?frame_rows=2"))) == 6


def test_classic_frames_whole_sample_within_default_limit(anonymous_client, sample_image, settings):
    assert settings.MAX_FRAMES == 10000
    body = anonymous_client.get("/get-images/0/100000/?colormap=resistivity").json()
    assert len(body["images"]) == 5460
    assert body["images"][-1]["depth"] == pytest.approx(9546.0)


def test_classic_frames_without_ready_image_is_404(anonymous_client, db):
    response = anonymous_client.get("/get-images/0/1/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_classic_frames_unknown_image_is_404(anonymous_client, sample_image):
    response = anonymous_client.get("/get-images/9100/9101/?image=999999")
    assert response.status_code == 404
    assert "999999" in response.json()["error"]["message"]


def test_classic_frames_image_not_ready_is_409(anonymous_client, db):
    image = Image.objects.create(name="pending", sha256="0" * 64)
    response = anonymous_client.get(f"/get-images/0/1/?image={image.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["status"] == "pending"


def test_classic_frames_readable_from_allowed_origin(anonymous_client, sample_image, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://dash.example.org"]
    response = anonymous_client.get("/get-images/9100/9100/", HTTP_ORIGIN="https://dash.example.org")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://dash.example.org"
    other = anonymous_client.get("/get-images/9100/9100/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
