"""Reading panoptic PNGs into id maps with panoptiq's Rust decoder."""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np

import panoptiq._core as _core


def read_id_map(path: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO) -> np.ndarray:
    """Read a panoptic PNG into an H x W ``uint32`` map of segment ids.

    Equals ``rgb2id(numpy.array(PIL.Image.open(path), dtype=numpy.uint32))``, as panopticapi
    reads its inputs, for 8-bit RGB and RGBA PNGs (alpha ignored); palette PNGs are expanded to
    their colours first.

    Parameters
    ----------
    path : str, os.PathLike, bytes-like or binary file object
        The PNG file; or its contents (DETR's post-processor hands out
        ``result["png_string"]``); or a file object opened in binary mode, read from where it
        stands to its end (its ``name``, when it has one, names it in errors).

    Returns
    -------
    numpy.ndarray
        The id map, ``uint32``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    TypeError
        If ``path`` is none of the above, or a file object opened in text mode.
    ValueError
        If it is not a PNG, is truncated, or is grayscale or 16-bit.
    """
    if isinstance(path, (bytes, bytearray, memoryview)):
        return _core.read_id_map_png("<PNG bytes>", data=bytes(path))
    read = getattr(path, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"read_id_map needs a file object opened in binary mode ('rb'), got one whose read() "
                f"returns {type(data).__name__}"
            )
        name = getattr(path, "name", None)
        label = os.fspath(name) if isinstance(name, (str, os.PathLike)) else "<PNG file object>"
        return _core.read_id_map_png(label, data=bytes(data))
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_id_map takes a path, PNG bytes or a binary file object, got {type(path).__name__}")
    return _core.read_id_map_png(os.fspath(path))


def write_id_map(path: str | os.PathLike[str], ids: np.ndarray, *, alpha: bool = False) -> None:
    """Write an H x W id map as a panoptic PNG (8-bit RGB, or RGBA with opaque alpha).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    ids : numpy.ndarray
        Segment ids below 2**24, any integer dtype.
    alpha : bool
        Write RGBA instead of RGB.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be a 2-D integer array, got {ids.dtype} of shape {ids.shape}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= 2**24):
        raise ValueError("ids must lie in [0, 2**24) to fit a PNG's three 8-bit channels")
    _core.write_id_map_png(os.fspath(path), np.ascontiguousarray(ids, dtype=np.uint32), alpha)
