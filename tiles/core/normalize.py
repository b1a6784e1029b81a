"""Static and dynamic normalisation of borehole images: values -> percentile palette indices.

Pure module (numpy only). Histogram equalisation (Gonzalez & Woods, *Digital Image
Processing*, "histogram equalization") done as borehole-image processing does it:
**static** normalisation equalises over the whole log, **dynamic** normalisation
over a sliding depth window, which brings out bedding and fractures (Schlumberger
FMI processing; Hurley, *Borehole Images*, 2004, "image normalization"; Petrobras
GeoSlicer's image-log environment offers both).

Definition (issue 14): for a scanline at depth ``d``, the window is every scanline
of the same level whose depth lies in ``[d - window/2, d + window/2]`` (the whole
level for static). A value ``v`` becomes the mid-rank percentile::

    p = (count of window values < v + (count of window values == v) / 2) / count of window values

nodata excluded from every count, and its palette index is ``min(255, floor(256 p))``,
computed here in integers as ``min(255, (128 * (2 * less + equal)) // n)``, so it is
exact. nodata stays nodata (alpha 0).

Ranking: values are ranked by bins. uint8 values are their own bins (256 bins), so
the result is exact. float32 values fall in :data:`FLOAT_BINS` equal bins over the
image's value range ``[low, high]`` (bin ``floor((v - low) / (high - low) * 4096)``,
clamped to ``0..4095``); ``less`` and ``equal`` then count the window values in
lower bins and in ``v``'s bin. The error is at most half the share of the window's
values that share ``v``'s bin without being equal to it:
``|p_binned - p_exact| <= (bin count - equal count) / (2 n)``.

Rows of the window: at a level whose rows are ``row_depth`` apart, the window of row
``i`` is rows ``i - h .. i + h`` with ``h = floor(window / (2 row_depth))``
(:func:`half_window_rows`), clamped at the image's ends.
"""

from __future__ import annotations

import math

import numpy as np

from tiles.core.render import OutputTooLargeError

#: Bins of uint8 values: one per value (exact).
UINT8_BINS = 256
#: Bins of float32 values, equal over the image's value range.
FLOAT_BINS = 4096
#: Most rows on each side of a scanline in a dynamic window: a window spans at most
#: ``2 * MAX_HALF_ROWS + 1`` = 4,097 rows of its level.
MAX_HALF_ROWS = 2048
#: Cells (output rows x bins) of the window histograms built at a time: bounds memory
#: (about 8 MB per int64 array at this size).
CHUNK_CELLS = 2**20
#: Slack for floating-point error when a window edge falls on a row's depth.
EPSILON = 1e-9


class WindowTooWideError(OutputTooLargeError):
    """A dynamic window spanning more rows of its level than :data:`MAX_HALF_ROWS` allows.

    Attributes:
        limit: the most rows a window may span (``2 * MAX_HALF_ROWS + 1``).
    """


def half_window_rows(window: float, row_depth: float) -> int:
    """Rows on each side of a scanline in a dynamic window: ``floor(window / (2 row_depth))``.

    Args:
        window: window length, in the depth unit, > 0 and finite.
        row_depth: depth between two rows of the level (same unit), > 0.

    Returns:
        ``h`` >= 0: the window of row ``i`` is rows ``i - h .. i + h``.

    Raises:
        ValueError: ``window`` or ``row_depth`` not positive and finite.
        WindowTooWideError: ``h > MAX_HALF_ROWS``.
    """
    if not (math.isfinite(window) and window > 0 and math.isfinite(row_depth) and row_depth > 0):
        raise ValueError(f"window ({window!r}) and row depth ({row_depth!r}) must be positive and finite")
    half = math.floor(window / (2 * row_depth) + EPSILON)
    if half > MAX_HALF_ROWS:
        raise WindowTooWideError(
            f"a window of {window:g} spans {2 * half + 1} rows at this level (rows {row_depth:g} apart); "
            f"the limit is {2 * MAX_HALF_ROWS + 1} rows: use a shorter window or a coarser level",
            limit=2 * MAX_HALF_ROWS + 1,
        )
    return half


