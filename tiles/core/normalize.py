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
        ``(bins, valid, count)``: ``(h, w) intp`` bins, nodata in the extra bin
        ``count`` (past the last, counted by no histogram); ``(h, w) bool``; and the
        number of bins (:data:`UINT8_BINS` or :data:`FLOAT_BINS`).
    """
    if values.ndim == 3:
        valid = values[..., 1] > 0
        bins = values[..., 0].astype(np.intp)
        if not valid.all():
            bins[~valid] = UINT8_BINS
        return bins, valid, UINT8_BINS
    valid = ~np.isnan(values)
    if value_range is None:
        present = values[valid]
        value_range = (float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
    low, high = value_range
    scale = FLOAT_BINS / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore"):
        position = np.clip(np.floor((values.astype(np.float64) - low) * scale), 0, FLOAT_BINS - 1)
    bins = np.where(valid, position, FLOAT_BINS).astype(np.intp)
    return bins, valid, FLOAT_BINS


def histogram(bins: np.ndarray, valid: np.ndarray, count: int) -> np.ndarray:
    """``(count,) int64``: how many valid pixels fall in each bin (of :func:`value_bins`)."""
    return np.bincount(bins.ravel(), minlength=count + 1)[:count].astype(np.int64)


def percentile_table(counts: np.ndarray) -> np.ndarray:
    """Palette index of each bin for window histograms: ``min(255, floor(256 p))``.

    Computed in float64, exactly: the sums are integers below 2**53, so
    ``128 (2 less + equal)`` and ``n`` are exact, IEEE division rounds correctly
    (an integer quotient stays that integer), and a quotient short of an integer
    ``k`` is short by at least ``1 / n``, far more than the rounding at ``k <= 256``.

    Args:
        counts: ``(..., bins)`` integers: one histogram per window.

    Returns:
        ``(..., bins) uint8``: entry ``b`` is ``min(255, floor(128 (2 less + equal) / n))``
        with ``less`` the count in bins below ``b``, ``equal`` the count in ``b`` and
        ``n`` the total; 0 where the window holds no value.
    """
    cumulative = np.cumsum(counts, axis=-1, dtype=np.float64)
    total = np.maximum(cumulative[..., -1:], 1.0)
    index = cumulative * 2.0
    index -= counts  # 2 less + equal
    index *= 128.0
    index /= total
    np.floor(index, out=index)
    np.minimum(index, 255.0, out=index)
    table: np.ndarray = index.astype(np.uint8)
    return table


def _indexed(index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.zeros((*index.shape, 2), np.uint8)
    np.copyto(out[..., 0], index, where=valid)
    out[..., 1] = valid * np.uint8(255)
    return out


def static_normalize(bins: np.ndarray, valid: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Static normalisation: every pixel ranked in one histogram (the whole level's).

    Args:
        bins: ``(h, w) intp`` from :func:`value_bins`.
        valid: ``(h, w) bool``.
        counts: ``(bins,) int64``: the level's histogram (:func:`histogram` over every pixel).

    Returns:
        ``(h, w, 2) uint8``: palette index and alpha (0 = nodata, index 0).
    """
    table = np.append(percentile_table(counts), np.uint8(0))  # nodata's extra bin
    return _indexed(table[bins], valid)


def _row_histograms(bins: np.ndarray, width: int) -> np.ndarray:
    """``(rows + 1, width) int64``: each row's histogram (values ``0..width - 1``), then a row of zeros."""
    rows = bins.shape[0]
    keys = bins + (np.arange(rows, dtype=np.intp) * width)[:, np.newaxis]
    return np.bincount(keys.ravel(), minlength=(rows + 1) * width).reshape(rows + 1, width)


def dynamic_normalize(
    bins: np.ndarray, valid: np.ndarray, *, count: int, half: int, first: int = 0, last: int | None = None
) -> np.ndarray:
    """Dynamic normalisation of rows ``first..last - 1``: each ranked in its rows ``i - h .. i + h``.

    The block holds the rows to normalise and the margin rows their windows need
    (clamped at the image's ends: the block starts and ends where the image does, or
    at least ``half`` rows beyond the normalised rows). The first row's window
    histogram is counted; each next row's is the previous one plus the row entering
    and minus the row leaving (a cumulative sum over rows), for
    ``CHUNK_CELLS / count`` rows at a time.

    Args:
        bins: ``(R, w) intp`` bins of the block (:func:`value_bins`).
        valid: ``(R, w) bool``.
        count: number of bins.
        half: ``h``, rows on each side (:func:`half_window_rows`).
        first: first row of the block to normalise.
        last: row after the last (default ``R``).

    Returns:
        ``(last - first, w, 2) uint8``: palette index and alpha.
    """
    rows, width = bins.shape
    last = rows if last is None else last
    wide = count + 1  # the nodata bin too: emptied, so it changes no count
    out = np.zeros((last - first, width, 2), np.uint8)
    chunk = max(1, CHUNK_CELLS // wide)
    for top in range(first, last, chunk):
        bottom = min(last, top + chunk)
        low, high = max(0, top - half - 1), min(rows, bottom + half)
        per_row = _row_histograms(bins[low:high], wide)  # row high - low: zeros
        per_row[:, count] = 0
        windows = np.empty((bottom - top, wide), np.int64)
        windows[0] = per_row[max(0, top - half) - low : min(rows, top + half + 1) - low].sum(axis=0)
        steps = np.arange(top + 1, bottom)
        entering = np.where(steps + half < rows, steps + half - low, high - low)
        leaving = np.where(steps - half - 1 >= 0, steps - half - 1 - low, high - low)
        np.subtract(per_row[entering], per_row[leaving], out=windows[1:])
        np.cumsum(windows, axis=0, out=windows)
        table = percentile_table(windows).ravel()
        lookup = bins[top:bottom] + (np.arange(bottom - top, dtype=np.intp) * wide)[:, np.newaxis]
        out[top - first : bottom - first] = _indexed(table[lookup], valid[top:bottom])
    return out
