"""Depth frames: a depth range cut into PNG frames of scanlines (the classic depth-frame API).

A frame is ``frame_rows`` consecutive rows of the image (1 by default: one
scanline), at native width, coloured and encoded by the same renderer as tiles
and regions (:func:`tiles.core.render.render`), so a frame's pixels equal a
region's. The depth of a frame is the depth of its first (shallowest) row.
Normalised frames (``normalize=static|dynamic``) rank each scanline at full
resolution (level 0), each part reading the margin rows its window needs, so the
frames equal the rows of a normalised full-resolution region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings

from ingest.axis import DepthRangeError, depth_range_check
from tiles.core.render import OutputTooLargeError, check_output_size, render
from tiles.services import Rendering, Window
from tiles.source import ImageSource

#: Rows read from the pyramid at a time (rounded down to whole frames): bounds memory.
READ_ROWS = 4096


class NoScanlineError(Exception):
    """No row of the image lies in the depth range (the classic API answers 404)."""


class TooManyFramesError(OutputTooLargeError):
    """The answer would hold more frames than ``MAX_FRAMES``.

    Attributes:
        frames: frames the request would need.
        limit: the most allowed.
    """

    def __init__(self, frames: int, limit: int):
        self.frames = frames
        super().__init__(
            f"the answer would hold {frames} frames; the limit is {limit} (DJANGO_MAX_FRAMES): "
            "narrow the depth range or group scanlines with frame_rows",
            limit=limit,
        )


@dataclass(frozen=True)
class Frame:
    """One frame.

    Attributes:
        depth: depth of the frame's first row, in the image's depth unit.
        rows: rows in the frame (``frame_rows``; fewer in the last frame of a range).
        png: the PNG file, ``rows`` pixels high and ``image.columns`` wide.
    """

    depth: float
    rows: int
    png: bytes


def frames_window(*, source: ImageSource, depth_min: float, depth_max: float) -> Window:
    """The rows of the closed depth range ``[depth_min, depth_max]``, all columns.

    Args:
        source: a ready image's source.
        depth_min: shallow end, in ``image.depth_unit``.
        depth_max: deep end, same unit.

    Raises:
        DepthRangeError: a bound is not finite, or ``depth_min > depth_max``.
        NoScanlineError: no row lies in the range.
    """
    depth_range_check(depth_min, depth_max)
    try:
        return source.window(depth_min=depth_min, depth_max=depth_max)
    except DepthRangeError as exc:  # the range is well formed: it misses the image
        raise NoScanlineError(str(exc)) from None


def frames_render(
    *, source: ImageSource, window: Window, rendering: Rendering, frame_rows: int = 1, max_frames: int
) -> list[Frame]:
    """Cut a window of rows into frames of ``frame_rows`` rows, each coloured and PNG-encoded.

    Args:
        source: a ready image's source.
        window: rows ``window.top..window.bottom - 1`` (from :func:`frames_window`).
        rendering: the colour mapping (:func:`tiles.services.resolve_style`); grey
            without a palette (the stored values, nodata transparent).
        frame_rows: rows per frame, >= 1; the last frame holds the remainder.
        max_frames: the most frames allowed (``MAX_FRAMES``).

    Returns:
        Frames from the shallowest down; frame ``i`` starts at row
        ``window.top + i * frame_rows`` and its depth is that row's,
        ``source.axis.depth(row)`` (rounded to 9 decimals).

    Raises:
        TooManyFramesError: more than ``max_frames`` frames (checked before reading).
        OutputTooLargeError: the window holds more than ``TILES_MAX_OUTPUT_PIXELS`` pixels.
        ReadTooLargeError: its parts' tiles hold more than ``TILES_MAX_READ_PIXELS``
            pixels (counted before any is decoded; a tile at a part's edge counts
            once per part that reads it; a normalised part's margin rows are
            checked again, with the part, before it is read).
        WindowTooWideError: a dynamic window of more than 4,097 scanlines.
    """
    if rendering.normalization is not None:
        source.normalize_check(rendering, 1.0)
    count = math.ceil(window.height / frame_rows)
    if count > max_frames:
        raise TooManyFramesError(count, max_frames)
    check_output_size(window.width, window.height, "png", settings.TILES_MAX_OUTPUT_PIXELS)
    step = max(frame_rows, READ_ROWS // frame_rows * frame_rows)
    parts = [
        Window(top, min(window.bottom, top + step), window.left, window.right)
        for top in range(window.top, window.bottom, step)
    ]
    source.read_budget_check(parts)  # every part's tiles, before any is decoded
    frames: list[Frame] = []
    for part in parts:
        if rendering.normalization is not None:
            raw = source.normalized_rows(window=part, normalization=rendering.normalization)
        else:
            raw = source.pixels(window=part, width=part.width, height=part.height)
            if source.image.dtype == "float32":
                raw = rendering.stretched(raw)
        for start in range(0, part.height, frame_rows):
            chunk = raw[start : start + frame_rows]
            png, _ = render(chunk, rendering.style, "png")
            depth = source.axis.depth(part.top + start)
            frames.append(Frame(depth=round(depth, 9), rows=chunk.shape[0], png=png))
    return frames
