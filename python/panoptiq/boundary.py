"""Boundary PQ's options: ``iou_type`` and ``dilation_ratio``, as boundary-iou-api names them.

With ``iou_type="boundary"`` every candidate pair's IoU is the smaller of its mask IoU and its
boundary IoU — the IoU of the two segments' boundary bands, each band the segment's pixels within
chessboard distance ``d = max(1, round(dilation_ratio * image diagonal))`` of another segment or
the image's edge (Cheng et al., "Boundary IoU", CVPR 2021) — for matching (IoU > 0.5) and for the
IoU sums; FP and FN are counted as for PQ. The rules are boundary-iou-api's
(``coco_panoptic_api/evaluation.py``), computed by the Rust core in the same pass as the mask
histogram.

boundary-iou-api's quirk, and the compatibility mode: the reference marks interior pixels with the
id ``max(category ids) + 1``, which is also a valid segment id (the colour ``(max + 1, 0, 0)``;
detectron2 numbers its predicted segments 1, 2, 3, ..., so on Cityscapes, whose largest category id
is 33, a prediction's 34th segment has it). It paints the listed segments one by one in
``segments_info`` order, taking each one's mask from the map painted so far: a segment with the
marker's id then owns the interiors of the segments listed before it (its band is that union's
band) and its pairs count every other segment's interior as boundary intersection. Its boundary
IoU is then wrong, in either direction.

By default panoptiq marks interiors with an id no segment can have: its numbers are the metric as
defined, and equal the reference's for every image in which no segment has the marker's id.
``reference_marker=True`` (CLI ``--reference-marker``) reproduces the reference's numbers on those
images too.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

#: The accepted ``iou_type`` values: boundary-iou-api's.
IOU_TYPES = ("segm", "boundary")


class BoundaryOptions(NamedTuple):
    """Boundary PQ's options as the core takes them."""

    #: The band width as a fraction of the image's diagonal.
    dilation_ratio: float
    #: Reproduce boundary-iou-api's interior marker (see the module's notes).
    reference_marker: bool = False


def boundary_options(iou_type: Any, dilation_ratio: Any, reference_marker: Any = False) -> BoundaryOptions | None:
    """The checked options: None for mask IoU (``"segm"``), else Boundary PQ's.

    Raises
    ------
    ValueError
        An ``iou_type`` other than ``"segm"`` or ``"boundary"``, a ``dilation_ratio`` that is
        not a finite number above 0, or a ``reference_marker`` that is not a bool.
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    if not isinstance(reference_marker, bool):
        raise ValueError(f"reference_marker must be True or False, got {reference_marker!r}")
    if iou_type == "segm":
        if reference_marker:
            raise ValueError('reference_marker applies to iou_type="boundary" only')
        return None
    if (
        isinstance(dilation_ratio, bool)
        or not isinstance(dilation_ratio, numbers.Real)
        or not math.isfinite(dilation_ratio)
        or dilation_ratio <= 0
    ):
        raise ValueError(f"dilation_ratio must be a finite number above 0 (0.02 by default), got {dilation_ratio!r}")
    return BoundaryOptions(float(dilation_ratio), reference_marker)
