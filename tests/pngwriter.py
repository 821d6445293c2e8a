"""A small, independent PNG encoder for tests: any filter per row, Adam7 interlacing, RGB, RGBA
and palette images. It exists to make the layouts that common encoders never choose."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
COLOR_TYPE = {"palette": 3, "rgb": 2, "rgba": 6}


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_row(kind: int, row: bytes, above: bytes, bpp: int) -> bytes:
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = above[i]
        c = above[i - bpp] if i >= bpp else 0
        predictor = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out[i] = (x - predictor) % 256
    return bytes([kind]) + bytes(out)


def _scanlines(image: np.ndarray, filters: Sequence[int], bpp: int, first_filter: int) -> bytes:
    raw = bytearray()
    above = bytes(image.shape[1] * bpp)
    for y in range(image.shape[0]):
        row = image[y].tobytes()
        raw += _filter_row(filters[(first_filter + y) % len(filters)], row, above, bpp)
        above = row
    return bytes(raw)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(
    path: Path,
    image: np.ndarray,
    color: str,
    filters: Sequence[int],
    interlace: bool = False,
    palette: np.ndarray | None = None,
    level: int = 6,
    strategy: int = zlib.Z_DEFAULT_STRATEGY,
) -> None:
    """Write ``image`` (H x W x C uint8, or H x W indices for a palette image) as a PNG.

    Row ``y`` (counting through the Adam7 passes when interlaced) uses ``filters[y % len]``; the
    image data is compressed by zlib at ``level`` with ``strategy``.
    """
    image = np.ascontiguousarray(image if image.ndim == 3 else image[:, :, None], dtype=np.uint8)
    height, width, bpp = image.shape
    if interlace:
        raw, first = b"", 0
        for x0, y0, dx, dy in ADAM7:
            sub = image[y0::dy, x0::dx]
            if sub.size:
                raw += _scanlines(sub, filters, bpp, first)
                first += sub.shape[0]
    else:
        raw = _scanlines(image, filters, bpp, 0)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPE[color], 0, 0, int(interlace))
    body = _chunk(b"IHDR", header)
    if color == "palette":
        body += _chunk(b"PLTE", np.asarray(palette, dtype=np.uint8).tobytes())
    # Split the data over several IDAT chunks, as large encoders do.
    compressor = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    data = compressor.compress(raw) + compressor.flush()
    for start in range(0, max(len(data), 1), 97):
        body += _chunk(b"IDAT", data[start : start + 97])
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b""))
