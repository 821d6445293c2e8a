"""Reading panoptic PNGs into id maps with panoptiq's Rust decoder."""

from __future__ import annotations

import os

import numpy as np

import panoptiq._core as _core


def read_id_map(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a panoptic PNG into an H x W ``uint32`` map of segment ids.

    Equals ``rgb2id(numpy.array(PIL.Image.open(path), dtype=numpy.uint32))``, as panopticapi
    reads its inputs, for 8-bit RGB and RGBA PNGs (alpha ignored); palette PNGs are expanded to
    their colours first.

    Parameters
    ----------
    path : str or os.PathLike
        The PNG file.

    Returns
    -------
    numpy.ndarray
        The id map, ``uint32``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a PNG, is truncated, or is grayscale or 16-bit.
    """
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
