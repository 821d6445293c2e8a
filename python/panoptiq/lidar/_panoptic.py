"""semantic-kitti-api's ``PanopticEval``: the counting done by the Rust core
(``panoptiq._core.LidarCounts``), the averages here in the reference's own numpy expressions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._arrays import as_numpy


def points(values: Any, name: str) -> np.ndarray:
    """``values`` as a flat ``int64`` array (any integer dtype, any shape: the reference takes
    batches of any shape)."""
    array = as_numpy(values, name)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got an array of {array.dtype}")
    return np.ascontiguousarray(array.reshape(-1), dtype=np.int64)


def shifted(values: Any, name: str) -> np.ndarray:
    """Instance ids plus one, added in the caller's dtype as the reference adds them (a
    ``uint32`` 2**32 - 1 wraps to 0, which is no instance), then as ``int64``."""
    array = as_numpy(values, name)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got an array of {array.dtype}")
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    with np.errstate(over="ignore"):
        plus_one = array.reshape(-1) + array.dtype.type(1)
    if plus_one.dtype == np.uint64 and plus_one.size and int(plus_one.max()) >= 2**63:
        raise ValueError(f"{name} holds instance ids of 2**63 - 1 or more (other than 2**64 - 1), beyond int64")
    return np.ascontiguousarray(plus_one, dtype=np.int64)


def ignore_list(ignore: Sequence[int] | None) -> list[int]:
    return [] if ignore is None else [int(c) for c in np.atleast_1d(np.asarray(ignore, dtype=np.int64))]


class PanopticEval:
    """Panoptic evaluation of point clouds, a drop-in for semantic-kitti-api's
    ``auxiliary/eval_np.py`` ``PanopticEval`` (and nuScenes-devkit's copy of it).

    Parameters
    ----------
    n_classes : int
        Classes, including the ignored ones.
    device : None
        The reference's; only None (the CPU) is accepted.
    ignore : sequence of int, optional
        Classes left out (None: none; the reference requires a list): their ground-truth points
        are removed before matching, and their columns (ground truth) of the confusion matrix
        zeroed.
    offset : int
        The reference's pair-key offset; accepted and unused (pairs are keyed by both ids, so
        no key ever wraps).
    min_points : int
        An unmatched segment with fewer points is neither a false positive nor a false negative.

    Notes
    -----
    Counts are exact integers and each class's IoU sum is kept exactly and rounded once, so
    results do not depend on how scans are grouped or merged; the reference adds per-scan float
    sums, so IoU-derived numbers may differ from it in the last bits (within 1e-12).
    """

    def __init__(
        self,
        n_classes: int,
        device: Any = None,
        ignore: Sequence[int] | None = None,
        offset: int = 2**32,
        min_points: int = 30,
    ) -> None:
        if device is not None:
            raise ValueError(f"device must be None (panoptiq counts on the CPU), got {device!r}")
        self.n_classes = int(n_classes)
        self.ignore = np.array(ignore_list(ignore), dtype=np.int64)
        self.include = np.array([n for n in range(self.n_classes) if n not in self.ignore], dtype=np.int64)
        self.offset = offset
        self.min_points = int(min_points)
        self.eps = 1e-15
        self.reset()

    def _arguments(self) -> tuple[int, list[int], int]:
        return (self.n_classes, [int(c) for c in self.ignore], max(self.min_points, 0))

    def num_classes(self) -> int:
        return self.n_classes

    def reset(self) -> None:
        """Forget every scan."""
        self._counts = _core.LidarCounts(self._arguments())
        self._scans = 0

    # The reference's attributes, read-only here: some scripts read them.
    @property
    def px_iou_conf_matrix(self) -> np.ndarray:
        return self._counts.arrays()[0]

    @property
    def pan_tp(self) -> np.ndarray:
        return self._counts.arrays()[1]

    @property
    def pan_fp(self) -> np.ndarray:
        return self._counts.arrays()[2]

    @property
    def pan_fn(self) -> np.ndarray:
        return self._counts.arrays()[3]

    @property
    def pan_iou(self) -> np.ndarray:
        return self._counts.arrays()[4]

    def _name(self) -> str:
        return f"#{self._scans}"

    def addBatchSemIoU(self, x_sem: Any, y_sem: Any) -> None:
        """Add a scan's classes (``x`` prediction, ``y`` ground truth) to the confusion matrix."""
        self._counts.add_semantic(points(x_sem, "x_sem"), points(y_sem, "y_sem"), self._name())

    def addBatchPanoptic(self, x_sem_row: Any, x_inst_row: Any, y_sem_row: Any, y_inst_row: Any) -> None:
        """Add a scan's panoptic counts."""
        arrays = (
            points(x_sem_row, "x_sem"),
            shifted(x_inst_row, "x_inst"),
            points(y_sem_row, "y_sem"),
            shifted(y_inst_row, "y_inst"),
        )
        self._counts.add_panoptic(arrays, self._name())

    def addBatch(self, x_sem: Any, x_inst: Any, y_sem: Any, y_inst: Any) -> None:
        """Add one scan (or a batch of them, of any shape): ``x`` is the prediction, ``y`` the
        ground truth; classes and instance ids per point."""
        x_sem, y_sem = points(x_sem, "x_sem"), points(y_sem, "y_sem")
        arrays = (x_sem, shifted(x_inst, "x_inst"), y_sem, shifted(y_inst, "y_inst"))
        # One pass over the points for both tables; a scan that fails adds nothing.
        self._counts.add_scan(arrays, self._name())
        self._scans += 1

    def merge(self, other: PanopticEval) -> None:
        """Add another evaluator's scans (same arguments); exact."""
        if not isinstance(other, PanopticEval):
            raise TypeError(f"can only merge a PanopticEval, got {type(other).__name__}")
        self._counts.merge(other._counts)
        self._scans += other._scans

    def getSemIoUStats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(tp, fp, fn)`` per class from the confusion matrix, ignored columns zeroed."""
        conf = self.px_iou_conf_matrix.astype(np.double)
        conf[:, self.ignore] = 0
        tp = conf.diagonal()
        fp = conf.sum(axis=1) - tp
        fn = conf.sum(axis=0) - tp
        return tp, fp, fn

    def getSemIoU(self) -> tuple[Any, np.ndarray]:
        """``(mean IoU over the included classes, IoU per class)``."""
        tp, fp, fn = self.getSemIoUStats()
        intersection = tp
        union = np.maximum(tp + fp + fn, self.eps)
        iou = intersection.astype(np.double) / union.astype(np.double)
        iou_mean = (intersection[self.include].astype(np.double) / union[self.include].astype(np.double)).mean()
        return iou_mean, iou

    def getSemAcc(self) -> Any:
        tp, fp, _fn = self.getSemIoUStats()
        total_tp = tp.sum()
        total = np.maximum(tp[self.include].sum() + fp[self.include].sum(), self.eps)
        return total_tp.astype(np.double) / total.astype(np.double)

    def getPQ(self) -> tuple[Any, Any, Any, np.ndarray, np.ndarray, np.ndarray]:
        """``(PQ, SQ, RQ, pq per class, sq per class, rq per class)``; the means over the
        included classes."""
        _conf, tp, fp, fn, iou = self._counts.arrays()
        tp_d = tp.astype(np.double)
        sq_all = iou.astype(np.double) / np.maximum(tp_d, self.eps)
        rq_all = tp_d / np.maximum(tp_d + 0.5 * fp.astype(np.double) + 0.5 * fn.astype(np.double), self.eps)
        pq_all = sq_all * rq_all
        return (
            pq_all[self.include].mean(),
            sq_all[self.include].mean(),
            rq_all[self.include].mean(),
            pq_all,
            sq_all,
            rq_all,
        )
