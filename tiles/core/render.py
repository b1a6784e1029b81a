"""Resample and encode rendered windows.

Pure module. Resampling works on the stored values before colouring, so a
colormap is never averaged (averaging colours invents hues the palette lacks):
values are area-averaged over valid pixels only (a box filter that ignores
nodata), and a pixel whose footprint holds no valid value is nodata.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage

#: URL format -> (PIL format, MIME type, largest side the format allows).
FORMATS = {
    "png": ("PNG", "image/png", 2**31 - 1),
    "jpeg": ("JPEG", "image/jpeg", 65535),
    "jpg": ("JPEG", "image/jpeg", 65535),
    "webp": ("WEBP", "image/webp", 16383),
    "tiff": ("TIFF", "image/tiff", 2**31 - 1),
    "tif": ("TIFF", "image/tiff", 2**31 - 1),
}

#: Background put under transparent pixels for formats without alpha (JPEG).
JPEG_BACKGROUND = 255


class OutputTooLargeError(ValueError):
    """A requested output larger than the server or the format allows."""


def check_output_size(width: int, height: int, fmt: str, max_pixels: int) -> None:
    """Refuse an output before any pixel is read.

    Raises:
        OutputTooLargeError: more than ``max_pixels`` pixels, or a side longer
            than the format allows (JPEG 65,535, WebP 16,383).
    """
    if width * height > max_pixels:
        raise OutputTooLargeError(
            f"the output would be {width} x {height} = {width * height} pixels; "
            f"the limit is {max_pixels}: ask for a smaller width/height or depth range"
        )
    side = FORMATS[fmt][2]
    if max(width, height) > side:
        raise OutputTooLargeError(
            f"{fmt.upper()} allows at most {side} pixels per side; "
            f"the output would be {width} x {height}"
        )


def resample(raw: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize stored values to exactly ``width`` x ``height``, ignoring nodata.

    Args:
        raw: ``(h, w, 2) uint8`` value and alpha.
        width: output width in pixels, >= 1.
        height: output height in pixels, >= 1.

    Returns:
        ``(height, width, 2) uint8``. Each output pixel is the area-weighted mean
        of the valid input pixels under it (PIL's BOX filter on value * valid
        and on valid); alpha is 255 where any valid input contributed.
    """
    if raw.shape[:2] == (height, width):
        return raw
    valid = (raw[..., 1] > 0).astype(np.float32)
    weighted = raw[..., 0].astype(np.float32) * valid
    box = PILImage.Resampling.BOX
    w_img = PILImage.fromarray(weighted).resize((width, height), box)
    v_img = PILImage.fromarray(valid).resize((width, height), box)
    total = np.asarray(w_img, dtype=np.float32)
    coverage = np.asarray(v_img, dtype=np.float32)
    out = np.zeros((height, width, 2), np.uint8)
    has = coverage > 1e-6
    out[..., 0][has] = np.clip(np.rint(total[has] / coverage[has]), 0, 255).astype(np.uint8)
    out[..., 1][has] = 255
    return out


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
    options: dict = {}
    if pil_format == "JPEG":
        background = PILImage.new(mode, image.size, (JPEG_BACKGROUND,) * len(mode))
        image = PILImage.alpha_composite(background.convert("RGBA"), image.convert("RGBA"))
        image = image.convert("L" if mode == "LA" else "RGB")
        options = {"quality": 90}
    elif pil_format == "PNG":
        options = {"compress_level": 1}
    elif pil_format == "WEBP":
        image = image.convert("RGBA")  # WebP has no grey + alpha mode
        options = {"lossless": True}
    elif pil_format == "TIFF":
        options = {"compression": "tiff_adobe_deflate"}
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format, **options)
    return buffer.getvalue(), mime
