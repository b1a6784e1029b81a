"""Write a pyramidal tiled TIFF from bands of scanlines.

Pure module: no Django. Layout (chosen from the measurements in
shared/STACK-NOTES.md, read back by large_image's ``tiff`` source):

* every level is a top-level page, 256 x 256 tiles, zstd with the horizontal
  predictor; level 0 is full resolution, each next page halves both sides
  (``subfiletype=1``, "reduced resolution");
* integer data 0..255: two samples per pixel, uint8: the value, then an
  unassociated alpha that is 0 for nodata and 255 elsewhere, so nodata never
  reads as a value (:data:`UINT8`);
* any other data: one float32 sample, NaN for nodata (:data:`FLOAT32`);
* levels stop before the narrow side would reach one pixel, or once the image
  fits in one tile (``while max(h, w) > 256 and min(ceil(h/2), ceil(w/2)) >= 2``);
  large_image builds any coarser zoom on the fly;
* a coarser level is the 2 x 2 mean of the valid pixels below it (a box filter
  that ignores nodata); a pixel with no valid child is nodata.

Memory stays flat: each level is read in bands of one tile row, and the next
level is spooled to a scratch file as it is computed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

TILE = 256
SAMPLES = 2  # value, alpha (the uint8 layout)

#: Threads compressing tiles (zstd releases the GIL).
_ENCODERS = min(4, os.cpu_count() or 1)

#: Bytes of tiles handed to the encoding threads at once (tifffile's default,
#: 512 MB, would hold that much of the level in memory).
_ENCODE_BUFFER = 16 << 20

#: ``read_band(first_row, stop_row) -> (stop_row - first_row, columns, samples)``
BandReader = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class Layout:
    """How pixels are stored: dtype, samples per pixel and the TIFF tags for them."""

    name: str
    dtype: type
    samples: int
    fill: float  # beyond the image and in nodata pixels
    extrasamples: tuple[str, ...]


UINT8 = Layout("uint8", np.uint8, 2, 0, ("unassalpha",))
FLOAT32 = Layout("float32", np.float32, 1, float("nan"), ())


def level_shapes(rows: int, columns: int) -> list[tuple[int, int]]:
    """``(rows, columns)`` of each stored level, full resolution first.

    Args:
        rows: image height in pixels (scanlines), >= 1.
        columns: image width in pixels, >= 1.
    """
    shapes = [(rows, columns)]
    h, w = rows, columns
    while max(h, w) > TILE and min(math.ceil(h / 2), math.ceil(w / 2)) >= 2:
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        shapes.append((h, w))
    return shapes


def downsample_float(band: np.ndarray) -> np.ndarray:
    """Halve a float band with a NaN-aware 2 x 2 mean.

    Args:
        band: ``(h, w, 1) float32``, NaN = nodata.

    Returns:
        ``(ceil(h/2), ceil(w/2), 1) float32``: the mean of the non-NaN values
        below each pixel, NaN where there is none.
    """
    h, w, _ = band.shape
    ph, pw = h + h % 2, w + w % 2
    padded = np.full((ph, pw), np.nan, np.float32)
    padded[:h, :w] = band[..., 0]
    blocks = padded.reshape(ph // 2, 2, pw // 2, 2)
    valid = ~np.isnan(blocks)
    count = valid.sum(axis=(1, 3))
    total = np.where(valid, blocks, 0).sum(axis=(1, 3), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / count, np.nan).astype(np.float32)
    return out[..., np.newaxis]


def downsample(band: np.ndarray) -> np.ndarray:
    """Halve a band with a nodata-aware 2 x 2 mean.

    Args:
        band: ``(h, w, 2) uint8``, value and alpha (0 = nodata, whose value is 0).

    Returns:
        ``(ceil(h/2), ceil(w/2), 2) uint8``: each value is the rounded mean of the
        valid values below it; alpha is 255 where any of them is valid.
    """
    h, w, _ = band.shape
    ph, pw = h + h % 2, w + w % 2
    if (ph, pw) != (h, w):
        padded = np.zeros((ph, pw, SAMPLES), np.uint8)
        padded[:h, :w] = band
        band = padded
    value = band[..., 0].astype(np.uint16)
    valid = (band[..., 1] > 0).astype(np.uint16)
    # Sums of the four children by strided slices (much faster than reshape + sum).
    total = value[0::2, 0::2] + value[1::2, 0::2] + value[0::2, 1::2] + value[1::2, 1::2]
    out = np.zeros((ph // 2, pw // 2, SAMPLES), np.uint8)
    if valid.all():
        out[..., 0] = (total + 2) >> 2
        out[..., 1] = 255
        return out
    count = valid[0::2, 0::2] + valid[1::2, 0::2] + valid[0::2, 1::2] + valid[1::2, 1::2]
    has = count > 0
    # value is 0 under nodata, so total already sums the valid children only.
    out[..., 0][has] = ((total[has] * 2 + count[has]) // (2 * count[has])).astype(np.uint8)
    out[..., 1][has] = 255
    return out


def _tiles_of_band(band: np.ndarray, columns: int, layout: Layout) -> Iterator[np.ndarray]:
    """Cut one band (at most one tile high) into padded 256 x 256 tiles."""
    for x in range(0, columns, TILE):
        tile: np.ndarray = np.full((TILE, TILE, layout.samples), layout.fill, layout.dtype)
        part = band[:, x : x + TILE]
        tile[: part.shape[0], : part.shape[1]] = part
        yield tile


class _Spool:
    """A scratch file holding one level as raw ``(rows, columns, 2) uint8``."""

    def __init__(self, directory: Path, rows: int, columns: int, layout: Layout):
        self.rows, self.columns, self.layout = rows, columns, layout
        self.row_bytes = columns * layout.samples * np.dtype(layout.dtype).itemsize
        fd, name = tempfile.mkstemp(prefix="level-", suffix=".raw", dir=directory)
        self.path = Path(name)
        self.file = os.fdopen(fd, "w+b")

    def append(self, band: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(band).tobytes())

    def read(self, first: int, stop: int) -> np.ndarray:
        self.file.seek(first * self.row_bytes)
        data = self.file.read((stop - first) * self.row_bytes)
        return np.frombuffer(data, self.layout.dtype).reshape(stop - first, self.columns, self.layout.samples)

    def close(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def write_pyramid(
    path: str | Path,
    *,
    rows: int,
    columns: int,
    read_band: BandReader,
    layout: Layout = UINT8,
    description: str = "",
    scratch_dir: str | Path | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write the pyramid of an image given by a band reader.

    The file at ``path`` is written directly; callers wanting atomic placement
    write to a temporary name and rename it (see ``ingest.services``).

    Args:
        path: output file.
        rows: full-resolution height in pixels.
        columns: full-resolution width in pixels.
        read_band: returns full-resolution rows ``[first, stop)`` as
            ``(stop - first, columns, samples)`` of the layout's dtype; called
            with increasing, non-overlapping ranges of at most 256 rows.
        layout: :data:`UINT8` (value, alpha) or :data:`FLOAT32` (NaN nodata).
        description: ImageDescription of the first page (our depth axis JSON).
        scratch_dir: where coarser levels are spooled (default: beside ``path``).
        on_rows: called with the number of full-resolution rows written so far.

    Returns:
        The number of levels written.
    """
    shapes = level_shapes(rows, columns)
    scratch = Path(scratch_dir) if scratch_dir else Path(path).parent
    bigtiff = rows * columns * layout.samples * np.dtype(layout.dtype).itemsize >= 2**31
    spools: list[_Spool] = []
    try:
        with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
            reader = read_band
            for level, (h, w) in enumerate(shapes):
                following = None
                if level + 1 < len(shapes):
                    following = _Spool(scratch, *shapes[level + 1], layout)
                    spools.append(following)
                tif.write(
                    _level_tiles(
                        h, w, reader, following, layout=layout, on_rows=on_rows if level == 0 else None
                    ),
                    shape=(h, w, layout.samples) if layout.samples > 1 else (h, w),
                    dtype=layout.dtype,
                    tile=(TILE, TILE),
                    photometric="minisblack",
                    planarconfig="contig" if layout.samples > 1 else None,
                    extrasamples=layout.extrasamples or None,
                    compression="zstd",
                    compressionargs={"level": 1},  # as small as the default level here, and faster
                    predictor=True,
                    subfiletype=1 if level else 0,
                    description=description if level == 0 else None,
                    metadata=None,
                    software="depthtiles",
                    maxworkers=_ENCODERS,  # tifffile's default is one thread on 2 cores
                    buffersize=_ENCODE_BUFFER,
                )
                if following is not None:
                    following.file.flush()
                    reader = following.read
    finally:
        for spool in spools:
            spool.close()
    return len(shapes)


def _level_tiles(
    rows: int,
    columns: int,
    read_band: BandReader,
    following: _Spool | None,
    *,
    layout: Layout,
    on_rows: Callable[[int], None] | None,
) -> Iterator[np.ndarray]:
    reduce = downsample if layout is UINT8 else downsample_float
    for first in range(0, rows, TILE):
        stop = min(rows, first + TILE)
        band = read_band(first, stop)
        if band.shape != (stop - first, columns, layout.samples):
            raise ValueError(f"band {first}:{stop} has shape {band.shape}")
        if following is not None:
            following.append(reduce(band))
        for tile in _tiles_of_band(band, columns, layout):
            yield tile if layout.samples > 1 else tile[..., 0]
        if on_rows is not None:
            on_rows(stop)
