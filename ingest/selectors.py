"""Reads on images."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.db.models import QuerySet

from ingest.models import Image
from ingest.storage import storage_is_local, storage_local_path


def image_list() -> QuerySet[Image]:
    """All images, newest first."""
    return Image.objects.order_by("-created", "-id")


def image_local_path(image: Image) -> Path:
    """The pyramid of an image as a file on the local disk, to open by path.

    The one way to reach a pyramid's bytes (libtiff and tifffile need a path):
    with local storage the stored file itself; with a bucket a copy in the
    read-through cache ``DATA_DIR/cache``, downloaded once for all requests
    (:func:`ingest.storage.storage_local_path`).

    Args:
        image: an image whose ``file`` is set (status ``succeeded``).

    Returns:
        An absolute path.

    Raises:
        ValueError: the image has no pyramid.
        FileNotFoundError: the pyramid is missing from the storage.
    """
    if not image.file:
        raise ValueError(f"image {image.pk} has no pyramid (status {image.status})")
    return storage_local_path(image.file.name)


def _pyramid_present(image: Image) -> bool:
    """Local storage: the pyramid is still on the disk. A bucket is not asked per request."""
    return not storage_is_local() or os.path.exists(image_local_path(image))


#: Ready images are immutable: keep them in process memory briefly so a tile
#: request does not query the database (pk -> (expiry, image)).
_READY: dict[int, tuple[float, Image]] = {}
READY_CACHE_SECONDS = 30.0
READY_CACHE_SIZE = 1024


def image_get_ready_cached(*, image_id: int) -> Image | None:
    """A succeeded image from a short in-process cache, or None if not cached.

    Only images whose status is ``succeeded`` are cached (their content never
    changes); an entry lives :data:`READY_CACHE_SECONDS`, and one whose pyramid
    is gone from the disk is dropped at once (the caller then asks the database).
    """
    entry = _READY.get(image_id)
    if entry is None:
        return None
    expiry, image = entry
    if expiry < time.monotonic() or not _pyramid_present(image):
        _READY.pop(image_id, None)
        return None
    return image


def image_forget_ready() -> None:
    """Empty the in-process cache of ready images."""
    _READY.clear()


def image_remember_ready(image: Image) -> None:
    """Put a succeeded image in the in-process cache (see :func:`image_get_ready_cached`)."""
    if image.status != Image.Status.SUCCEEDED:
        return
    if len(_READY) >= READY_CACHE_SIZE:
        _READY.clear()
    _READY[image.pk] = (time.monotonic() + READY_CACHE_SECONDS, image)
