"""Serving: tiles, regions, thumbnails and pixels of an ingested image.

Pixels come from the pyramid through large_image's ``tiff`` source, unstyled
(value and alpha); colour is applied here with a lookup table
(:mod:`tiles.core.style`) and output is encoded in memory, so no request writes
a file. A raw large_image ``style`` (JSON) is honoured by letting large_image
apply it instead, once it passes the allow-list (:func:`tiles.core.style.large_image_style`:
no ``function``, so nothing is imported or called from a URL).

Every read has a budget, ``TILES_MAX_READ_PIXELS`` pixels of stored tiles,
checked before any tile is decoded (:class:`tiles.core.pyramid.ReadTooLargeError`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import large_image_source_tiff
import numpy as np
from django.conf import settings
from django.core.cache import caches
from large_image.constants import TILE_FORMAT_NUMPY
from large_image.exceptions import TileSourceError, TileSourceXYZRangeError
from PIL import Image as PILImage

from ingest.axis import DepthRangeError
from ingest.models import Image
from ingest.selectors import image_local_path
from tiles.core.normalize import (
    dynamic_normalize,
    half_window_rows,
    histogram,
    static_normalize,
    value_bins,
)
from tiles.core.pyramid import PyramidFile, ReadTooLargeError, TileIndexError, pyramid_open, zoom_levels
from tiles.core.render import (
    FORMATS,
    check_output_size,
    encode,
    encode_floats,
    render,
    resample,
    resample_float,
)
from tiles.core.style import Style, StyleError, large_image_style, style_bands

#: Part of every cache key and ETag: bump it when rendered bytes change for the
#: same request, so caches and browsers do not keep output of older code.
RENDER_VERSION = 3  # 3: PNGs whose every palette index is used are written by tiles.core.png

#: How long a thundering herd waits for the one request that renders.
HERD_WAIT_SECONDS = 5.0


class ImageNotReadyError(Exception):
    """The image has no pyramid yet (pending, running) or never will (failed)."""

    def __init__(self, image: Image):
        self.image = image
        if image.status == Image.Status.FAILED:
            message = f"image {image.pk} failed to ingest: {image.error}"
        else:
            message = f"image {image.pk} is {image.status} ({image.progress:.0%}); try again later"
        super().__init__(message)


class TileOutOfRangeError(Exception):
    """A tile address outside the pyramid."""


#: Values of the ``normalize`` parameter (:mod:`tiles.core.normalize`).
NORMALIZE_MODES = ("none", "static", "dynamic")
#: Default dynamic window length per depth unit (issue 14: 0.6 m, 2 ft).
DEFAULT_WINDOW = {"m": 0.6, "ft": 2.0}


@dataclass(frozen=True)
class Normalization:
    """Static or dynamic normalisation of an image (:mod:`tiles.core.normalize`).

    Attributes:
        mode: ``static`` (ranked in the whole level) or ``dynamic`` (in a sliding window).
        window: dynamic only: the window length in the image's depth unit (0 for static).
    """

    mode: str
    window: float = 0.0


@dataclass(frozen=True)
class Rendering:
    """A style resolved for one image.

    Attributes:
        style: applied to uint8 values (uint8 images), to stretch indices, or to
            the percentile palette indices of a normalisation.
        stretch: float32 images only: ``(low, high)``, the values mapped linearly
            to indices 0..255 (clamped) before ``style`` applies; colours are
            thus quantised to 256 steps of the stretch, like a uint8 image's.
        normalization: when set, the palette index of a value is its percentile
            (:mod:`tiles.core.normalize`); ``style`` then has min 0 and max 255
            and ``stretch`` is None.
    """

    style: Style
    stretch: tuple[float, float] | None = None
    normalization: Normalization | None = None

    def stretched(self, values: np.ndarray) -> np.ndarray:
        """Float32 values stretched by this rendering (:func:`stretch_values`).

        Raises:
            ValueError: the rendering has no stretch (a uint8 image's).
        """
        if self.stretch is None:
            raise ValueError("a uint8 image's rendering has no stretch")
        return stretch_values(values, self.stretch)


def resolve_style(
    *,
    image: Image,
    palette: tuple | None,
    vmin: float | None = None,
    vmax: float | None = None,
    normalize: str = "none",
    window: float | None = None,
) -> Rendering:
    """The rendering of ``palette`` with optional ``min``/``max`` or a normalisation on ``image``.

    uint8 images: ``min``/``max`` default to 0 and 255 (the stored values, as
    large_image's default). float32 images: they default to the 2nd and 98th
    percentiles recorded at ingest. With ``normalize`` static or dynamic the
    palette index is the value's percentile, so ``min``/``max`` do not apply
    (ignored); ``window`` (dynamic only, depth unit) defaults to
    :data:`DEFAULT_WINDOW` of the image's depth unit.
    """
    if normalize != "none":
        length = 0.0
        if normalize == "dynamic":
            length = DEFAULT_WINDOW.get(image.depth_unit, 0.6) if window is None else float(window)
        return Rendering(Style(palette=palette), normalization=Normalization(normalize, length))
    if image.dtype != "float32":
        return Rendering(
            Style(palette=palette, vmin=0.0 if vmin is None else vmin, vmax=255.0 if vmax is None else vmax)
        )
    low = image.value_p2 if vmin is None else vmin
    high = image.value_p98 if vmax is None else vmax
    low = 0.0 if low is None else low
    high = low + 1.0 if high is None or high <= low else high
    return Rendering(Style(palette=palette), (float(low), float(high)))


def stretch_values(values: np.ndarray, stretch: tuple[float, float]) -> np.ndarray:
    """float32 values (NaN nodata) -> ``(h, w, 2) uint8`` stretch index and alpha.

    Index ``round((v - low) / (high - low) * 255)``, clamped to 0..255.
    """
    low, high = stretch
    valid = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        index = np.clip(np.rint((values - low) * (255.0 / (high - low))), 0, 255)
    raw = np.zeros((*values.shape, 2), np.uint8)
    raw[..., 0][valid] = index[valid].astype(np.uint8)
    raw[..., 1][valid] = 255
    return raw


@dataclass(frozen=True)
class Window:
    """A pixel window of the full-resolution image, half-open.

    Attributes:
        top: first row (0 = shallowest).
        bottom: row after the last.
        left: first column.
        right: column after the last.
    """

    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


#: Tile sources kept open per process. large_image keeps its own cache of them,
#: but sizes it from memory as if each held 100s of MB (5 under gunicorn on our
#: 24 GB machines): a dashboard cycling through more images than that reopened
#: a source, about 5 ms, on nearly every request. One of ours holds a few file
#: handles and the level directories.
OPEN_SOURCES = 64


@functools.lru_cache(maxsize=OPEN_SOURCES)
def _open_source(path: str, style_json: str | None):
    kwargs = {"style": style_json} if style_json else {}
    return large_image_source_tiff.open(path, **kwargs)


def _source(image: Image, style_json: str | None = None):
    """The large_image tile source of an image, kept open (:data:`OPEN_SOURCES`).

    The pyramid at a path never changes (its name holds the image id and the
    content hash), so an open source never goes stale.
    """
    if not image.is_ready:
        raise ImageNotReadyError(image)
    try:
        return _open_source(str(image_local_path(image)), style_json or None)
    except TileSourceError as exc:
        if style_json:
            raise StyleError(f"large_image cannot use this style: {exc}") from None
        raise


def _pyramid(image: Image) -> PyramidFile:
    """Our open pyramid of a ready image (:func:`tiles.core.pyramid.pyramid_open`).

    Raises:
        ImageNotReadyError: no pyramid yet.
    """
    if not image.is_ready:
        raise ImageNotReadyError(image)
    return pyramid_open(str(image_local_path(image)))


def _large_image_pixels(array: np.ndarray) -> np.ndarray:
    """large_image's styled float output -> ``(h, w, 4) uint8`` RGBA (or grey+alpha)."""
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.shape[2] in (2, 4):
        return array
    if array.shape[2] == 1:
        return np.dstack([array[..., 0], np.full(array.shape[:2], 255, np.uint8)])
    return np.dstack([array[..., :3], np.full(array.shape[:2], 255, np.uint8)])


def unused_value(image: Image) -> int | None:
    """A byte value no stored pixel of a uint8 image holds, or None.

    Every level's value is a mean of full-resolution values, so a value outside
    ``[value_min, value_max]`` (recorded at ingest) appears at no level.
    """
    if image.dtype != "uint8" or image.value_min is None or image.value_max is None:
        return None
    if image.value_min > 0:
        return 0
    if image.value_max < 255:
        return 255
    return None


def tile_render(
    *,
    image: Image,
    page: int,
    z: int,
    x: int,
    y: int,
    rendering: Rendering,
    fmt: str,
    style_json: str | None = None,
) -> tuple[bytes, str]:
    """One 256 x 256 tile, encoded (served through :meth:`tiles.source.ImageSource.tile`).

    Args:
        image: a ready image.
        page: the TIFF page of ``z`` (0 = full resolution;
            :meth:`tiles.source.ImageSource.page`); past the stored pages, a
            level large_image synthesizes.
        z: large_image level, 0 = the coarsest (whole image in one tile).
        x: tile column at that level.
        y: tile row at that level (0 = shallowest).
        rendering: colour mapping (:func:`resolve_style`).
        fmt: output format (png, jpeg, webp).
        style_json: a large_image style; when given, large_image renders.

    Returns:
        (bytes, MIME type). Parts of an edge tile beyond the image are transparent.

    Raises:
        ImageNotReadyError: no pyramid.
        TileOutOfRangeError: (z, x, y) outside the pyramid.
        ReadTooLargeError: a zoom coarser than the stored levels whose source
            tiles exceed ``TILES_MAX_READ_PIXELS`` (checked before decoding).
    """
    pyramid = _pyramid(image)
    if style_json:
        _style_check(image, pyramid, style_json)
    stored = 0 <= page < pyramid.pages
    if page >= pyramid.pages:  # large_image builds it from the coarsest stored page's tiles
        _synthesized_tile_budget(pyramid, page, x, y)
    try:
        if stored and not style_json:  # our own tile: one pread and one decode, no large_image source
            tile = pyramid.tile(page, x, y)
        else:  # a coarser zoom large_image builds, or a large_image style
            tile = _source(image, style_json).getTile(x, y, z, numpyAllowed="always")
    except (TileSourceXYZRangeError, TileIndexError) as exc:
        raise TileOutOfRangeError(
            f"tile z={z} x={x} y={y} is outside the pyramid (levels 0..{page + z}): {exc}"
        ) from None
    if tile.ndim == 2:
        tile = tile[..., np.newaxis]
    if style_json:
        return encode(_large_image_pixels(tile), fmt)
    if rendering.stretch:
        return render(stretch_values(tile[..., 0], rendering.stretch), rendering.style, fmt)
    # Levels coarser than the stored ones are large_image's own reductions, not ours: count there.
    return render(tile, rendering.style, fmt, unused=unused_value(image) if stored else None)


def _synthesized_tile_budget(pyramid: PyramidFile, page: int, x: int, y: int) -> None:
    """Refuse a tile coarser than the stored pages whose source tiles exceed the read budget.

    large_image composes such a tile (of a page past the stored ones) from the tiles
    of the coarsest stored page under it (``2 ** d`` x ``2 ** d`` of them, ``d``
    pages below), clipped to the image.

    Raises:
        ReadTooLargeError: more than ``TILES_MAX_READ_PIXELS`` pixels to decode.
    """
    coarsest = pyramid.pages - 1
    span = 256 * 2 ** (page - coarsest)
    tiles = pyramid.window_tiles(coarsest, y * span, (y + 1) * span, x * span, (x + 1) * span)
    pixels = tiles * pyramid.tile_pixels(coarsest)
    if pixels > settings.TILES_MAX_READ_PIXELS:
        raise ReadTooLargeError(
            f"tile x={x} y={y} at this zoom is built from {tiles} stored tiles ({pixels} pixels); "
            f"the read budget is {settings.TILES_MAX_READ_PIXELS} (DJANGO_TILES_MAX_READ_PIXELS): "
            "use a finer zoom",
            limit=settings.TILES_MAX_READ_PIXELS,
        )


def read_budget_check(*, image: Image, windows: list[Window]) -> None:
    """Refuse full-resolution reads of ``windows`` that together exceed the read budget.

    For requests that read several windows at native size (the classic frames).

    Raises:
        ImageNotReadyError: no pyramid.
        ReadTooLargeError: their tiles hold more than ``TILES_MAX_READ_PIXELS`` pixels.
    """
    pyramid = _pyramid(image)
    tiles = sum(pyramid.window_tiles(0, w.top, w.bottom, w.left, w.right) for w in windows)
    pixels = tiles * pyramid.tile_pixels(0)
    if pixels > settings.TILES_MAX_READ_PIXELS:
        raise ReadTooLargeError(
            f"the request would decode {pixels} pixels ({tiles} stored tiles at full resolution); "
            f"the read budget is {settings.TILES_MAX_READ_PIXELS} (DJANGO_TILES_MAX_READ_PIXELS): "
            "narrow the depth range",
            limit=settings.TILES_MAX_READ_PIXELS,
        )


def output_size(
    window: Window,
    *,
    width: int | None = None,
    height: int | None = None,
    max_width: int | None = None,
    max_height: int | None = None,
) -> tuple[int, int]:
    """Output size in pixels for a window.

    ``width`` and ``height`` together give exactly that size (a strip of a tall
    log stays a strip). One of them alone scales the other to keep the aspect
    ratio. Otherwise ``max_width``/``max_height`` bound the native size, keeping
    the aspect ratio (never enlarging).
    """
    w, h = window.width, window.height
    if width and height:
        return width, height
    if width:
        return width, max(1, round(h * width / w))
    if height:
        return max(1, round(w * height / h)), height
    scale = 1.0
    if max_width:
        scale = min(scale, max_width / w)
    if max_height:
        scale = min(scale, max_height / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def window_pixels(
    *, image: Image, window: Window, width: int, height: int, style_json: str | None = None
) -> np.ndarray:
    """Read a window at the pyramid level closest to (and not coarser than) the output, within the budget.

    The TIFF page is :meth:`tiles.core.pyramid.PyramidFile.read_page`'s: the
    coarsest stored page still at least as large as the output in both axes,
    or, when its tiles hold more than ``TILES_MAX_READ_PIXELS`` pixels, a
    coarser one still at least as large in the axis that shrinks most.

    Args:
        image: a ready image.
        window: full-resolution pixel window.
        width: output width in pixels.
        height: output height in pixels.
        style_json: a large_image style applied by large_image.

    Returns:
        Without ``style_json``: ``(height, width, 2) uint8`` value + alpha for a
        uint8 image, ``(height, width) float32`` (NaN nodata) for a float32 one.
        With it: large_image's styled pixels at a power-of-two reduction of the
        window (the caller resizes).

    Raises:
        ReadTooLargeError: no level serves the output within the read budget
            (checked before any tile is decoded).
    """
    pyramid = _pyramid(image)
    page = pyramid.read_page(
        top=window.top,
        bottom=window.bottom,
        left=window.left,
        right=window.right,
        width=width,
        height=height,
        max_pixels=settings.TILES_MAX_READ_PIXELS,
    )
    reduction = 2**page
    if style_json:
        _style_check(image, pyramid, style_json)
        return _large_image_window(image, window, reduction, style_json)
    # The stored page covering the window, rounded out to whole page pixels; the
    # resampler's box keeps the exact (fractional) window, so no row is misplaced.
    rows, columns = pyramid.shapes[page]
    top, left = window.top // reduction, window.left // reduction
    bottom = min(rows, -(-window.bottom // reduction))
    right = min(columns, -(-window.right // reduction))
    array = pyramid.window(page, top, bottom, left, right)
    box = (
        window.left / reduction - left,
        window.top / reduction - top,
        min(window.right / reduction, right) - left,
        min(window.bottom / reduction, bottom) - top,
    )
    if image.dtype == "float32":
        return resample_float(array[..., 0], width, height, box)
    return resample(array, width, height, box)


def _large_image_window(image: Image, window: Window, reduction: int, style_json: str) -> np.ndarray:
    """large_image's styled pixels of a window at a power-of-two reduction (the caller resizes).

    The output asked of large_image is the window's size at ``reduction`` rounded
    down: large_image reads the finest level at least that large, so rounding up
    would read the next finer level, up to 4x the pixels the budget checked.
    """
    region = {
        "left": window.left,
        "top": window.top,
        "right": window.right,
        "bottom": window.bottom,
        "units": "base_pixels",
    }
    kwargs = {"format": TILE_FORMAT_NUMPY, "region": region}
    if reduction > 1:
        kwargs["output"] = {
            "maxWidth": max(1, window.width // reduction),
            "maxHeight": max(1, window.height // reduction),
        }
    array, _ = _source(image, style_json).getRegion(**kwargs)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    return _large_image_pixels(array)


def region_render(
    *,
    image: Image,
    window: Window,
    width: int,
    height: int,
    rendering: Rendering,
    fmt: str,
    style_json: str | None = None,
) -> tuple[bytes, str]:
    """A window of the image at ``width`` x ``height``, coloured and encoded.

    ``npy`` answers the stored values themselves (uint8, or float32 with NaN for
    nodata), without colour.

    Raises:
        OutputTooLargeError: the output exceeds ``TILES_MAX_OUTPUT_PIXELS`` or
            the format's side limit (checked before any pixel is read).
        ImageNotReadyError: no pyramid.
    """
    check_output_size(width, height, fmt, settings.TILES_MAX_OUTPUT_PIXELS)
    if fmt == "npy":
        style_json = None  # raw values: no colour
    pixels = window_pixels(image=image, window=window, width=width, height=height, style_json=style_json)
    if not style_json:
        if image.dtype == "float32":
            if fmt == "npy":
                return encode_floats(pixels), FORMATS["npy"][1]
            return render(rendering.stretched(pixels), rendering.style, fmt)
        return render(pixels, rendering.style, fmt, unused=unused_value(image))
    if pixels.shape[:2] != (height, width):
        resized = PILImage.fromarray(pixels).resize((width, height), PILImage.Resampling.BOX)
        pixels = np.asarray(resized)
    return encode(pixels, fmt)


# -- normalisation (issue 14) ------------------------------------------------------------


#: Slack for floating-point error in grid coordinates (pixels).
GRID_EPSILON = 1e-6


@dataclass(frozen=True)
class Grid:
    """Output cells laid over the full-resolution image: ``height`` x ``width`` cells.

    Row ``i`` covers full-resolution rows ``[top + i * row_scale, top + (i + 1) * row_scale)``
    (fractional; a cell may reach past the image's last row: the part outside is
    nodata), and likewise for columns. A level ``L`` of the pyramid is the grid of
    scale ``2 ** L`` from row 0; a tile is part of it; a region is the grid of its
    window at its output size.

    Attributes:
        top: first row's top edge, full-resolution rows.
        row_scale: full-resolution rows per cell (> 0).
        height: cells down.
        left: first column's left edge, full-resolution columns.
        col_scale: full-resolution columns per cell (> 0).
        width: cells across.
    """

    top: float
    row_scale: float
    height: int
    left: float
    col_scale: float
    width: int

    @property
    def bottom(self) -> float:
        return self.top + self.height * self.row_scale

    @property
    def right(self) -> float:
        return self.left + self.width * self.col_scale

    def extended(self, above: int, below: int) -> Grid:
        """The same grid with ``above`` more cells over its first row and ``below`` under its last."""
        return Grid(
            self.top - above * self.row_scale,
            self.row_scale,
            self.height + above + below,
            self.left,
            self.col_scale,
            self.width,
        )

    @classmethod
    def of_level(
        cls, *, rows: int, columns: int, level: int, first: int, stop: int, left: int, right: int
    ) -> Grid:
        """Cells ``first..stop - 1`` (rows) and ``left..right - 1`` (columns) of level ``level``.

        The level's grid has scale ``2 ** level`` from row and column 0.

        Args:
            rows: full-resolution rows of the image (to clip ``stop``).
            columns: full-resolution columns (to clip ``right``).
            level: the level (page of scale ``2 ** level``; past the stored pages too).
            first: first cell row.
            stop: the cell row after the last (clipped to the level).
            left: first cell column.
            right: the cell column after the last (clipped).
        """
        scale = 2**level
        stop = min(stop, -(-rows // scale))
        right = min(right, -(-columns // scale))
        return cls(first * scale, scale, stop - first, left * scale, scale, right - left)


def _snap(value: float) -> float:
    """``value``, or the integer it is within :data:`GRID_EPSILON` of (exact page reads)."""
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < GRID_EPSILON else value


def _grid_read(
    pyramid: PyramidFile, page: int, grid: Grid
) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float]]:
    """The stored rows/columns of ``page`` under a grid (clipped to the page), and the grid's box in them."""
    reduction = 2**page
    rows, columns = pyramid.shapes[page]
    top, bottom = _snap(grid.top / reduction), _snap(grid.bottom / reduction)
    left, right = _snap(grid.left / reduction), _snap(grid.right / reduction)
    r0, c0 = max(0, math.floor(top)), max(0, math.floor(left))
    r1, c1 = min(rows, math.ceil(bottom)), min(columns, math.ceil(right))
    return (r0, r1, c0, c1), (left - c0, top - r0, right - c0, bottom - r0)


def grid_budget_check(pyramid: PyramidFile, page: int, grid: Grid) -> None:
    """Refuse a grid whose stored tiles on ``page`` hold more than ``TILES_MAX_READ_PIXELS`` pixels.

    Raises:
        ReadTooLargeError: before any tile is decoded.
    """
    (r0, r1, c0, c1), _ = _grid_read(pyramid, page, grid)
    tiles = pyramid.window_tiles(page, r0, r1, c0, c1)
    pixels = tiles * pyramid.tile_pixels(page)
    if pixels > settings.TILES_MAX_READ_PIXELS:
        raise ReadTooLargeError(
            f"the request (with the rows its normalisation window needs) would decode {pixels} pixels "
            f"({tiles} stored tiles); the read budget is {settings.TILES_MAX_READ_PIXELS} "
            "(DJANGO_TILES_MAX_READ_PIXELS): narrow the depth range or the window",
            limit=settings.TILES_MAX_READ_PIXELS,
        )


def grid_values(image: Image, pyramid: PyramidFile, page: int, grid: Grid) -> np.ndarray:
    """The values of a grid's cells, box-averaged over valid pixels of a stored page.

    Cells (or parts) past the image are nodata. A grid aligned on the page's pixels
    at the page's scale is the page itself (no resampling).

    Returns:
        ``(height, width, 2) uint8`` value + alpha (uint8 images), ``(height, width) float32``
        (NaN nodata) for float32 images.
    """
    (r0, r1, c0, c1), box = _grid_read(pyramid, page, grid)
    array = pyramid.window(page, r0, r1, c0, c1)
    below, after = max(0, math.ceil(box[3]) - (r1 - r0)), max(0, math.ceil(box[2]) - (c1 - c0))
    if below or after:  # cells reaching past the image: nodata there
        fill = np.nan if array.dtype.kind == "f" else 0
        array = np.pad(array, ((0, below), (0, after), (0, 0)), constant_values=fill)
    if image.dtype == "float32":
        return resample_float(array[..., 0], grid.width, grid.height, box)
    return resample(array, grid.width, grid.height, box)


def value_range(image: Image) -> tuple[float, float] | None:
    """The range float32 values are binned over (the image's, recorded at ingest), or None (uint8)."""
    if image.dtype != "float32":
        return None
    low = 0.0 if image.value_min is None else float(image.value_min)
    high = low + 1.0 if image.value_max is None else float(image.value_max)
    return low, high


def level_of(image: Image, row_scale: float) -> int:
    """The pyramid level nearest a grid of ``row_scale`` rows per cell: ``round(log2(row_scale))``.

    Clamped to the image's levels (``0..zooms - 1``).
    """
    levels = zoom_levels(image.columns or 1, image.rows or 1)
    return min(levels - 1, max(0, round(math.log2(max(row_scale, 1.0)))))


def half_rows(image: Image, normalization: Normalization, row_scale: float) -> int:
    """Rows on each side of a cell in a dynamic window (0 for static), on a grid of ``row_scale``.

    Raises:
        WindowTooWideError: the window spans more than 4,097 rows of the grid.
    """
    if normalization.mode != "dynamic":
        return 0
    return half_window_rows(normalization.window, row_scale * float(image.depth_step or 1.0))


def level_histogram(*, image: Image, level: int) -> np.ndarray:
    """The histogram of a whole level's values (for static normalisation): one streamed pass.

    Reads the level's grid 256 rows at a time (from its stored page, or for a level
    past the stored ones from the coarsest stored page, box-averaged), so memory
    stays one band of rows. Not held to ``TILES_MAX_READ_PIXELS``: it reads each
    stored pixel of one page once, so its cost is bounded by the image's size (the
    ingest's caps), and the caller keeps the answer (per process and in the tiles
    cache) for good: an image's pixels never change for its id.

    Returns:
        ``(256,) int64`` (uint8 images) or ``(4096,) int64`` (float32) counts
        (:func:`tiles.core.normalize.value_bins`).
    """
    pyramid = _pyramid(image)
    rows, columns = pyramid.shapes[0]
    page = min(level, pyramid.pages - 1)
    stop = -(-rows // 2**level)
    counts: np.ndarray | None = None
    for first in range(0, stop, 256):
        grid = Grid.of_level(
            rows=rows, columns=columns, level=level, first=first, stop=first + 256, left=0, right=columns
        )
        bins, valid, count = value_bins(grid_values(image, pyramid, page, grid), value_range(image))
        part = histogram(bins, valid, count)
        counts = part if counts is None else counts + part
    if counts is None:  # unreachable: a ready image has rows
        raise ValueError(f"image {image.pk} has no rows")
    return counts


def normalized_grid(
    *,
    image: Image,
    page: int,
    grid: Grid,
    normalization: Normalization,
    level_counts: Callable[[], np.ndarray] | None = None,
) -> np.ndarray:
    """A grid's cells normalised (:mod:`tiles.core.normalize`): palette index and alpha.

    Dynamic: the grid is extended by the rows the windows of its first and last rows
    need (clamped at the image's ends), read, normalised, and cut back, so a tile
    equals the same rows of a region on the same grid (no seams).

    Args:
        image: a ready image.
        page: the stored page to read (the grid's level, or the coarsest stored one).
        grid: the cells to normalise.
        normalization: static or dynamic.
        level_counts: static only: answers the whole level's histogram (:func:`level_histogram`).

    Returns:
        ``(grid.height, grid.width, 2) uint8``.

    Raises:
        WindowTooWideError: the dynamic window spans more than 4,097 rows of the grid.
        ReadTooLargeError: the grid with its margins exceeds the read budget.
    """
    pyramid = _pyramid(image)
    rows = pyramid.shapes[0][0]
    half = half_rows(image, normalization, grid.row_scale)
    above = min(half, math.floor(grid.top / grid.row_scale + GRID_EPSILON))
    below = max(0, min(half, math.ceil((rows - grid.bottom) / grid.row_scale - GRID_EPSILON)))
    extended = grid.extended(above, below)
    grid_budget_check(pyramid, page, extended)
    bins, valid, count = value_bins(grid_values(image, pyramid, page, extended), value_range(image))
    if normalization.mode == "static":
        if level_counts is None:
            raise ValueError("static normalisation needs the level's histogram")
        return static_normalize(bins, valid, level_counts())
    return dynamic_normalize(bins, valid, count=count, half=half, first=above, last=above + grid.height)


def normalized_tile(
    *,
    image: Image,
    level: int,
    x: int,
    y: int,
    rendering: Rendering,
    fmt: str,
    level_counts: Callable[[], np.ndarray] | None = None,
) -> tuple[bytes, str]:
    """One 256 x 256 tile of a normalised level, encoded: the cells of the level's grid under it.

    Levels past the stored pages are the coarsest stored page box-averaged
    (nodata-aware) to the level's scale. Cells beyond the image are transparent.

    Args:
        image: a ready image.
        level: the page of the tile (0 = full resolution; :meth:`tiles.source.ImageSource.page`).
        x: tile column.
        y: tile row (0 = shallowest).
        rendering: a rendering with a normalisation.
        fmt: png, jpeg, webp.
        level_counts: static only: the level's histogram.

    Raises:
        TileOutOfRangeError: the tile is outside the level.
        WindowTooWideError, ReadTooLargeError: see :func:`normalized_grid`.
    """
    if rendering.normalization is None:
        raise ValueError("normalized_tile needs a rendering with a normalisation")
    pyramid = _pyramid(image)
    rows, columns = pyramid.shapes[0]
    grid = Grid.of_level(
        rows=rows,
        columns=columns,
        level=level,
        first=y * 256,
        stop=(y + 1) * 256,
        left=x * 256,
        right=(x + 1) * 256,
    )
    if grid.height <= 0 or grid.width <= 0:
        raise TileOutOfRangeError(f"tile x={x} y={y} is outside level {level}")
    cells = normalized_grid(
        image=image,
        page=min(level, pyramid.pages - 1),
        grid=grid,
        normalization=rendering.normalization,
        level_counts=level_counts,
    )
    tile = np.zeros((256, 256, 2), np.uint8)
    tile[: grid.height, : grid.width] = cells
    return render(tile, rendering.style, fmt)


def normalized_region(
    *,
    image: Image,
    window: Window,
    width: int,
    height: int,
    rendering: Rendering,
    fmt: str,
    level_counts: Callable[[int], np.ndarray] | None = None,
) -> tuple[bytes, str]:
    """A window at ``width`` x ``height``, normalised on its own grid, coloured and encoded.

    The output's rows are the scanlines of its level: the window's values
    box-averaged (from :func:`window_pixels`' page) to the output grid, with the
    margin rows of a dynamic window on the same grid. Static ranks in the whole
    histogram of the pyramid level nearest the grid (:func:`level_of`); a region on
    a level's grid is that level, so it equals the level's tiles.

    Raises:
        OutputTooLargeError, ReadTooLargeError, WindowTooWideError.
    """
    normalization = rendering.normalization
    if normalization is None:
        raise ValueError("normalized_region needs a rendering with a normalisation")
    check_output_size(width, height, fmt, settings.TILES_MAX_OUTPUT_PIXELS)
    pyramid = _pyramid(image)
    page = pyramid.read_page(
        top=window.top,
        bottom=window.bottom,
        left=window.left,
        right=window.right,
        width=width,
        height=height,
        max_pixels=settings.TILES_MAX_READ_PIXELS,
    )
    grid = Grid(window.top, window.height / height, height, window.left, window.width / width, width)
    level = level_of(image, grid.row_scale)
    cells = normalized_grid(
        image=image,
        page=page,
        grid=grid,
        normalization=normalization,
        level_counts=(lambda: level_counts(level)) if level_counts else None,
    )
    return render(cells, rendering.style, fmt)


def pixel_value(*, image: Image, row: int, column: int) -> float | int | None:
    """The stored value at (row, column) (int for uint8 images, float for float32), or None for nodata.

    Raises:
        ImageNotReadyError: no pyramid.
        DepthRangeError: the pixel is outside the image.
    """
    if not (0 <= row < (image.rows or 0) and 0 <= column < (image.columns or 0)):
        raise DepthRangeError(
            f"pixel (row {row}, column {column}) is outside the image "
            f"({image.rows} rows x {image.columns} columns)"
        )
    raw = window_pixels(image=image, window=Window(row, row + 1, column, column + 1), width=1, height=1)
    if image.dtype == "float32":
        value = float(raw[0, 0])
        return None if math.isnan(value) else value
    value, alpha = int(raw[0, 0, 0]), int(raw[0, 0, 1])
    return value if alpha else None


def image_band_information(*, image: Image) -> dict[int, dict]:
    """large_image's information of each band (1 = the values; 2 = alpha, uint8 images), from our open source.

    Raises:
        ImageNotReadyError: no pyramid.
    """
    return _source(image).getBandInformation()


def image_histogram(*, image: Image, bins: int, only_min_max: bool, density: bool) -> dict | list:
    """Histogram and statistics of the stored values, within the read budget.

    Full-resolution tiles are read: all of them when they fit in
    ``TILES_MAX_READ_PIXELS``, otherwise as many as fit, evenly spaced over the
    image in raster order (whole tiles: the values are stored values, not the
    block means of a coarser level, so the shape of the distribution is kept).
    ``sampled`` and ``coverage`` (tiles read / tiles stored) say which.

    Band 1 is the values, nodata left out (uint8: alpha 0; float32: NaN); uint8
    images also have band 2, the alpha of every pixel. Each band's statistics
    are large_image's (``TileSource.histogram``): ``range`` is ``[min, max + 1]``,
    ``bins`` equal bins over it, ``stdev`` the population standard deviation.

    Args:
        image: a ready image.
        bins: number of bins, >= 1.
        only_min_max: answer ``{"min": [...], "max": [...], "mean": [...], "stdev": [...]}``
            (one entry per band) instead of the histograms.
        density: divide each histogram by its number of samples.

    Returns:
        A list of one dict per band (``min``, ``max``, ``mean``, ``stdev``,
        ``range``, ``hist``, ``bin_edges``, ``bins``, ``density``, ``samples``,
        ``sampled``, ``coverage``), or the ``only_min_max`` dict (with
        ``sampled`` and ``coverage``). A band without any value has null
        ``min``/``max``/``mean``/``stdev``, zero counts over ``[0, 1]``.

    Raises:
        ImageNotReadyError: no pyramid.
    """
    pyramid = _pyramid(image)
    rows, columns = pyramid.shapes[0]
    across, down, high, wide = pyramid.tile_grid(0)
    total = across * down
    allowed = max(1, settings.TILES_MAX_READ_PIXELS // pyramid.tile_pixels(0))
    if total <= allowed:
        indices = np.arange(total)
    else:
        indices = np.unique(np.linspace(0, total - 1, allowed).round().astype(np.int64))
    # uint8 bands are counted per value (256 counters), float32 values kept (at most the budget).
    counts = [np.zeros(256, np.int64) for _ in range(pyramid.samples)]
    floats: list[np.ndarray] = []
    for index in indices.tolist():
        y, x = divmod(index, across)
        tile = pyramid.tile(0, x, y)[: min(high, rows - y * high), : min(wide, columns - x * wide)]
        value = tile[..., 0]
        if pyramid.samples == 2:
            counts[0] += np.bincount(value[tile[..., 1] > 0], minlength=256)
            counts[1] += np.bincount(tile[..., 1].ravel(), minlength=256)
        else:
            floats.append(value[~np.isnan(value)])
    bands: list[tuple[np.ndarray, np.ndarray | None]]  # values and, for uint8, their counts
    if pyramid.samples == 2:
        byte_values = np.arange(256, dtype=np.uint8)
        bands = [(byte_values[c > 0], c[c > 0]) for c in counts]
    else:
        bands = [(np.concatenate(floats), None)]
    coverage = len(indices) / total
    sampled = len(indices) < total
    stats = [_band_statistics(values, weights, bins=bins, density=density) for values, weights in bands]
    if only_min_max:
        return {
            key: [entry[key] if key in ("mean", "stdev") else entry[f"{key}_value"] for entry in stats]
            for key in ("min", "max", "mean", "stdev")
        } | {"sampled": sampled, "coverage": coverage}
    for entry in stats:
        entry.pop("min_value")
        entry.pop("max_value")
        entry.update(sampled=sampled, coverage=coverage)
    return stats


def _band_statistics(values: np.ndarray, weights: np.ndarray | None, *, bins: int, density: bool) -> dict:
    """One band's entry of :func:`image_histogram`; ``min_value``/``max_value`` keep the band's type.

    Args:
        values: the values (float32), or each distinct value once (uint8).
        weights: None, or how many times each of ``values`` occurs (int64).
        bins: number of histogram bins.
        density: the histogram is a probability density (``numpy.histogram``'s ``density``).

    Returns:
        ``image_histogram``'s entry for the band, with ``min_value`` and ``max_value`` added.
    """
    if values.size == 0:
        hist, edges = np.histogram(values, bins, (0.0, 1.0))
        return {
            "min": None, "max": None, "mean": None, "stdev": None, "min_value": None, "max_value": None,
            "range": [0.0, 1.0], "hist": [float(h) for h in hist], "bin_edges": [float(e) for e in edges],
            "bins": bins, "density": density, "samples": 0.0,
        }  # fmt: skip
    low, high = values.min(), values.max()
    as_float = values.astype(np.float64)
    if weights is None:
        count, total, squares = values.size, float(as_float.sum()), float(np.dot(as_float, as_float))
    else:
        count = int(weights.sum())
        total, squares = float(np.dot(as_float, weights)), float(np.dot(as_float * as_float, weights))
    mean = total / count
    stdev = max(squares / count - mean**2, 0.0) ** 0.5
    # large_image's [min, max + 1]; past 1e6 a millionth of max instead, so that the bins
    # stay distinct floats (at 1e15, max + 1 holds 8 of them).
    span = (float(low), float(high) + max(1.0, abs(float(high)) * 1e-6))
    hist, edges = np.histogram(as_float, bins, span, weights=weights)
    counts = hist.astype(np.float64) / count if density else hist
    return {
        "min": float(low),
        "max": float(high),
        "mean": mean,
        "stdev": stdev,
        "min_value": low.item(),
        "max_value": high.item(),
        "range": list(span),
        "hist": [float(h) for h in counts],
        "bin_edges": [float(e) for e in edges],
        "bins": bins,
        "density": density,
        "samples": float(count),
    }


def style_json_check(text: str) -> str:
    """Validate a raw large_image style parameter (a JSON object) against the allow-list.

    Args:
        text: the ``style`` query parameter.

    Returns:
        The normalised style as canonical JSON (sorted keys, rounded numbers):
        what large_image renders and what keys the cache.

    Raises:
        StyleError: not a JSON object, or refused by
            :func:`tiles.core.style.large_image_style` (``function`` and every
            key off the allow-list, named with where it is).
    """
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise StyleError(f"style is not valid JSON: {message} (URL-encode it)") from None
    return json.dumps(large_image_style(value), sort_keys=True)


def _style_check(image: Image, pyramid: PyramidFile, style_json: str) -> None:
    """Check a (checked) style against this image: its bands, and the read it makes large_image do.

    The pyramid holds value and alpha (uint8: bands 1 and 2, ``gray`` and
    ``alpha``) or the value alone (float32: band 1, ``gray``).

    Raises:
        StyleError: a band number or name the image does not have.
        ReadTooLargeError: large_image would scan more than
            ``TILES_MAX_READ_PIXELS`` pixels for a ``min``/``max`` word.
    """
    names = {"gray", "alpha"} if pyramid.samples == 2 else {"gray"}
    style = json.loads(style_json)
    for i, band in enumerate(style_bands(style)):
        if band is None or band in names or (isinstance(band, int) and band <= pyramid.samples):
            continue
        where = f"bands[{i}]" if "bands" in style else "top level"
        raise StyleError(
            f"style {where}: band {band!r} is not a band of image {image.pk} "
            f"(bands 1..{pyramid.samples}: {', '.join(sorted(names))})"
        )
    entries = style.get("bands", [style])
    if all(isinstance(entry.get(key), float) for entry in entries for key in ("min", "max")):
        return
    # A min or max that is a word (or unset: "auto") makes large_image scan the image for
    # its range (TileSource._scanForMinMax: an output of at most 1024 x 1024, read from the
    # stored level just above that size, or the coarsest one). Count that read too.
    page = next((page for page, shape in enumerate(pyramid.shapes) if max(shape) <= 2048), pyramid.pages - 1)
    rows, columns = pyramid.shapes[page]
    pixels = pyramid.window_tiles(page, 0, rows, 0, columns) * pyramid.tile_pixels(page)
    if pixels > settings.TILES_MAX_READ_PIXELS:
        raise ReadTooLargeError(
            f"this style makes large_image scan {pixels} pixels for the value range (a min or max that "
            f"is not a number); the read budget is {settings.TILES_MAX_READ_PIXELS} "
            "(DJANGO_TILES_MAX_READ_PIXELS): give min and max as numbers in every band",
            limit=settings.TILES_MAX_READ_PIXELS,
        )


def style_key(rendering: Rendering, style_json: str | None = None) -> str:
    """A short, stable name for a rendering (part of cache keys and ETags)."""
    if style_json:
        return hashlib.sha256(style_json.encode()).hexdigest()[:16]
    style = rendering.style
    key = f"{_palette_key(style.palette)}:{style.vmin!r}:{style.vmax!r}"
    if rendering.normalization:
        return f"{key}:{rendering.normalization.mode}:{rendering.normalization.window!r}"
    return f"{key}:{rendering.stretch[0]!r}:{rendering.stretch[1]!r}" if rendering.stretch else key


@functools.lru_cache(maxsize=1024)
def _palette_key(palette: tuple | None) -> str:
    if palette is None:
        return "grey"
    return hashlib.sha256(np.asarray(palette, np.uint8).tobytes()).hexdigest()[:16]


def render_key(image: Image, kind: str, **parts) -> str:
    """The cache key of a rendered output.

    The image's content never changes for its id (a new upload is a new id), and
    ``sha256`` (of the uploaded CSV) guards against a reused id, so the key names
    the bytes exactly: image id, content hash, kind, and the normalised request.
    """
    items = ",".join(f"{name}={parts[name]}" for name in sorted(parts))
    return f"depthtiles:{RENDER_VERSION}:{image.pk}:{image.sha256[:16]}:{kind}:{items}"


def etag_for(key: str) -> str:
    """A strong ETag (quoted) for the output named by ``key``."""
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def cached_render(
    key: str, produce: Callable[[], tuple[bytes, str]], *, wait: float = HERD_WAIT_SECONDS
) -> tuple[bytes, str]:
    """Return the output named by ``key`` from the tiles cache, rendering it once.

    A thundering herd on a cold key renders it once: the first request takes a
    lock (``cache.add``, atomic in Redis, memcached and locmem) and renders; the
    others poll the cache for up to :data:`HERD_WAIT_SECONDS`, then render
    themselves rather than fail. Outputs larger than
    ``TILES_CACHE_MAX_BYTES`` are rendered but not cached.

    Args:
        key: from :func:`render_key`.
        produce: renders ``(bytes, MIME type)``.
        wait: seconds the herd waits for the first request (longer for long work).
    """
    cache = caches[settings.TILES_CACHE_ALIAS]
    hit = cache.get(key)
    if hit is not None:
        return hit
    lock = f"{key}:lock"
    if not cache.add(lock, 1, timeout=max(30, round(wait))):
        deadline = time.monotonic() + wait
        delay = 0.002
        while time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            hit = cache.get(key)
            if hit is not None:
                return hit
        return produce()
    try:
        result = produce()
        if len(result[0]) <= settings.TILES_CACHE_MAX_BYTES:
            cache.set(key, result)
    finally:
        cache.delete(lock)
    return result
