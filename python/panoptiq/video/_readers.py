"""Readers of video datasets' label PNGs into STQ's ``(class << shift) + instance`` maps:
KITTI-STEP's (and MOTChallenge-STEP's) per-sequence PNGs, and COCO-panoptic-style frames with
their ``segments_info`` (VIPSeg's), converted as VIPSeg's ``eval_stq_vspw.py`` converts them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
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
    labels = {}
    for segment in segments_info:
        labels[int(segment["id"])] = (int(segment["category_id"]) << label_bit_shift) + numbers[int(segment["id"])]
    unlabeled = (UNLABELED << label_bit_shift) + UNLABELED
    if ids.dtype != np.uint32:
        if ids.dtype.kind not in "iu" or (ids.size and (ids.min() < 0 or ids.max() > 0xFFFFFFFF)):
            raise ValueError(f"an id map holds segment ids from 0 to 2**32 - 1, got {ids.dtype} values outside")
        ids = ids.astype(np.uint32)
    # An id no uint32 map can hold matches no pixel.
    labels = {k: v for k, v in labels.items() if 0 <= k <= 0xFFFFFFFF}
    # One pass in the core, the table looked up only where the id changes.
    return _core.relabel_ids(np.ascontiguousarray(ids), labels, unlabeled)
