"""LiDAR panoptic segmentation: semantic-kitti-api's ``PanopticEval`` (PQ, PQ†, mIoU) and its
``evaluate_panoptic.py``, and 4D-PLS's ``Panoptic4DEval`` (LSTQ), on panoptiq's Rust core.

- :class:`PanopticEval` — a drop-in for semantic-kitti-api's class, plus exact :meth:`merge`.
- :func:`evaluate_semantic_kitti` — the script: ``.label`` files read in Rust, in parallel.
- :class:`Panoptic4DEval` — a drop-in for 4D-PLS's class; ``getPQ4D`` answers the same twice.
- :func:`read_label`, :func:`load_config` — the dataset's files.
"""

from __future__ import annotations

from panoptiq.lidar._4d import Panoptic4DEval
from panoptiq.lidar._kitti import UnmappedLabelWarning, evaluate_semantic_kitti, load_config, read_label
from panoptiq.lidar._panoptic import PanopticEval

__all__ = [
    "Panoptic4DEval",
    "PanopticEval",
    "UnmappedLabelWarning",
    "evaluate_semantic_kitti",
    "load_config",
    "read_label",
]
