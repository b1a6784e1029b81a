"""A large_image tile source over our own pyramid reader: large_image without a local file.

large_image's ``tiff`` source reads through libtiff, which needs a path on the local
disk; a pyramid in a bucket has none. :class:`PyramidTileSource` gives large_image
the same tiles from :class:`tiles.core.pyramid.PyramidFile` (ranged reads, locally
or from object storage), so large_image's styles, its synthesized coarse zooms
(``_getTileFromEmptyLevel``), its regions and its band information work on a stored
pyramid without downloading it. Pure module (no Django).

Levels: large_image's ``z`` runs ``0..levels - 1``, 0 the coarsest; the stored page
of ``z`` is ``levels - 1 - z`` (:func:`tiles.core.pyramid.zoom_levels`); zooms
coarser than the stored pages are composed by large_image from the coarsest stored
page, as its ``tiff`` source does.
"""

# large_image names its methods and arguments in camelCase; an override must keep them.
# ruff: noqa: N802, N803

from __future__ import annotations

import json
from typing import Any

import numpy as np
from large_image.constants import TILE_FORMAT_NUMPY
from large_image.exceptions import TileSourceXYZRangeError
from large_image.tilesource import TileSource

from tiles.core.pyramid import PyramidFile, TileIndexError, zoom_levels


class PyramidTileSource(TileSource):  # type: ignore[misc]  # large_image is untyped
    """large_image's view of one :class:`PyramidFile` (value and alpha, or float32 values).

    Args:
        pyramid: an open pyramid.
        style: a large_image style (JSON text), already checked by
            :func:`tiles.core.style.large_image_style`; None: unstyled.
    """

    name = "depthtiles"
    extensions = {None: 0}  # never picked by large_image's own open()

    def __init__(self, pyramid: PyramidFile, style: str | None = None, **kwargs: Any):
        kwargs.pop("noCache", None)
        self._initValues = ((pyramid,), {"noCache": True})
        super().__init__(noCache=True, **kwargs)
        self._noCache = True
        self._pyramid = pyramid
        rows, columns = pyramid.shapes[0]
        self.tileWidth = self.tileHeight = 256
        self.sizeX, self.sizeY = columns, rows
        self.levels = zoom_levels(columns, rows, 256)
        self._bandCount = pyramid.samples
        self._dtype = pyramid.dtype
        if style:
            self.style = style  # large_image's setter also builds the unstyled twin it composes from

    def _nonemptyLevelsList(self, frame: int | None = 0) -> list[bool]:
        """Stored pages are the finest levels; coarser zooms are None (composed by large_image)."""
        stored = self._pyramid.pages
        return [None if z < self.levels - stored else True for z in range(self.levels)]  # type: ignore[misc]

    def getInternalMetadata(self, **kwargs: Any) -> dict[str, Any]:
        """The text tags of the TIFF, shaped as large_image's ``tiff`` source answers them.

        Page 0's text tags, and other pages' that differ as ``name:page``, under ``tiff``;
        a JSON image description (our depth axis) parsed, under ``xml``.
        """
        tags: dict[str, str] = {}
        for page, found in enumerate(self._pyramid.text_tags):
            for name, value in found.items():
                if not page and name not in tags:
                    tags[name] = value
                elif name not in tags or tags[name] != value:
                    tags[f"{name}:{page}"] = value
        result: dict[str, Any] = {}
        try:  # our depth axis JSON: the ``tiff`` source answers a parsed description as "xml"
            described = json.loads(tags.get("imagedescription", ""))
        except ValueError:
            described = None
        if isinstance(described, dict):
            result["xml"] = described
            tags.pop("imagedescription")
        if tags:
            result["tiff"] = tags
        return result

    def getNativeMagnification(self) -> dict[str, float | None]:
        """No magnification: a depth log is not a microscope slide."""
        return {"magnification": None, "mm_x": None, "mm_y": None}

    def getTile(  # noqa: PLR0917 (large_image's signature)
        self,
        x: int,
        y: int,
        z: int,
        pilImageAllowed: bool = False,
        numpyAllowed: bool | str = False,
        sparseFallback: bool = False,
        frame: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Tile ``(x, y)`` of level ``z`` (0 the coarsest), as large_image's ``tiff`` source answers it.

        Raises:
            TileSourceXYZRangeError: the tile is outside the level.
        """
        self._xyzInRange(x, y, z, frame, None)
        page = self.levels - 1 - z
        if page >= self._pyramid.pages:
            tile, _ = self._getTileFromEmptyLevel(x, y, z, **kwargs)
        else:
            try:
                tile = self._pyramid.tile(page, x, y)
            except TileIndexError as exc:
                raise TileSourceXYZRangeError(str(exc)) from None
        if isinstance(tile, np.ndarray) and not tile.flags.writeable:
            tile = tile.copy()  # large_image may write into the array; ours are shared read-only
        return self._outputTile(tile, TILE_FORMAT_NUMPY, x, y, z, pilImageAllowed, numpyAllowed, **kwargs)
