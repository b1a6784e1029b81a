"""Reads on images."""

from __future__ import annotations

import os
import time

from django.db.models import QuerySet

from ingest.models import Image


def image_list() -> QuerySet[Image]:
    """All images, newest first."""
    return Image.objects.order_by("-created", "-id")


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
    if expiry < time.monotonic() or not os.path.exists(image.file.path):
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
