"""HTTP caching of image responses: ETag, 304, Cache-Control, one render per cold key."""

import threading
import time

import large_image_source_tiff
import pytest
from django.test import Client

from tiles import services
from tiles.core import pyramid
from tiles.core.pyramid import PyramidFile
from tiles.services import cached_render

pytestmark = pytest.mark.django_db

URLS = [
    "tiles/3/0/1.png?palette=viridis",
    "tiles/3/0/1.png",
    "data/region.png?depth_min=9100&depth_max=9110",
    "data/thumbnail.png?width=40&height=300&palette=magma",
]


@pytest.mark.parametrize("suffix", URLS)
def test_image_response_has_strong_etag_and_immutable_cache_control(client, sample_image, suffix):
    url = f"/api/v1/images/{sample_image.pk}/{suffix}"
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(url)
    assert again["ETag"] == etag and again.content == first.content
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag


def test_etag_differs_by_style_tile_and_image(client, sample_image, sample_csv):
    from ingest.services import image_create_from_path, image_ingest

    base = f"/api/v1/images/{sample_image.pk}"
    etags = {
        client.get(f"{base}/tiles/3/0/1.png")["ETag"],
        client.get(f"{base}/tiles/3/0/1.png?palette=viridis")["ETag"],
        client.get(f"{base}/tiles/3/0/1.png?palette=viridis&min=10")["ETag"],
        client.get(f"{base}/tiles/3/0/2.png")["ETag"],
        client.get(f"{base}/tiles/3/0/1.webp")["ETag"],
    }
    other, _ = image_create_from_path(path=sample_csv, force=True, queue=False)
    image_ingest(image_id=other.pk)
    etags.add(client.get(f"/api/v1/images/{other.pk}/tiles/3/0/1.png")["ETag"])
    assert len(etags) == 6


def test_stale_etag_gets_full_response(client, sample_image):
    url = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png"
    response = client.get(url, HTTP_IF_NONE_MATCH='"not-the-etag"')
    assert response.status_code == 200 and response.content


def test_errors_are_not_marked_cacheable(client, sample_image):
    response = client.get(f"/api/v1/images/{sample_image.pk}/tiles/9/0/0.png")
    assert response.status_code == 404
    assert "immutable" not in response.get("Cache-Control", "")


def test_thundering_herd_renders_a_cold_key_once():
    calls = []

    def produce():
        calls.append(1)
        time.sleep(0.3)
        return b"tile-bytes", "image/png"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cached_render("herd-test-key", produce)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [(b"tile-bytes", "image/png")] * 8


def test_pyramid_opened_once_per_image_and_process(client, sample_image, monkeypatch):
    """Tiles, regions and pixels read an open pyramid: no reopen per request, no large_image source."""
    services.pyramid_open.cache_clear()
    services._open_source.cache_clear()
    opened, sources = [], []
    monkeypatch.setattr(pyramid, "PyramidFile", lambda path: opened.append(path) or PyramidFile(path))
    real_open = large_image_source_tiff.open
    monkeypatch.setattr(
        large_image_source_tiff, "open", lambda path, **kw: sources.append(path) or real_open(path, **kw)
    )
    base = f"/api/v1/images/{sample_image.pk}"
    for top in range(0, 1000, 100):
        url = f"{base}/data/region.png?top={top}&bottom={top + 50}&palette=magma"
        assert client.get(url).status_code == 200
    for y in range(5):
        assert client.get(f"{base}/tiles/5/0/{y}.png?palette=magma").status_code == 200
    assert client.get(f"{base}/data/thumbnail.png?width=20&height=300").status_code == 200
    assert client.get(f"{base}/data/pixel?left=3&top=7").status_code == 200
    assert len(opened) == 1
    assert sources == []


def test_large_image_source_opened_once_per_image_and_process(client, sample_image, monkeypatch):
    """Sources for large_image styles stay open beyond large_image's own cache (5 under gunicorn)."""
    services._open_source.cache_clear()
    opened = []
    real_source = services.PyramidTileSource  # large_image over our reader (no local file needed)
    monkeypatch.setattr(
        services,
        "PyramidTileSource",
        lambda pyramid, **kw: opened.append(pyramid) or real_source(pyramid, **kw),
    )
    style = '{"bands": [{"band": 1, "palette": "viridis"}]}'
    for top in range(0, 1000, 100):
        url = f"/api/v1/images/{sample_image.pk}/data/region.png?top={top}&bottom={top + 50}&style={style}"
        assert client.get(url).status_code == 200
    assert len(opened) == 1


def test_image_sources_are_kept_within_a_test(sample_image):
    """(With the next test:) serving an image keeps its ImageSource for the process."""
    from tiles import source

    assert Client().get(f"/api/v1/images/{sample_image.pk}/tiles/5/0/3.png").status_code == 200
    assert [key for key in source._SOURCES if key[0] == sample_image.pk]


def test_image_sources_do_not_leak_into_the_next_test():
    """A rolled-back test never commits, so forget() never ran: the fixture empties the sources."""
    from tiles import source

    assert source._SOURCES == {} and pyramid.pyramid_open.cache_info().currsize == 0
