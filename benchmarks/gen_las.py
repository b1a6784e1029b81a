"""Generate a large LWD-like LAS 2.0 image log, fast, for the ingest benchmark.

``python -m benchmarks.gen_las PATH --rows N --sectors M`` (or ``--columns M``) writes a LAS 2.0 file
(``WRAP NO``) shaped like a logging-while-drilling azimuthal image:

* ``~C``: the index ``DEPT .M``, then one curve per sector, ``ABDC1M`` ..
  ``ABDC<M>M`` (unit ``g/cc``), a sector family :mod:`ingest.las` reads as one
  image ``ABDC`` of M columns;
* ``~A``: one line per depth: the depth (from 1000.0000 m, step 0.0025 m, 4
  decimals, computed from integers), then each sector's value in a 9-character
  column (``"   2.3125"``), ``NULL`` (-999.25) for a fraction of the cells;
* the values are the CSV generator's synthetic borehole image
  (:mod:`benchmarks.gen_csv`: texture, grain, bedding planes; 0..255) times
  0.0125, so 0..3.1875 g/cc with at most 4 decimals, exact in the text.

Blocks of :data:`benchmarks.gen_csv.BLOCK_ROWS` lines are built with numpy from
fixed-width slots looked up in tables and written as they are made, so memory
stays small whatever the size. 2,000,000 x 360 is about 6.5 GB. The output
depends only on ``(rows, sectors, seed, null_fraction)``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from benchmarks.gen_csv import (
    _GRAIN,
    BLOCK_ROWS,
    DEPTH_START_E4,
    DEPTH_STEP_E4,
    TEXTURE_SCALES,
    _Beds,
    _Texture,
    depth_text,
)

#: Bytes of one value column, and the value of one pixel step (g/cc).
VALUE_WIDTH = 9
VALUE_STEP = 0.0125
NULL = -999.25
_PAD = 0


def _value_text() -> np.ndarray:
    """``(257, VALUE_WIDTH) uint8``: the text of each value 0..255, then of NULL (index 256)."""
    texts = [f"{v * VALUE_STEP:{VALUE_WIDTH}.4f}" for v in range(256)] + [f"{NULL:{VALUE_WIDTH}.2f}"]
    return np.frombuffer("".join(texts).encode(), np.uint8).reshape(257, VALUE_WIDTH)


_VALUE_TEXT = _value_text()


def las_header(rows: int, sectors: int) -> str:
    """The sections before the data (``~V``, ``~W``, ``~C``) and the ``~A`` line."""
    stop = (DEPTH_START_E4 + DEPTH_STEP_E4 * (rows - 1)) / 10_000
    well = [
        ("STRT", "M", f"{DEPTH_START_E4 / 10_000:.4f}", "START DEPTH"),
        ("STOP", "M", f"{stop:.4f}", "STOP DEPTH"),
        ("STEP", "M", f"{DEPTH_STEP_E4 / 10_000:.4f}", "STEP"),
        ("NULL", "", f"{NULL}", "NULL VALUE"),
        ("COMP", "", "Benchmark Drilling", "COMPANY"),
        ("WELL", "", "BENCH-1", "WELL"),
        ("FLD", "", "Synthetic", "FIELD"),
        ("UWI", "", "00-000-00000", "UNIQUE WELL ID"),
    ]
    lines = [
        "~Version ---------------------------------------------------",
        "VERS.   2.0 : CWLS log ASCII Standard -VERSION 2.0",
        "WRAP.   NO  : One line per depth step",
        "~Well ------------------------------------------------------",
        *(f"{m:<5}.{u:<4} {v:<20} : {d}" for m, u, v, d in well),
        "~Curve Information -----------------------------------------",
        "DEPT    .M       : DEPTH",
        *(f"ABDC{j}M.g/cc : Bulk density, sector {j}" for j in range(1, sectors + 1)),
        "~Parameter -------------------------------------------------",
        "BS      .IN   8.5 : Bit size",
        "~ASCII -----------------------------------------------------",
    ]
    return "\n".join(lines) + "\n"


def las_bytes(depth: np.ndarray, values: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Encode one block of samples as ``~A`` lines.

    Args:
        depth: ``(n, k) uint8`` depth text, NUL padded (:func:`benchmarks.gen_csv.depth_text`).
        values: ``(n, sectors) uint8`` pixel values.
        null: ``(n, sectors) bool``; True writes NULL.

    Returns:
        ``(bytes,) uint8``: the lines, each ending in LF.
    """
    n, sectors = values.shape
    codes = values.astype(np.int16)
    codes[null] = 256
    lines = np.empty((n, depth.shape[1] + sectors * VALUE_WIDTH + 1), np.uint8)
    lines[:, : depth.shape[1]] = depth
    cells = lines[:, depth.shape[1] : -1].reshape(n, sectors, VALUE_WIDTH)
    np.take(_VALUE_TEXT, codes, axis=0, out=cells)
    lines[:, -1] = ord("\n")
    flat = lines.ravel()
    return flat[flat != _PAD]


def generate(
    path: str | Path,
    rows: int,
    sectors: int = 360,
    *,
    seed: int = 0,
    null_fraction: float = 0.001,
) -> int:
    """Write a synthetic LWD image log as LAS 2.0.

    Args:
        path: output file (overwritten).
        rows: depths (samples), >= 1.
        sectors: sector curves, >= 4 (fewer are no sector family).
        seed: seeds every random draw; same arguments, same bytes.
        null_fraction: share of sector values written as NULL, 0..1.

    Returns:
        The size of the file in bytes.
    """
    if rows < 1 or sectors < 4:
        raise ValueError("rows must be at least 1 and sectors at least 4")
    rng = np.random.default_rng(seed)
    textures = [
        (_Texture(rng, rows, spacing, min(nodes, sectors)), amplitude)
        for spacing, nodes, amplitude in TEXTURE_SCALES
    ]
    beds = _Beds(rng, rows)
    deepest = DEPTH_START_E4 + DEPTH_STEP_E4 * (rows - 1)
    whole_digits = len(str(deepest // 10_000))
    with open(path, "wb") as f:
        f.write(las_header(rows, sectors).encode())
        for first_row in range(0, rows, BLOCK_ROWS):
            n = min(BLOCK_ROWS, rows - first_row)
            block_rng = np.random.default_rng([seed, first_row])
            image = np.full((n, sectors), 128.0, np.float32)
            for texture, amplitude in textures:
                image += amplitude * texture.block(first_row, n, sectors)
            beds.apply(image, first_row)
            image += _GRAIN[block_rng.integers(0, 256, (n, sectors), np.uint8)]
            values = np.clip(np.rint(image, out=image), 0, 255, out=image).astype(np.uint8)
            null = np.zeros((n, sectors), bool)
            cells = block_rng.binomial(n * sectors, null_fraction)
            null.flat[block_rng.integers(0, n * sectors, cells)] = True
            f.write(las_bytes(depth_text(first_row, n, whole_digits), values, null))
    return os.path.getsize(path)


def main() -> None:
    """Parse the command line and write the LAS file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--sectors", "--columns", type=int, default=360)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--null-fraction", type=float, default=0.001)
    args = parser.parse_args()
    size = generate(args.path, args.rows, args.sectors, seed=args.seed, null_fraction=args.null_fraction)
    print(f"wrote {args.path}: {args.rows} x {args.sectors}, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
