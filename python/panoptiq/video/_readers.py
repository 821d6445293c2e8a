"""Readers of video datasets' label PNGs into STQ's ``(class << shift) + instance`` maps:
KITTI-STEP's (and MOTChallenge-STEP's) per-sequence PNGs, and COCO-panoptic-style frames with
their ``segments_info`` (VIPSeg's), converted as VIPSeg's ``eval_stq_vspw.py`` converts them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from panoptiq._png import read_id_map

#: The class and instance VIPSeg's script gives pixels no segment covers.
UNLABELED = 255


def read_kitti_step(path: str | os.PathLike[str], label_bit_shift: int = 16) -> np.ndarray:
    """A KITTI-STEP panoptic PNG (R = class, G·256 + B = instance) as an ``int64`` label map
    ``(class << label_bit_shift) + instance``.

    Raises
    ------
    ValueError
        When an instance id does not fit in ``label_bit_shift`` bits (it is up to 65535), naming
        the file.
    """
    ids = read_id_map(path).astype(np.int64)  # R + 256 G + 65536 B
    semantic = ids & 0xFF
    instance = ((ids >> 8) & 0xFF) * 256 + (ids >> 16)
    if label_bit_shift < 16 and instance.size and int(instance.max()) >= 1 << label_bit_shift:
        raise ValueError(
            f"{os.fspath(path)} holds the instance id {int(instance.max())}, which does not fit in "
            f"label_bit_shift={label_bit_shift} bits"
        )
    return (semantic << label_bit_shift) + instance


def instance_numbers(annotations: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """VIPSeg's instance numbers of one video: each segment id's position in the order ids first
    appear in the frames' ``segments_info`` (from 0 — so the first id listed, if it is a thing,
    becomes a crowd region, as in VIPSeg's script)."""
    numbers: dict[int, int] = {}
    for annotation in annotations:
        for segment in annotation["segments_info"]:
            numbers.setdefault(int(segment["id"]), len(numbers))
    return numbers


def read_panoptic_frame(
    path: str | os.PathLike[str] | np.ndarray,
    segments_info: Sequence[Mapping[str, Any]],
    numbers: Mapping[int, int],
    label_bit_shift: int = 16,
) -> np.ndarray:
    """One COCO-panoptic-style frame (a PNG path or an id map) as an STQ label map: a segment's
    pixels ``(category_id << label_bit_shift) + numbers[id]``, pixels of no listed segment
    ``(255 << label_bit_shift) + 255`` — VIPSeg's conversion, as its ``eval_stq_vspw.py`` does it
    (a later record of the same id wins)."""
    ids = read_id_map(path) if not isinstance(path, np.ndarray) else path
    listed = {}
    for segment in segments_info:
        listed[int(segment["id"])] = (int(segment["category_id"]), numbers[int(segment["id"])])
    keys = np.array(sorted(listed), dtype=np.int64)
    semantic = np.full(ids.shape, UNLABELED, dtype=np.int64)
    instance = np.full(ids.shape, UNLABELED, dtype=np.int64)
    if keys.size:
        position = np.searchsorted(keys, ids)
        found = keys[np.minimum(position, keys.size - 1)] == ids
        categories = np.array([listed[k][0] for k in keys], dtype=np.int64)
        numbers_of = np.array([listed[k][1] for k in keys], dtype=np.int64)
        semantic[found] = categories[position[found]]
        instance[found] = numbers_of[position[found]]
    return (semantic << label_bit_shift) + instance
