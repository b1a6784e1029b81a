"""Values that are not integers 0..255 are stored as float32 and rendered with min/max."""

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from tiles.services import stretch_values

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


@pytest.fixture
def resistivity_csv(write_csv):
    """A 300-row x 4-column log of resistivity in ohm.m (0.5 .. 2000), one empty cell."""
    rng = np.random.default_rng(7)
    values = np.exp(rng.uniform(np.log(0.5), np.log(2000), (300, 4))).astype(np.float32)
    lines = ["depth,col1,col2,col3,col4"]
    for row, cells in enumerate(values):
        text = [f"{v:.4f}" for v in cells]
        if row == 10:
            text[2] = ""
        lines.append(f"{2000 + row * 0.25:.2f}," + ",".join(text))
    values = np.array([[float(f"{v:.4f}") for v in row] for row in values], np.float32)
    values[10, 2] = np.nan
    return write_csv(lines), values


def test_float_values_are_stored_exactly(client, resistivity_csv):
    path, values = resistivity_csv
    image = upload(client, path).json()
    assert image["status"] == "succeeded", image
    assert image["dtype"] == "float32"
    assert image["value_min"] == pytest.approx(np.nanmin(values))
    assert image["value_max"] == pytest.approx(np.nanmax(values))
    finite = np.sort(values[~np.isnan(values)])
    width = (image["value_max"] - image["value_min"]) / 4096
    assert image["value_p2"] == pytest.approx(finite[int(np.ceil(0.02 * finite.size)) - 1], abs=width)
    assert image["value_p98"] == pytest.approx(finite[int(np.ceil(0.98 * finite.size)) - 1], abs=width)
    stored = np.load(io.BytesIO(client.get(f"/api/v1/images/{image['id']}/data/region.npy").content))
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, values)
    pixel = client.get(f"/api/v1/images/{image['id']}/data/pixel?left=1&top=5").json()
    assert pixel["value"] == pytest.approx(float(values[5, 1]))
    assert client.get(f"/api/v1/images/{image['id']}/data/pixel?left=2&top=10").json()["value"] is None


def test_float_default_stretch_is_2nd_to_98th_percentile(client, resistivity_csv):
    path, values = resistivity_csv
    image = upload(client, path).json()
    response = client.get(f"/api/v1/images/{image['id']}/data/region.png?palette=viridis")
    pixels = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("RGBA")).astype(int)
    index = stretch_values(values, (image["value_p2"], image["value_p98"]))
    import matplotlib

    expected = np.round(matplotlib.colormaps["viridis"](index[..., 0]) * 255)
    visible = index[..., 1] > 0
    assert np.abs(pixels[visible] - expected[visible]).max() <= 1
    assert pixels[10, 2, 3] == 0  # nodata transparent


def test_float_explicit_min_max(client, resistivity_csv):
    path, values = resistivity_csv
    image = upload(client, path).json()
    url = f"/api/v1/images/{image['id']}/data/region.png?top=0&bottom=5&min=1&max=100"
    grey = np.asarray(PILImage.open(io.BytesIO(client.get(url).content)).convert("LA"))
    expected = np.clip(np.rint((values[:5] - 1) * 255 / 99), 0, 255)
    np.testing.assert_array_equal(grey[..., 0], expected)


def test_float_tiles_and_thumbnails_render(client, resistivity_csv):
    path, _ = resistivity_csv
    image = upload(client, path).json()
    tile = client.get(f"/api/v1/images/{image['id']}/tiles/0/0/0.png?palette=resistivity")
    assert tile.status_code == 200
    assert np.asarray(PILImage.open(io.BytesIO(tile.content)).convert("RGBA")).shape == (256, 256, 4)
    strip = client.get(f"/api/v1/images/{image['id']}/data/thumbnail.png?width=2&height=30")
    assert PILImage.open(io.BytesIO(strip.content)).size == (2, 30)


def test_float_switch_after_integer_blocks(client, write_csv, monkeypatch):
    """A file whose first blocks are integers and a later one is not: all rows end up float32, exactly."""
    monkeypatch.setattr("ingest.reader.BLOCK_BYTES", 64)  # a few scanlines per block
    lines = ["depth,col1"] + [f"{1 + i * 0.1:.1f},{i % 200}" for i in range(50)] + ["6.0,0.5"]
    image = upload(client, write_csv(lines)).json()
    assert image["dtype"] == "float32"
    stored = np.load(io.BytesIO(client.get(f"/api/v1/images/{image['id']}/data/region.npy").content))
    np.testing.assert_array_equal(stored[:50, 0], np.arange(50) % 200)
    assert stored[50, 0] == 0.5
