"""What a process holds for an image, and :func:`forget`, which drops it all.

A ready image is served from several per-process caches, all keyed by the image
id or by its pyramid's local path:

* ``ingest.selectors``' cache of ready rows (pk -> row, :data:`READY_CACHE_SECONDS`);
* the open pyramids (:func:`tiles.core.pyramid.pyramid_open`, by path) and large_image
  tile sources (:func:`tiles.services._open_source` and large_image's own source
  cache, by path): each holds file descriptors, so a deleted pyramid's disk space
  is freed only when they are dropped;
* rendered outputs in the shared tiles cache (``DJANGO_TILES_CACHE_URL``).

Rendered outputs are keyed by image id and content hash
(:func:`tiles.services.render_key`), and every route loads the image's row, or a
row cached for at most ``READY_CACHE_SECONDS``, before it looks a key up. An id
is never reused (SQLite ``AUTOINCREMENT``, PostgreSQL sequences) and the hash
guards even against that, so once the row is gone no request can reach the
deleted image's outputs: they are unreachable at once and their memory is
reclaimed by the cache's expiry (``DJANGO_TILES_CACHE_SECONDS``) and LRU
eviction. This was chosen over a per-image generation number kept in the tiles
cache, which would make every tile request pay one more cache round trip to
guard against a state (a served key of a deleted row) the row check already
rules out. A cache cannot be enumerated, so neither choice could delete the keys.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from large_image.cache_util.cache import LruCacheMetaclass

from ingest.models import Image
from ingest.selectors import image_forget_ready
from ingest.storage import _cache_path, storage, storage_is_local
from tiles.core.pyramid import pyramid_open
from tiles.services import _open_source

logger = logging.getLogger(__name__)


def _large_image_forget(path: str) -> int:
    """Drop large_image's cached tile sources of ``path`` (its keys start with the path's repr)."""
    dropped = 0
    needle = repr(path)
    for cache, lock in LruCacheMetaclass.namedCaches.values():
        with lock:
            for key in [key for key in list(cache.keys()) if needle in str(key)]:
                cache.pop(key, None)
                dropped += 1
    return dropped


def forget(image: Image) -> None:
    """Drop everything this process holds for ``image``: ready row, open pyramid and sources.

    Called on every delete of an image and every change of its row (a ``public``
    flag switched off must not be served from a stale cached row), once the change
    is committed. ``functools.lru_cache`` cannot drop one key, so the open
    pyramids and our large_image sources of every image are dropped (each reopens
    in about 5 ms on its next request); large_image's own source cache is
    searched for the path. Rendered outputs need nothing: see the module.

    Args:
        image: the image (its row may already be deleted; ``pk`` and ``file`` are read).
    """
    image_forget_ready(image_id=image.pk)
    if not image.file:
        return
    pyramid_open.cache_clear()
    _open_source.cache_clear()
    name = image.file.name  # the local file, or a bucket's read-through copy (never downloaded here)
    _large_image_forget(str(storage().path(name) if storage_is_local() else _cache_path(name)))


@receiver(post_delete, sender=Image, dispatch_uid="tiles.source.forget_deleted")
@receiver(post_save, sender=Image, dispatch_uid="tiles.source.forget_saved")
def _forget_on_change(sender, instance: Image, **kwargs) -> None:
    """Any delete (API, admin, a cascade from the owner) or save of an image: forget it at commit."""
    transaction.on_commit(lambda: forget(instance))
