"""Resample and encode rendered windows.

Pure module. Resampling works on the stored values before colouring, so a
colormap is never averaged (averaging colours invents hues the palette lacks):
values are area-averaged over valid pixels only (a box filter that ignores
nodata), and a pixel whose footprint holds no valid value is nodata.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
from PIL import Image as PILImage

from tiles.core.png import encode_png
from tiles.core.style import Style, apply_style, lookup_table

#: URL format -> (PIL format, MIME type, largest side the format allows).
FORMATS = {
    "png": ("PNG", "image/png", 2**31 - 1),
    "jpeg": ("JPEG", "image/jpeg", 65535),
    "jpg": ("JPEG", "image/jpeg", 65535),
    "webp": ("WEBP", "image/webp", 16383),
    "tiff": ("TIFF", "image/tiff", 2**31 - 1),
    "tif": ("TIFF", "image/tiff", 2**31 - 1),
    "npy": ("NPY", "application/x-npy", 2**31 - 1),
}

#: Background put under transparent pixels for formats without alpha (JPEG).
JPEG_BACKGROUND = 255


class OutputTooLargeError(ValueError):
    """A requested output larger than the server or the format allows.

    Attributes:
        limit: the limit that was passed (pixels, pixels per side or frames), or None.
    """

    def __init__(self, message: str, *, limit: int | None = None):
        super().__init__(message)
        self.limit = limit


def check_output_size(width: int, height: int, fmt: str, max_pixels: int) -> None:
    """Refuse an output before any pixel is read.

    Raises:
        OutputTooLargeError: more than ``max_pixels`` pixels, or a side longer
            than the format allows (JPEG 65,535, WebP 16,383).
    """
    if width * height > max_pixels:
        raise OutputTooLargeError(
            f"the output would be {width} x {height} = {width * height} pixels; "
            f"the limit is {max_pixels}: ask for a smaller width/height or depth range",
            limit=max_pixels,
        )
    side = FORMATS[fmt][2]
    if max(width, height) > side:
        raise OutputTooLargeError(
            f"{fmt.upper()} allows at most {side} pixels per side; the output would be {width} x {height}",
            limit=side,
        )


def resample(
    raw: np.ndarray, width: int, height: int, box: tuple[float, float, float, float] | None = None
) -> np.ndarray:
    """Resize stored values to exactly ``width`` x ``height``, ignoring nodata.

    Args:
        raw: ``(h, w, 2) uint8`` value and alpha.
        width: output width in pixels, >= 1.
        height: output height in pixels, >= 1.
        box: the part of ``raw`` to resize, ``(left, top, right, bottom)`` in
            fractional pixels of ``raw`` (PIL's ``resize(box=)``); default all of it.

    Returns:
        ``(height, width, 2) uint8``. Each output pixel is the area-weighted mean
        of the valid input pixels under it (PIL's BOX filter on value * valid
        and on valid); alpha is 255 where any valid input contributed.
    """
    if raw.shape[:2] == (height, width) and box in (None, (0, 0, width, height)):
        return raw
    size, kind = (width, height), PILImage.Resampling.BOX
    if raw[..., 1].all():  # no nodata: one resize, the mean of the values
        mean = PILImage.fromarray(raw[..., 0].astype(np.float32)).resize(size, kind, box)
        out = np.empty((height, width, 2), np.uint8)
        out[..., 0] = np.clip(np.rint(np.asarray(mean, dtype=np.float32)), 0, 255)
        out[..., 1] = 255
        return out
    valid = (raw[..., 1] > 0).astype(np.float32)
    weighted = raw[..., 0].astype(np.float32) * valid
    w_img = PILImage.fromarray(weighted).resize(size, kind, box)
    v_img = PILImage.fromarray(valid).resize(size, kind, box)
    total = np.asarray(w_img, dtype=np.float32)
    coverage = np.asarray(v_img, dtype=np.float32)
    out = np.zeros((height, width, 2), np.uint8)
    has = coverage > 1e-6
    out[..., 0][has] = np.clip(np.rint(total[has] / coverage[has]), 0, 255).astype(np.uint8)
    out[..., 1][has] = 255
    return out


def resample_float(
    values: np.ndarray, width: int, height: int, box: tuple[float, float, float, float] | None = None
) -> np.ndarray:
    """Resize float values to exactly ``width`` x ``height``, ignoring NaN (nodata).

    Args:
        values: ``(h, w) float32``, NaN = nodata.
        width: output width in pixels, >= 1.
        height: output height in pixels, >= 1.
        box: the part of ``values`` to resize, as for :func:`resample`.

    Returns:
        ``(height, width) float32``: area-weighted mean of the non-NaN values
        under each output pixel (PIL's BOX filter), NaN where there is none.
    """
    if values.shape == (height, width) and box in (None, (0, 0, width, height)):
        return values
    valid = ~np.isnan(values)
    size, kind = (width, height), PILImage.Resampling.BOX
    total = np.asarray(
        PILImage.fromarray(np.where(valid, values, 0).astype(np.float32)).resize(size, kind, box)
    )
    coverage = np.asarray(PILImage.fromarray(valid.astype(np.float32)).resize(size, kind, box))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(coverage > 1e-6, total / coverage, np.nan).astype(np.float32)


def encode_floats(values: np.ndarray) -> bytes:
    """``np.save`` bytes of ``(h, w) float32`` values (NaN = nodata)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(values, np.float32), allow_pickle=False)
    return buffer.getvalue()


def encode(pixels: np.ndarray, fmt: str) -> tuple[bytes, str]:
    """Encode grey + alpha or RGBA pixels.

    Args:
        pixels: ``(h, w, 2) uint8`` (grey, alpha) or ``(h, w, 4) uint8`` (RGBA).
        fmt: a key of :data:`FORMATS`.

    Returns:
        (encoded bytes, MIME type). JPEG has no alpha: transparent pixels are
        put on a white background.
    """
    pil_format, mime, _ = FORMATS[fmt]
    mode = "LA" if pixels.shape[2] == 2 else "RGBA"
    image = PILImage.fromarray(np.ascontiguousarray(pixels))
    options: dict[str, Any] = {}
    if pil_format == "JPEG":
        background = PILImage.new(mode, image.size, (JPEG_BACKGROUND,) * len(mode))
        image = PILImage.alpha_composite(background.convert("RGBA"), image.convert("RGBA"))
        image = image.convert("L" if mode == "LA" else "RGB")
        options = {"quality": 90}
    elif pil_format == "PNG":
        options = {"compress_level": 1}
    elif pil_format == "WEBP":
        image = image.convert("RGBA")  # WebP has no grey + alpha mode
        # Lossless, fastest effort: same pixels as PNG, about as small as PNG "P".
        options = {"lossless": True, "quality": 0, "method": 0}
    elif pil_format == "TIFF":
        options = {"compression": "tiff_adobe_deflate"}
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format, **options)
    return buffer.getvalue(), mime


