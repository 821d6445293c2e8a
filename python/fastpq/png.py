"""Reading panoptic PNGs into id maps with fastpq's Rust decoder."""

from __future__ import annotations

import os

import numpy as np

from fastpq import _core


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
