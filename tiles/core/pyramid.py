"""Read tiles of our pyramidal TIFFs directly: one ranged read and one decode per tile.

Pure module (no Django). The file layout is :mod:`ingest.pyramid`'s: every level a
top-level page of 256 x 256 tiles, full resolution first. A tile's bytes are read
with ``os.pread`` at the offset the page's TileOffsets tag gives, and decoded by
tifffile's own decoder for the page (zstd and the predictor), so no tile cache,
pickling or Python tile machinery stands between the file and the renderer.
"""

from __future__ import annotations

import functools
import io
import math
import os
import threading
import weakref
from collections import OrderedDict
from typing import Any, BinaryIO, Protocol, cast

import numpy as np
import tifffile

from tiles.core.render import OutputTooLargeError


def zoom_levels(columns: int, rows: int, tile_size: int = 256) -> int:
    """How many zoom levels large_image gives an image: ``z`` runs ``0..zoom_levels - 1``.

    The formula of large_image's TIFF source (``_initWithTiffTools``): enough
    halvings from full resolution for the whole image to fit one tile,
    ``max(1, ceil(log2(max(columns, rows) / tile_size)) + 1)``. Zoom ``z`` is
    TIFF page ``zoom_levels - 1 - z`` (0 = full resolution) when we wrote it.

    Args:
        columns: full-resolution width in pixels.
        rows: full-resolution height in pixels.
        tile_size: tile side in pixels.
    """
    return max(1, math.ceil(math.log2(max(columns / tile_size, rows / tile_size))) + 1)


#: Decoded tiles kept per process, of all pyramids (at most 8 MB of uint8 value +
#: alpha, 16 MB of float32): a viewer asks for neighbouring tiles together, and a
#: normalised tile reads its neighbours' rows (its window's margins), so neighbours
#: are decoded once. Keyed by path: a pyramid's path never changes content.
DECODED_TILES = 64
_DECODED: OrderedDict[tuple[str, int, int, int], np.ndarray] = OrderedDict()
_DECODED_LOCK = threading.Lock()
#: Tiles of a window fetched in one coalesced read at most (well under :data:`DECODED_TILES`,
#: so a band's tiles are still kept when the window copies them).
PREFETCH_TILES = 32


class TileIndexError(IndexError):
    """The tile address is outside the stored page."""


class ReadTooLargeError(OutputTooLargeError):
    """A request whose read would decode more pixels than the read budget allows.

    Raised before any tile is decoded. ``limit`` is the budget in pixels.
    """


class ByteSource(Protocol):
    """Ranged reads of one stored pyramid (:class:`ingest.storage.RangeReader` is one).

    Attributes:
        name: a stable name of the pyramid (keys the decoded tiles).
        size: its size in bytes.
    """

    name: str

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]: ...

    def close(self) -> None: ...


class _PathSource:
    """A local TIFF read with ``os.pread`` (what :class:`PyramidFile` opens for a path)."""

    def __init__(self, path: str):
        self.name = path
        fd = os.open(path, os.O_RDONLY)
        self._fd = fd
        self._closer = weakref.finalize(self, os.close, fd)  # also at collection and exit
        self._size = os.fstat(fd).st_size

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        return [os.pread(self._fd, length, offset) for offset, length in ranges]

    def close(self) -> None:
        self._closer()


#: Bytes fetched at once while parsing the TIFF structure (an IFD and its small tag
#: values come in one read; a tile offset table in one read of its own size).
HEADER_READAHEAD = 16 << 10


class _StructureFile(io.RawIOBase):
    """A read-only file object over a :class:`ByteSource`, for tifffile to parse the TIFF structure.

    Every read is served from the chunks fetched so far or fetches one more (at
    least :data:`HEADER_READAHEAD` bytes). ``chunks`` (``[(offset, bytes)]``) are
    what the parse read: given to another process's parse (through the tiles cache),
    they let it parse without a single request.
    """

    def __init__(self, source: ByteSource, chunks: list[tuple[int, bytes]] | None = None):
        super().__init__()
        self._source = source
        self._size = source.size
        self._pos = 0
        self.chunks: list[tuple[int, bytes]] = list(chunks or [])
        self.fetched = 0

    @property
    def name(self) -> str:
        return self._source.name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:  # a writable buffer (bytearray, memoryview)
        view = memoryview(buffer).cast("B")
        length = min(len(view), max(0, self._size - self._pos))
        if length == 0:
            return 0
        data = self._bytes(self._pos, length)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _bytes(self, offset: int, length: int) -> bytes:
        for start, data in self.chunks:
            if start <= offset and offset + length <= start + len(data):
                return data[offset - start : offset - start + length]
        data = self._source.read(offset, min(self._size - offset, max(length, HEADER_READAHEAD)))
        self.chunks.append((offset, data))
        self.fetched += 1
        return data[:length]


