"""Segment ids and colours: panopticapi's ``rgb2id`` and ``id2rgb``, computed in Rust."""

from __future__ import annotations

from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._arrays import as_numpy


def rgb2id(color: Any) -> Any:
    """Pack RGB colours into segment ids, ``R + 256 * G + 256**2 * B``.

    Same results, dtypes and accepted inputs as ``panopticapi.utils.rgb2id``.

    Parameters
    ----------
    color : array_like or sequence
        An H x W x C array of any numeric dtype (C >= 3; channels past the third, such as
        alpha, are ignored), in any memory layout — a numpy array or anything exposing
        ``__dlpack__`` or ``__array__``, such as a CPU torch tensor — or a single colour
        ``[r, g, b]``.

    Returns
    -------
    numpy.ndarray or int
        For an array, the H x W id map: ``int32`` for ``uint8`` input (as panopticapi returns)
        and for other integers narrower than 32 bits (where panopticapi overflows), otherwise
        the dtype numpy's arithmetic gives, as in panopticapi. For a single colour, a Python
        int.

    Examples
    --------
    >>> rgb2id([1, 2, 3])
    197121
    """
    color = _array_if_array_like(color, "color")
    if isinstance(color, np.ndarray) and color.ndim == 3:
        if color.shape[2] < 3:
            raise ValueError(f"rgb2id needs at least 3 channels, got an array of shape {color.shape}")
        if color.dtype == np.uint8:
            # ids of 8-bit colours are below 2**24, so the uint32 result is also a valid int32.
            return _core.rgb2id_u8(np.ascontiguousarray(color)).view(np.int32)
        if color.dtype == np.uint32:
            return _core.rgb2id_u32(np.ascontiguousarray(color))
        if color.dtype.kind in "iu" and color.dtype.itemsize < 4:
            # panopticapi overflows on these: numpy 2 raises (256 * 256 does not fit the dtype),
            # numpy 1 wraps int8/int16 sums into wrong ids. Widening first gives the right ids.
            color = color.astype(np.int32)
        return color[:, :, 0] + 256 * color[:, :, 1] + 256 * 256 * color[:, :, 2]
    if isinstance(color, np.ndarray) and color.dtype.kind in "iu":
        color = color.astype(np.int64)  # a uint8 colour would overflow in 256 * g
    return int(color[0] + 256 * color[1] + 256 * 256 * color[2])


def id2rgb(id_map: Any) -> Any:
    """Unpack segment ids into RGB colours, the inverse of :func:`rgb2id`.

    Same results as ``panopticapi.utils.id2rgb``, also for dtypes on which panopticapi fails
    under numpy 2 (8-bit and 16-bit integers).

    Parameters
    ----------
    id_map : array_like or int
        Ids of any shape and memory layout (a numpy array or anything exposing ``__dlpack__``
        or ``__array__``, such as a CPU torch tensor), or a single id.

    Returns
    -------
    numpy.ndarray or list of int
        For an array, a ``uint8`` array of shape ``id_map.shape + (3,)``: the lowest three bytes
        of each id (two's complement for negative ids, as floor division and modulo give).
        For a single id, ``[r, g, b]``.

    Examples
    --------
    >>> id2rgb(197121)
    [1, 2, 3]
    """
    id_map = _array_if_array_like(id_map, "id_map")
    if isinstance(id_map, np.ndarray):
        if id_map.dtype == np.bool_:
            raise TypeError("id2rgb needs numeric ids, got a boolean array")
        if id_map.dtype.kind in "iu":
            # Truncating to 32 bits keeps the low bytes, which are all that id2rgb returns.
            ids = id_map.view(np.uint32) if id_map.dtype.itemsize == 4 else id_map.astype(np.uint32)
            # The core works on a flat C-ordered buffer (reshape copies only strided input).
            return _core.id2rgb(ids.reshape(-1)).reshape(*ids.shape, 3)
        return _id2rgb_generic(id_map)
    color = []
    for _ in range(3):
        color.append(id_map % 256)
        id_map //= 256
    return color


def _array_if_array_like(value: Any, name: str) -> Any:
    """Tensors and other array-likes as numpy arrays; numbers, numpy scalars and lists stay.

    panopticapi returns a single id or colour (not an array) for those, and so does panoptiq.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    if hasattr(value, "__dlpack__") or hasattr(value, "__array__"):
        return as_numpy(value, name)
    return value


def _id2rgb_generic(id_map: np.ndarray) -> np.ndarray:
    """Float and other non-integer arrays: numpy's floor division and modulo, as panopticapi."""
    rgb = np.empty((*id_map.shape, 3), dtype=np.uint8)
    rest = id_map.copy()
    for channel in range(3):
        rgb[..., channel] = rest % 256
        rest //= 256
    return rgb