def value_bins(
    values: np.ndarray, value_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The bin of every pixel and which pixels hold a value.

    Args:
        values: ``(h, w, 2) uint8`` value and alpha (0 = nodata), or ``(h, w) float32``
            (NaN = nodata).
        value_range: float32 only: ``(low, high)``, the image's value range
            (default: the values' own range).

    Returns:
        ``(bins, valid, count)``: ``(h, w) int32`` bins (0 where nodata), ``(h, w) bool``,
        and the number of bins (:data:`UINT8_BINS` or :data:`FLOAT_BINS`).
    """
    if values.ndim == 3:
        return values[..., 0].astype(np.int32), values[..., 1] > 0, UINT8_BINS
    valid = ~np.isnan(values)
    if value_range is None:
        present = values[valid]
        value_range = (float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
    low, high = value_range
    scale = FLOAT_BINS / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore"):
        position = np.floor((values.astype(np.float64) - low) * scale)
    bins = np.clip(np.where(valid, position, 0), 0, FLOAT_BINS - 1).astype(np.int32)
    return bins, valid, FLOAT_BINS


def histogram(bins: np.ndarray, valid: np.ndarray, count: int) -> np.ndarray:
    """``(count,) int64``: how many valid pixels fall in each bin (of :func:`value_bins`)."""
    return np.bincount(bins[valid].ravel(), minlength=count).astype(np.int64)


def percentile_table(counts: np.ndarray) -> np.ndarray:
    """Palette index of each bin for window histograms: ``min(255, floor(256 p))``.

    Args:
        counts: ``(..., bins) int64``: one histogram per window.

    Returns:
        ``(..., bins) uint8``: entry ``b`` is ``min(255, (128 (2 less + equal)) // n)``
        with ``less`` the count in bins below ``b``, ``equal`` the count in ``b`` and
        ``n`` the total; 0 where the window holds no value.
    """
    counts = counts.astype(np.int64)
    below = np.cumsum(counts, axis=-1) - counts
    total = counts.sum(axis=-1, keepdims=True)
    index: np.ndarray = (128 * (2 * below + counts)) // np.maximum(total, 1)
    table: np.ndarray = np.minimum(index, 255).astype(np.uint8)
    return table


def _indexed(index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.zeros((*index.shape, 2), np.uint8)
    out[..., 0] = np.where(valid, index, 0)
    out[..., 1] = valid * np.uint8(255)
    return out


def static_normalize(bins: np.ndarray, valid: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Static normalisation: every pixel ranked in one histogram (the whole level's).

    Args:
        bins: ``(h, w) int32`` from :func:`value_bins`.
        valid: ``(h, w) bool``.
        counts: ``(bins,) int64``: the level's histogram (:func:`histogram` over every pixel).

    Returns:
        ``(h, w, 2) uint8``: palette index and alpha (0 = nodata, index 0).
    """
    table: np.ndarray = percentile_table(counts)
    return _indexed(table[bins], valid)


def dynamic_normalize(
    bins: np.ndarray, valid: np.ndarray, *, count: int, half: int, first: int = 0, last: int | None = None
) -> np.ndarray:
    """Dynamic normalisation of rows ``first..last - 1``: each ranked in its rows ``i - h .. i + h``.

    The block holds the rows to normalise and the margin rows their windows need
    (clamped at the image's ends: the block starts and ends where the image does, or
    at least ``half`` rows beyond the normalised rows). Window histograms are the
    differences of cumulative histograms at the windows' edges, built for
    ``CHUNK_CELLS / count`` rows at a time with one ``bincount``.

    Args:
        bins: ``(R, w) int32`` bins of the block (:func:`value_bins`).
        valid: ``(R, w) bool``.
        count: number of bins.
        half: ``h``, rows on each side (:func:`half_window_rows`).
        first: first row of the block to normalise.
        last: row after the last (default ``R``).

    Returns:
        ``(last - first, w, 2) uint8``: palette index and alpha.
    """
    rows = bins.shape[0]
    last = rows if last is None else last
    out = np.zeros((last - first, bins.shape[1], 2), np.uint8)
    chunk = max(1, CHUNK_CELLS // count)
    for top in range(first, last, chunk):
        bottom = min(last, top + chunk)
        index = np.arange(top, bottom)
        starts, stops = np.maximum(index - half, 0), np.minimum(index + half + 1, rows)
        low, high = int(starts[0]), int(stops[-1])
        edges = np.unique(np.concatenate([starts, stops]))
        # Row k of the block belongs to segment j = number of edges <= k; the cumulative
        # histogram at edges[j] (rows low..edges[j] - 1) is the sum of segments 0..j.
        segment = np.searchsorted(edges, np.arange(low, high), side="right")
        keys = (segment[:, np.newaxis] * count + bins[low:high])[valid[low:high]]
        parts = np.bincount(keys, minlength=(len(edges) + 1) * count).reshape(-1, count)
        cumulative = np.cumsum(parts[: len(edges)], axis=0)
        windows = cumulative[np.searchsorted(edges, stops)] - cumulative[np.searchsorted(edges, starts)]
        table = percentile_table(windows)
        looked = np.take_along_axis(table, bins[top:bottom], axis=1)
        out[top - first : bottom - first] = _indexed(looked, valid[top:bottom])
    return out