def encode_values(raw: np.ndarray) -> bytes:
    """The stored values as a NumPy ``.npy`` file (no colour).

    Args:
        raw: ``(h, w, 2) uint8`` value and alpha.

    Returns:
        ``np.save`` bytes of ``(h, w) uint8`` when no pixel is nodata, else of
        ``(h, w) float32`` with NaN for nodata. Row ``r`` is at the depth given by
        the response headers (``X-Depth-Min + r * X-Depth-Step``).
    """
    value, alpha = raw[..., 0], raw[..., 1]
    array: np.ndarray = np.ascontiguousarray(value)
    if (alpha == 0).any():
        array = np.where(alpha > 0, value.astype(np.float32), np.float32("nan"))
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _free_index(value: np.ndarray, nodata: int) -> int | None:
    """A byte value no valid pixel uses (to stand for nodata), or None.

    Relies on the raw-window convention that nodata pixels hold the value 0, so
    one ``bincount`` over all pixels, less the nodata count at 0, counts the
    valid values.
    """
    counts = np.bincount(value.ravel(), minlength=256)
    counts[0] -= nodata
    unused = np.flatnonzero(counts == 0)
    return int(unused[0]) if unused.size else None


def render(raw: np.ndarray, style: Style, fmt: str, *, unused: int | None = None) -> tuple[bytes, str]:
    """Colour and encode a window of stored values, choosing the cheapest exact encoding.

    For PNG, a styled uint8 band is an indexed image: the stored value is the
    palette index and the style's lookup table is the palette (PLTE + tRNS), so
    colouring costs nothing and the file holds one byte per pixel. Nodata takes
    a byte value no valid pixel uses, made transparent; if every value is used,
    the output falls back to RGBA (or grey + alpha), still by
    :func:`tiles.core.png.encode_png`. Grey without nodata is plain 8-bit grey (the
    stored values); grey with nodata is indexed with an identity grey palette,
    so the indices are the stored values. Other formats go through RGBA (or
    grey + alpha) and :func:`encode`.

    Args:
        raw: ``(h, w, 2) uint8`` value and alpha (0 = nodata, whose value is 0).
        style: the colour mapping.
        fmt: a key of :data:`FORMATS`.
        unused: a byte value no valid pixel of ``raw`` holds, when the caller
            knows one (a value outside the image's stored range, recorded at
            ingest); it stands for nodata without counting the values.

    Returns:
        (encoded bytes, MIME type). Decoded to RGBA (or grey + alpha), every
        encoding gives the same pixels as :func:`tiles.core.style.apply_style`.
    """
    if fmt == "npy":
        return encode_values(raw), FORMATS["npy"][1]
    if FORMATS[fmt][0] != "PNG":
        return encode(apply_style(raw, style), fmt)
    value = raw[..., 0].copy()  # contiguous, and ours to change (raw may be a cached tile)
    missing = raw[..., 1] == 0
    nodata = int(np.count_nonzero(missing))
    if style.is_grey and not nodata:
        return encode_png(value), "image/png"
    palette, transparency = _palette_of(style)
    if nodata:
        free = unused if unused is not None else _free_index(value, nodata)
        if free is None:  # every index is a colour: grey + alpha or RGBA, our encoder too
            return encode_png(np.ascontiguousarray(apply_style(raw, style))), "image/png"
        value[missing] = free
        transparency = transparency.copy()
        transparency[free] = 0
    return encode_png(value, palette=palette, transparency=transparency), "image/png"


@functools.lru_cache(maxsize=256)
def _palette_of(style: Style) -> tuple[np.ndarray, np.ndarray]:
    """PLTE and tRNS of a style: ``(256, 3) uint8`` RGB and ``(256,) uint8`` alpha."""
    table = lookup_table(style)
    if table.shape[1] == 1:  # grey with min/max
        return np.repeat(table, 3, axis=1), np.full(256, 255, np.uint8)
    return np.ascontiguousarray(table[:, :3]), np.ascontiguousarray(table[:, 3])
