"""LiDAR panoptic segmentation: semantic-kitti-api's ``PanopticEval`` (PQ, PQ†, mIoU) and its
``evaluate_panoptic.py``, and 4D-PLS's ``Panoptic4DEval`` (LSTQ), on panoptiq's Rust core.

- :class:`PanopticEval` — a drop-in for semantic-kitti-api's class, plus exact :meth:`merge`.
- :func:`evaluate_semantic_kitti` — the script: ``.label`` files read in Rust, in parallel.
- :class:`Panoptic4DEval` — a drop-in for 4D-PLS's class; ``getPQ4D`` answers the same twice.
- :func:`evaluate_nuscenes_panoptic` — Panoptic nuScenes' segmentation results from its
  ``.npz`` files, without the dataset's tables.
- :func:`read_label`, :func:`load_config`, :func:`read_panoptic_npz` — the datasets' files;
  :func:`make_semantic_kitti` writes a synthetic SemanticKITTI-layout dataset.
"""

from __future__ import annotations

from panoptiq.lidar._4d import Panoptic4DEval
from panoptiq.lidar._kitti import UnmappedLabelWarning, evaluate_semantic_kitti, load_config, read_label
from panoptiq.lidar._nuscenes import evaluate_nuscenes_panoptic, fine_to_coarse, read_panoptic_npz
from panoptiq.lidar._panoptic import PanopticEval
from panoptiq.lidar._synthetic import make_semantic_kitti

__all__ = [
    "Panoptic4DEval",
    "PanopticEval",
    "UnmappedLabelWarning",
    "evaluate_nuscenes_panoptic",
    "evaluate_semantic_kitti",
    "fine_to_coarse",
    "load_config",
    "make_semantic_kitti",
    "read_label",
    "read_panoptic_npz",
]