class PyramidFile:
    """An open pyramid: each page's tile index and decoder, and ranged reads of its tiles.

    A page is a stored level of the TIFF, indexed as stored: page 0 is full
    resolution, page ``p`` is reduced by ``2 ** p``. (A large_image ``level``,
    ``z`` in URLs, counts the other way, 0 the coarsest:
    :meth:`tiles.source.ImageSource.page` maps one to the other.)

    The TIFF structure (IFDs, tile offset and byte-count tables) is parsed once, by
    tifffile reading through ranged reads (:class:`_StructureFile`), never the whole
    file; a tile is then one ranged read (``os.pread`` locally, a ranged GET on a
    bucket) and the page's decoder, which holds no file. A window's missing tiles
    are fetched together (:meth:`ByteSource.read_many` coalesces adjacent ones).

    Args:
        source: a local path, or a :class:`ByteSource` (a stored pyramid).
        chunks: the bytes an earlier parse of the same pyramid read (:attr:`chunks`),
            to parse without reading (shared between processes by the caller).

    Attributes:
        pages: number of stored pages (0 = full resolution).
        shapes: ``(rows, columns)`` of each stored page, full resolution first.
        samples: values per pixel (2 for uint8 value and alpha, 1 for float32).
        dtype: the stored values' type (uint8 or float32).
        text_tags: each page's text tags (``imagedescription``, ``software``...), lower-case names.
        chunks: ``[(offset, bytes)]`` the parse read (or was given).
        parse_reads: reads the parse made (0 when ``chunks`` held everything).
    """

    def __init__(self, source: str | ByteSource, chunks: list[tuple[int, bytes]] | None = None):
        self._source: ByteSource = _PathSource(source) if isinstance(source, str) else source
        structure = _StructureFile(self._source, chunks)
        with tifffile.TiffFile(cast(BinaryIO, structure)) as tiff:
            # TiffPages yields TiffPage objects (TiffFrame only with useframes, which we never set).
            stored = cast(list[tifffile.TiffPage], list(tiff.pages))
            self.shapes = [page.shape[:2] for page in stored]
            self._grids = [
                (-(-page.shape[1] // page.tilewidth), -(-page.shape[0] // page.tilelength)) for page in stored
            ]
            self._tile_shapes = [(page.tilelength, page.tilewidth) for page in stored]
            self._index = [(page.dataoffsets, page.databytecounts, page.decode) for page in stored]
            self.samples = stored[0].samplesperpixel
            self.dtype = np.dtype(stored[0].dtype)
            self.text_tags = [
                {tag.name.lower(): tag.value for tag in page.tags.values() if isinstance(tag.value, str)}
                for page in stored
            ]
        self.pages = len(stored)
        self.chunks = structure.chunks
        self.parse_reads = structure.fetched
        self._path = self._source.name

    def structure_file(self) -> BinaryIO:
        """A read-only file object of the pyramid over ranged reads, with the parsed structure preloaded.

        For tools that read the TIFF structure from a file object (tifftools' dump):
        the IFDs and tag values come from :attr:`chunks`, anything else is a ranged read.
        """
        return cast(BinaryIO, io.BufferedReader(_StructureFile(self._source, self.chunks)))

    def tile(self, page: int, x: int, y: int) -> np.ndarray:
        """The stored tile ``(x, y)`` of a page, as written (edge tiles padded).

        Args:
            page: stored page, 0 = full resolution.
            x: tile column.
            y: tile row (0 = shallowest).

        Returns:
            ``(256, 256, samples)``: uint8 value and alpha, or float32 (NaN nodata);
            read-only (the last :data:`DECODED_TILES` decoded are kept and shared).

        Raises:
            TileIndexError: no such page or tile.
        """
        key = (self._path, page, x, y)
        with _DECODED_LOCK:
            kept = _DECODED.get(key)
            if kept is not None:
                _DECODED.move_to_end(key)
                return kept
        tile = self._decode(page, x, y)
        tile.flags.writeable = False
        with _DECODED_LOCK:
            _DECODED[key] = tile
            while len(_DECODED) > DECODED_TILES:
                _DECODED.popitem(last=False)
        return tile

    def _tile_range(self, page: int, x: int, y: int) -> tuple[int, int, int]:
        """``(index, offset, byte count)`` of a stored tile in its page and in the file.

        Raises:
            TileIndexError: no such page or tile.
        """
        if not 0 <= page < self.pages:
            raise TileIndexError(f"page {page} is not stored (0..{self.pages - 1})")
        across, down = self._grids[page]
        if not (0 <= x < across and 0 <= y < down):
            raise TileIndexError(f"tile x={x} y={y} is outside page {page} ({across} x {down} tiles)")
        index = y * across + x
        offsets, counts, _ = self._index[page]
        return index, int(offsets[index]), int(counts[index])

    def tile_range(self, page: int, x: int, y: int) -> tuple[int, int]:
        """``(offset, byte count)`` of a stored tile in the file.

        Raises:
            TileIndexError: no such page or tile.
        """
        return self._tile_range(page, x, y)[1:]

    def tile_bytes(self, page: int, x: int, y: int) -> int:
        """The stored (compressed) size of a tile in bytes.

        Raises:
            TileIndexError: no such page or tile.
        """
        return self._tile_range(page, x, y)[2]

    def _decode(self, page: int, x: int, y: int) -> np.ndarray:
        """One stored tile read (one ranged read) and decoded (see :meth:`tile`)."""
        index, offset, count = self._tile_range(page, x, y)
        return self._decode_bytes(page, index, self._source.read(offset, count))

    def _decode_bytes(self, page: int, index: int, data: bytes) -> np.ndarray:
        segment, _, _ = self._index[page][2](data, index)
        if segment is None:  # a sparse tile (no bytes stored): our writer never leaves one
            raise OSError(f"tile {index} of page {page} has no stored data")
        tile: np.ndarray = segment[0]
        return tile

    def prefetch(self, page: int, tiles: list[tuple[int, int]]) -> None:
        """Decode the tiles ``[(x, y)]`` of a page not decoded yet, fetched in one coalesced read.

        Adjacent tiles are contiguous in the file, so a window's tiles cost one
        request on a bucket (:meth:`ByteSource.read_many`). Kept as :meth:`tile` keeps them.

        Raises:
            TileIndexError: a tile outside the page.
        """
        with _DECODED_LOCK:
            missing = [(x, y) for x, y in tiles if (self._path, page, x, y) not in _DECODED]
        if not 2 <= len(missing) <= DECODED_TILES:  # one tile: tile() reads it; too many would not be kept
            return
        where = [self._tile_range(page, x, y) for x, y in missing]
        datas = self._source.read_many([(offset, count) for _, offset, count in where])
        for (x, y), (index, _, _), data in zip(missing, where, datas, strict=True):
            tile = self._decode_bytes(page, index, data)
            tile.flags.writeable = False
            with _DECODED_LOCK:
                _DECODED[(self._path, page, x, y)] = tile
                while len(_DECODED) > DECODED_TILES:
                    _DECODED.popitem(last=False)

    def window(self, page: int, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        """Rows ``[top, bottom)`` and columns ``[left, right)`` of a stored page, from its tiles.

        Args:
            page: stored page, 0 = full resolution.
            top: first row, in that page's pixels.
            bottom: row past the last one (half-open).
            left: first column, in that page's pixels.
            right: column past the last one (half-open).

        Returns:
            ``(bottom - top, right - left, samples)`` of the page's dtype (a copy).

        Raises:
            TileIndexError: no such page, or the window is empty or outside it.
        """
        if not 0 <= page < self.pages:
            raise TileIndexError(f"page {page} is not stored (0..{self.pages - 1})")
        rows, columns = self.shapes[page]
        if not (0 <= top < bottom <= rows and 0 <= left < right <= columns):
            raise TileIndexError(
                f"window rows {top}..{bottom}, columns {left}..{right} is outside page {page} "
                f"({rows} x {columns})"
            )
        high, wide = self._tile_shapes[page]
        xs = range(left // wide, (right - 1) // wide + 1)
        band = max(1, PREFETCH_TILES // len(xs))  # tile rows fetched together (one request each band)
        out: np.ndarray | None = None
        for y in range(top // high, (bottom - 1) // high + 1):
            if (y - top // high) % band == 0:
                self.prefetch(
                    page, [(x, y2) for y2 in range(y, min(y + band, (bottom - 1) // high + 1)) for x in xs]
                )
            for x in xs:
                tile = self.tile(page, x, y)
                if out is None:
                    out = np.empty((bottom - top, right - left, tile.shape[2]), tile.dtype)
                r0, c0 = max(top, y * high), max(left, x * wide)
                r1, c1 = min(bottom, (y + 1) * high), min(right, (x + 1) * wide)
                out[r0 - top : r1 - top, c0 - left : c1 - left] = tile[
                    r0 - y * high : r1 - y * high, c0 - x * wide : c1 - x * wide
                ]
        if out is None:  # unreachable: the check above makes the window hold at least one tile
            raise TileIndexError(f"window rows {top}..{bottom}, columns {left}..{right} is empty")
        return out

    def window_tiles(self, page: int, top: int, bottom: int, left: int, right: int) -> int:
        """How many stored tiles :meth:`window` decodes for a window of a page (0 if it is empty).

        Args:
            page: stored page, 0 = full resolution.
            top: first row, in that page's pixels (clipped to the page, as are the others).
            bottom: row past the last one (half-open).
            left: first column, in that page's pixels.
            right: column past the last one (half-open).

        Returns:
            The number of stored tiles the window touches.
        """
        rows, columns = self.shapes[page]
        top, left = max(0, top), max(0, left)
        bottom, right = min(rows, bottom), min(columns, right)
        if top >= bottom or left >= right:
            return 0
        high, wide = self._tile_shapes[page]
        return ((bottom - 1) // high - top // high + 1) * ((right - 1) // wide - left // wide + 1)

    def tile_grid(self, page: int) -> tuple[int, int, int, int]:
        """``(across, down, tile_height, tile_width)``: a page's tiles per row and column, and their size."""
        across, down = self._grids[page]
        high, wide = self._tile_shapes[page]
        return across, down, high, wide

    def tile_pixels(self, page: int) -> int:
        """Pixels in one stored tile of a page (256 x 256 = 65,536 for our pyramids)."""
        high, wide = self._tile_shapes[page]
        return high * wide

    def read_page(
        self, *, top: int, bottom: int, left: int, right: int, width: int, height: int, max_pixels: int
    ) -> int:
        """The stored page to read a full-resolution window from for a ``width`` x ``height`` output.

        The finest candidate is the coarsest page still at least as large as the
        output in both axes (exact: area-averaging only). A request that shrinks
        much more in one axis than in the other (a 360 x 1 strip of an 800,000-row
        log) may read coarser pages, down to the coarsest one still at least as
        large as the output in the axis that shrinks most: the first candidate whose
        tiles fit in ``max_pixels`` is read (the other axis is then resampled up
        from fewer pixels). Reduction ``2 ** page``; page shapes halve by
        ``ceil`` (:func:`ingest.pyramid.level_shapes`).

        Args:
            top: the window's first row, in full-resolution pixels.
            bottom: the row past its last one (half-open).
            left: the window's first column, in full-resolution pixels.
            right: the column past its last one (half-open).
            width: output width in pixels, >= 1.
            height: output height in pixels, >= 1.
            max_pixels: read budget: stored-tile pixels decoded (tiles x 256 x 256).

        Returns:
            The stored page, 0 = full resolution.

        Raises:
            ReadTooLargeError: even the coarsest candidate decodes more than
                ``max_pixels`` (nothing is decoded).
        """
        shrink = sorted((max(1.0, (right - left) / width), max(1.0, (bottom - top) / height)))
        finest, coarsest = (min(self.pages - 1, math.floor(math.log2(s))) for s in shrink)
        pixels = 0
        for page in range(finest, coarsest + 1):
            r = 2**page
            pixels = self.tile_pixels(page) * self.window_tiles(
                page, top // r, -(-bottom // r), left // r, -(-right // r)
            )
            if pixels <= max_pixels:
                return page
        raise ReadTooLargeError(
            f"the request would decode {pixels} pixels (rows {top}..{bottom}, columns {left}..{right} "
            f"at reduction {2**coarsest}); the read budget is {max_pixels} (DJANGO_TILES_MAX_READ_PIXELS): "
            "ask for a smaller window or a smaller output",
            limit=max_pixels,
        )

    def close(self) -> None:
        """Close the file descriptor of a local pyramid (also done when the object is collected)."""
        self._source.close()


def decoded_forget() -> None:
    """Drop every decoded tile this process keeps (:data:`DECODED_TILES`)."""
    with _DECODED_LOCK:
        _DECODED.clear()


@functools.lru_cache(maxsize=64)
def pyramid_open(path: str) -> PyramidFile:
    """An open :class:`PyramidFile`, kept per process (a pyramid's path never changes content)."""
    return PyramidFile(path)
