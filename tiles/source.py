"""One object serves a ready image (:class:`ImageSource`); :func:`forget` drops it when its row changes.

:meth:`ImageSource.for_image` is the only way a route (the API's viewset, the
classic frames, the tile fast lane, the viewer page) serves a ready image: the
object owns its depth axis (:class:`ingest.axis.DepthAxis`: depth <-> row, range
checks, the ``X-Depth-*`` headers), its levels and the z <-> page mapping, the
formats, and the tile, window, pixel and histogram reads (:mod:`tiles.services`,
our pyramid reader first, large_image for styles and synthesized coarse zooms).

A ready image is served from several per-process caches, all keyed by the image
id or by its pyramid's local path:

* the image sources themselves (:data:`_SOURCES`, by image id and content hash);
* ``ingest.selectors``' cache of ready rows (pk -> row, :data:`READY_CACHE_SECONDS`);
* the open pyramids (:func:`tiles.core.pyramid.pyramid_open`, by path) and large_image
  tile sources (:func:`tiles.services._open_source` and large_image's own source
  cache, by path): each holds file descriptors, so a deleted pyramid's disk space
  is freed only when they are dropped;
* the last decoded tiles (:data:`tiles.core.pyramid.DECODED_TILES`, by path);
* each level's histogram (static normalisation) on its image source;
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
import threading
from typing import BinaryIO, ClassVar

import numpy as np
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ingest.axis import DepthAxis, DepthRangeError
from ingest.models import Image
from ingest.selectors import image_forget_ready
from ingest.signals import pyramid_stored
from ingest.storage import storage_is_local
from tiles import services
from tiles.core.pyramid import decoded_forget, pyramid_open, zoom_levels
from tiles.services import (
    Grid,
    ImageNotReadyError,
    Normalization,
    Rendering,
    TileOutOfRangeError,
    Window,
    _open_source,
    _stored_pyramid,
    cached_render,
    render_key,
    structure_key,
)

logger = logging.getLogger(__name__)

#: Tile side in pixels, at every level (:mod:`ingest.pyramid` writes 256 x 256 tiles).
TILE_SIZE = 256
#: Output formats of tiles, and of regions and thumbnails (``npy``: the stored values).
TILE_FORMATS = ("png", "jpeg", "jpg", "webp")
DATA_FORMATS = (*TILE_FORMATS, "tiff", "tif", "npy")
#: Image sources kept per process (each is a few numbers; the open files are cached apart).
MAX_SOURCES = 4096


class ImageSource:
    """Everything a request needs to serve one ready image: axis, levels, formats and reads.

    Built once per image and process (:meth:`for_image`), dropped by :func:`forget`.
    Every read keeps the read budget (``DJANGO_TILES_MAX_READ_PIXELS``), checked
    before any tile is decoded.

    Attributes:
        image: the image's row (its pixels and axis never change for its id).
        axis: its depth axis (row 0 the shallowest, in ``image.depth_unit``).
        zooms: large_image's number of levels; ``z`` runs ``0..zooms - 1``, 0 the coarsest.
        rows: the image's height in pixels (its ``rows``, set once ready).
        columns: the image's width in pixels (its ``columns``).
        depth_max: the image's ``depth_max``, in ``image.depth_unit``.
    """

    tile_formats: ClassVar[tuple[str, ...]] = TILE_FORMATS
    data_formats: ClassVar[tuple[str, ...]] = DATA_FORMATS
    tile_size: ClassVar[int] = TILE_SIZE

    def __init__(self, image: Image):
        rows, columns = image.rows, image.columns
        depth_min, depth_max, depth_step = image.depth_min, image.depth_max, image.depth_step
        # A ready image has its axis and size (the job sets them with the pyramid).
        if (
            not image.is_ready
            or rows is None
            or columns is None
            or depth_min is None
            or depth_max is None
            or depth_step is None
        ):
            raise ImageNotReadyError(image)
        self.image = image
        self.rows: int = rows
        self.columns: int = columns
        self.depth_max: float = depth_max
        self.axis = DepthAxis(depth_min, depth_step, rows)
        self.zooms = zoom_levels(columns, rows, TILE_SIZE)
        #: level -> its whole histogram (static normalisation), computed once per process
        self._level_counts: dict[int, np.ndarray] = {}
        self._level_lock = threading.Lock()

    @classmethod
    def for_image(cls, image: Image) -> ImageSource:
        """The source of a ready image, built once per process (keyed by id and content hash).

        Raises:
            ImageNotReadyError: the image has no pyramid (pending, running, failed).
        """
        key = (image.pk, image.sha256)
        source = _SOURCES.get(key)
        if source is None:
            source = cls(image)
            if len(_SOURCES) >= MAX_SOURCES:
                oldest = next(iter(_SOURCES), None)  # None if forget() emptied it meanwhile
                if oldest is not None:
                    _SOURCES.pop(oldest, None)
            _SOURCES[key] = source
        return source

    # -- levels ---------------------------------------------------------------------

    def page(self, z: int) -> int:
        """The TIFF page (0 = full resolution) of large_image's level ``z`` (0 = the coarsest).

        Pages past the stored ones are levels large_image synthesizes.
        """
        return self.zooms - 1 - z

    def corners(self, z: int, x: int, y: int) -> dict:
        """Pixel corners of tile ``(z, x, y)`` in the full-resolution image, and their depths.

        Returns:
            ``xmin``, ``xmax``, ``ymin``, ``ymax`` (``xmax``/``ymax`` exclusive,
            clipped to the image), ``depth_min`` and ``depth_max`` (depths of rows
            ``ymin`` and ``ymax - 1``) and ``depth_unit``.

        Raises:
            TileOutOfRangeError: ``z`` past the levels, or a tile outside the image.
        """
        if z >= self.zooms:
            raise TileOutOfRangeError(f"level {z} is outside the pyramid (0..{self.zooms - 1})")
        span = TILE_SIZE * 2 ** self.page(z)
        xmin, ymin = x * span, y * span
        if xmin >= self.columns or ymin >= self.rows:
            raise TileOutOfRangeError(f"tile z={z} x={x} y={y} is outside the image")
        xmax, ymax = min(self.columns, xmin + span), min(self.rows, ymin + span)
        return {
            "xmin": xmin,
            "xmax": xmax,
            "ymin": ymin,
            "ymax": ymax,
            "depth_min": self.axis.depth(ymin),
            "depth_max": self.axis.depth(ymax - 1),
            "depth_unit": self.image.depth_unit,
        }

    # -- depth axis -----------------------------------------------------------------

    def window(
        self,
        *,
        depth_min: float | None = None,
        depth_max: float | None = None,
        top: int | None = None,
        bottom: int | None = None,
        left: int | None = None,
        right: int | None = None,
    ) -> Window:
        """The pixel window of a request; a depth range wins over ``top``/``bottom``.

        Args:
            depth_min: shallow end of a closed depth range, in ``image.depth_unit``
                (default the image's first row's depth when only ``depth_max`` is given).
            depth_max: deep end of it (default the last row's).
            top: first row (pixels), default 0.
            bottom: row after the last (pixels), default the image height.
            left: first column, default 0.
            right: column after the last, default the image width.

        Raises:
            DepthRangeError: a depth range with no row, reversed, or a pixel window
                that is empty or outside the image.
        """
        if depth_min is not None or depth_max is not None:
            first, stop = self.axis.rows_for(
                self.axis.depth_min if depth_min is None else depth_min,
                self.depth_max if depth_max is None else depth_max,
            )
        else:
            first = 0 if top is None else top
            stop = self.rows if bottom is None else bottom
        first, stop = max(0, first), min(self.rows, stop)
        left = 0 if left is None else max(0, left)
        right = self.columns if right is None else min(self.columns, right)
        if first >= stop or left >= right:
            raise DepthRangeError(
                f"the window rows {first}..{stop}, columns {left}..{right} is empty or outside "
                f"the image ({self.rows} rows x {self.columns} columns)"
            )
        return Window(first, stop, left, right)

    def depth_headers(self, window: Window, height: int) -> dict[str, str]:
        """The ``X-Depth-*`` and ``X-Rows`` headers of a window rendered ``height`` rows high.

        Output row ``r`` stands for the depth ``X-Depth-Min + r * X-Depth-Step``
        (:meth:`ingest.axis.DepthAxis.output_depths`).
        """
        first, last, step = self.axis.output_depths(window.top, window.bottom, height)
        return {
            "X-Depth-Min": repr(round(first, 9)),
            "X-Depth-Max": repr(round(last, 9)),
            "X-Depth-Step": repr(round(step, 12)),
            "X-Depth-Unit": self.image.depth_unit,
            "X-Rows": f"{window.top}-{window.bottom - 1}",
        }

    # -- reads ----------------------------------------------------------------------

    def tile(
        self, *, z: int, x: int, y: int, rendering: Rendering, fmt: str, style_json: str | None = None
    ) -> tuple[bytes, str]:
        """One 256 x 256 tile, encoded: ``(bytes, MIME type)`` (:func:`tiles.services.tile_render`).

        Raises:
            TileOutOfRangeError: ``(z, x, y)`` outside the pyramid.
            ReadTooLargeError: a synthesized zoom beyond the read budget.
        """
        if rendering.normalization is not None:
            page = self.page(z)
            if page < 0:
                raise TileOutOfRangeError(f"level {z} is outside the pyramid (0..{self.zooms - 1})")
            return services.normalized_tile(
                image=self.image,
                level=page,
                x=x,
                y=y,
                rendering=rendering,
                fmt=fmt,
                level_counts=lambda: self.level_counts(page),
            )
        return services.tile_render(
            image=self.image,
            page=self.page(z),
            z=z,
            x=x,
            y=y,
            rendering=rendering,
            fmt=fmt,
            style_json=style_json,
        )

    def region(
        self,
        *,
        window: Window,
        width: int,
        height: int,
        rendering: Rendering,
        fmt: str,
        style_json: str | None = None,
    ) -> tuple[bytes, str]:
        """A window at ``width`` x ``height``, encoded (:func:`tiles.services.region_render`).

        With a normalisation (not for ``npy``, which answers the stored values):
        :func:`tiles.services.normalized_region`.
        """
        if rendering.normalization is not None and fmt != "npy" and not style_json:
            return services.normalized_region(
                image=self.image,
                window=window,
                width=width,
                height=height,
                rendering=rendering,
                fmt=fmt,
                level_counts=self.level_counts,
            )
        return services.region_render(
            image=self.image,
            window=window,
            width=width,
            height=height,
            rendering=rendering,
            fmt=fmt,
            style_json=style_json,
        )

    def pixels(self, *, window: Window, width: int, height: int):
        """Unstyled pixels of a window (:func:`tiles.services.window_pixels`)."""
        return services.window_pixels(image=self.image, window=window, width=width, height=height)

    def normalized_rows(self, *, window: Window, normalization: Normalization) -> np.ndarray:
        """Full-resolution rows of a window normalised (level 0): ``(h, w, 2) uint8`` index and alpha.

        The classic frames' read (:func:`tiles.services.normalized_grid`, margins included).

        Raises:
            WindowTooWideError: the window spans more than 4,097 scanlines.
            ReadTooLargeError: the rows and their margins exceed the read budget.
        """
        grid = Grid(window.top, 1.0, window.height, window.left, 1.0, window.width)
        return services.normalized_grid(
            image=self.image,
            page=0,
            grid=grid,
            normalization=normalization,
            level_counts=lambda: self.level_counts(0),
        )

    def normalize_check(self, rendering: Rendering, row_scale: float) -> None:
        """Refuse a dynamic window too wide for a grid of ``row_scale`` rows per cell, before any read.

        Raises:
            WindowTooWideError: more than 4,097 rows (:data:`tiles.core.normalize.MAX_HALF_ROWS`).
        """
        if rendering.normalization is not None:
            services.half_rows(self.image, rendering.normalization, row_scale)

    def level_counts(self, level: int) -> np.ndarray:
        """The whole histogram of a level (static normalisation), computed once and kept.

        Kept per process on this source and in the tiles cache (shared between
        processes), keyed like every rendered output (:func:`tiles.services.render_key`);
        a herd of processes waits up to a minute for the first one's pass
        (:func:`tiles.services.level_histogram`, one read of the level's pixels).

        Returns:
            ``(256,) int64`` (uint8 images) or ``(4096,) int64`` (float32) counts.
        """
        counts = self._level_counts.get(level)
        if counts is not None:
            return counts
        with self._level_lock:
            counts = self._level_counts.get(level)
            if counts is None:
                key = render_key(self.image, "level-histogram", level=level)

                def produce() -> tuple[bytes, str]:
                    counts = services.level_histogram(image=self.image, level=level)
                    return counts.astype("<i8").tobytes(), "application/octet-stream"

                data, _ = cached_render(key, produce, wait=60.0)
                counts = np.frombuffer(data, "<i8").astype(np.int64)
                self._level_counts[level] = counts
        return counts

    def read_budget_check(self, windows: list[Window]) -> None:
        """Refuse native reads of ``windows`` beyond the budget (:func:`tiles.services.read_budget_check`)."""
        services.read_budget_check(image=self.image, windows=windows)

    def pixel(self, *, column: int, row: int | None = None, depth: float | None = None) -> dict:
        """The stored value at ``column`` and ``row`` (or the row nearest ``depth``), with its depth.

        Raises:
            DepthRangeError: no row within half a step of ``depth``, or a pixel outside the image.
        """
        if depth is not None:
            row = self.axis.row_nearest(depth)
        elif row is None:
            raise DepthRangeError("a pixel needs a row or a depth")
        value = services.pixel_value(image=self.image, row=row, column=column)
        return {
            "row": row,
            "column": column,
            "depth": self.axis.depth(row),
            "depth_unit": self.image.depth_unit,
            "value": value,
            "bands": {"1": value},
        }

    def structure_file(self) -> BinaryIO:
        """The pyramid as a read-only file object over ranged reads, its structure preloaded (tiffdump).

        Raises:
            ImageNotReadyError: no pyramid.
        """
        return services.pyramid_by_name(self.image.file.name).structure_file()

    def band_information(self) -> dict[int, dict]:
        """large_image's information of each band (:func:`tiles.services.image_band_information`)."""
        return services.image_band_information(image=self.image)

    def histogram(self, *, bins: int, only_min_max: bool, density: bool):
        """Histogram of the stored values within the budget (:func:`tiles.services.image_histogram`)."""
        return services.image_histogram(
            image=self.image, bins=bins, only_min_max=only_min_max, density=density
        )


#: (image id, sha256) -> its source; bounded by :data:`MAX_SOURCES`, dropped by :func:`forget`.
_SOURCES: dict[tuple[int, str], ImageSource] = {}


def forget(*, image_id: int, file_name: str = "", deleted: bool) -> None:
    """Drop what this process holds for one image, once its change is committed.

    Every change drops the image's cached ready row and its image sources (a
    ``public`` flag switched off must not be served from a stale row). The pixels
    of a pyramid do not depend on the row's name or flags, so a save keeps the open
    pyramids and large_image sources. A delete drops them too, to free the
    deleted pyramid's file descriptors: ``functools.lru_cache`` cannot drop one
    key, so the open pyramids and our large_image sources of every image are
    dropped (each reopens in about 5 ms on its next request), with the decoded
    tiles kept (every large_image source is ours, over our reader: large_image's own
    source cache never holds a pyramid).
    Rendered outputs need nothing: see the module.

    Args:
        image_id: the image's id (read when the signal was sent: Django clears a
            deleted instance's ``pk``).
        file_name: its pyramid's storage name, or "" if it has none.
        deleted: the row was deleted (else saved).
    """
    image_forget_ready(image_id=image_id)
    for key in [key for key in list(_SOURCES) if key[0] == image_id]:
        _SOURCES.pop(key, None)
    if not deleted or not file_name:
        return
    pyramid_open.cache_clear()
    _stored_pyramid.cache_clear()
    decoded_forget()
    _open_source.cache_clear()
    # the pyramid's parsed structure, shared by every process through the tiles cache
    caches[settings.TILES_CACHE_ALIAS].delete(structure_key(file_name))


def forget_all() -> None:
    """Drop every image's ready row, image sources, open pyramids, decoded tiles and large_image sources."""
    image_forget_ready()
    _SOURCES.clear()
    pyramid_open.cache_clear()
    _stored_pyramid.cache_clear()
    decoded_forget()
    _open_source.cache_clear()


@receiver(post_save, sender=Image, dispatch_uid="tiles.source.forget_saved")
def _forget_on_save(sender, instance: Image, **kwargs) -> None:
    """Any save of an image (a PATCH, the ingest's progress): forget its row at commit."""
    image_id = instance.pk
    transaction.on_commit(lambda: forget(image_id=image_id, deleted=False))


def share_structure(name: str) -> bool:
    """Put the TIFF structure of the stored pyramid ``name`` in the tiles cache, unless it is there.

    Runs where the pyramid was finished (the ingest job, once its success is committed:
    :data:`ingest.signals.pyramid_stored`, received by :func:`_share_on_store`):
    the structure's ranged GETs (about two per stored level) are paid there once, and
    every web process then parses the pyramid from the shared tiles cache without a
    request (:func:`tiles.services._stored_pyramid`). A failure only costs the first
    tile those GETs later, so it is logged, never raised.

    Returns:
        True when the structure is (now) in the tiles cache.
    """
    cache = caches[settings.TILES_CACHE_ALIAS]
    if cache.get(structure_key(name)) is not None:
        return True
    try:
        _stored_pyramid(name)
    except Exception:
        logger.warning("could not read the structure of %s", name, exc_info=True)
        return False
    return True


@receiver(pyramid_stored, dispatch_uid="tiles.source.share_stored")
def _share_on_store(sender, name: str, **kwargs) -> None:
    """A pyramid just stored in a bucket: share its structure (:func:`share_structure`).

    On the local disk nothing is shared: a web process parses the structure from the
    file itself in about a millisecond, with no request to save.
    """
    if name and not storage_is_local():
        share_structure(name)


@receiver(post_delete, sender=Image, dispatch_uid="tiles.source.forget_deleted")
def _forget_on_delete(sender, instance: Image, **kwargs) -> None:
    """Any delete (API, admin, a cascade from the owner): forget the image and its pyramid at commit."""
    image_id, file_name = instance.pk, instance.file.name if instance.file else ""
    transaction.on_commit(lambda: forget(image_id=image_id, file_name=file_name, deleted=True))
