"""Boundary PQ's options: ``iou_type`` and ``dilation_ratio``, as boundary-iou-api names them.

With ``iou_type="boundary"`` every candidate pair's IoU is the smaller of its mask IoU and its
boundary IoU — the IoU of the two segments' boundary bands, each band the segment's pixels within
chessboard distance ``d = max(1, round(dilation_ratio * image diagonal))`` of another segment or
the image's edge (Cheng et al., "Boundary IoU", CVPR 2021) — for matching (IoU > 0.5) and for the
IoU sums; FP and FN are counted as for PQ. The rules are boundary-iou-api's
(``coco_panoptic_api/evaluation.py``), computed by the Rust core in the same pass as the mask
histogram.

One difference: boundary-iou-api marks interior pixels with the id ``max(category ids) + 1``,
which is also a valid segment id (the colour (max + 1, 0, 0)); a segment with that id then takes
other segments' interiors into its band. panoptiq marks interiors with an id no segment can have,
so its numbers are the metric as defined; they differ from the reference's only for images with
a segment of that id.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: The accepted ``iou_type`` values: boundary-iou-api's.
IOU_TYPES = ("segm", "boundary")


def dilation_ratio_for(iou_type: Any, dilation_ratio: Any) -> float | None:
    """The band width ratio the core takes: None for mask IoU (``"segm"``), else the checked
    ``dilation_ratio``.

    Raises
    ------
    ValueError
        An ``iou_type`` other than ``"segm"`` or ``"boundary"``, or a ``dilation_ratio`` that is
        not a finite number above 0.
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    if iou_type == "segm":
        return None
    if (
        isinstance(dilation_ratio, bool)
        or not isinstance(dilation_ratio, numbers.Real)
        or not math.isfinite(dilation_ratio)
        or dilation_ratio <= 0
    ):
        raise ValueError(f"dilation_ratio must be a finite number above 0 (0.02 by default), got {dilation_ratio!r}")
    return float(dilation_ratio)
