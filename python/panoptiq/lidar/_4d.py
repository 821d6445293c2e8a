"""4D-PLS's ``Panoptic4DEval`` (LSTQ = sqrt(LAQ x LSQ)): per-sequence tracks counted by the Rust core
(``panoptiq._core.LidarTracks``), the sums finished here in the reference's order and numpy
expressions — except that :meth:`Panoptic4DEval.getPQ4D` gives the same answer when called
twice (the reference adds its association sums up again on every call)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq.lidar._panoptic import ignore_list, points, shifted

#: 4D-PLS divides the overall association by the tubes of classes 1..8 alone: SemanticKITTI's
#: things.
THING_CLASSES = slice(1, 9)


class Panoptic4DEval:
    """4-D panoptic evaluation of point-cloud sequences, a drop-in for 4D-PLS's
    ``utils/eval_np.py`` ``Panoptic4DEval``.

    Parameters are the reference's (see :class:`panoptiq.lidar.PanopticEval`); ``min_points``
    drops, per scan and class, ground-truth instances of at most that many points.
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
        self._semantic = _core.LidarCounts(self._arguments())
        self._tracks = _core.LidarTracks(self._arguments())
        self.sequences: list[Any] = []
        self._index: dict[Any, int] = {}

    @property
    def px_iou_conf_matrix(self) -> np.ndarray:
        return self._semantic.arrays()[0]

    def _position(self, seq: Any) -> int:
        if not isinstance(seq, Hashable):
            raise TypeError(f"seq must be hashable, got {type(seq).__name__}")
        return self._index.get(seq, len(self.sequences))

    def addBatchSemIoU(self, x_sem: Any, y_sem: Any) -> None:
        self._semantic.add_semantic(points(x_sem, "x_sem"), points(y_sem, "y_sem"), "?")

    def addBatchPanoptic4D(self, seq: Any, x_sem_row: Any, x_inst_row: Any, y_sem_row: Any, y_inst_row: Any) -> None:
        index = self._position(seq)
        arrays = (
            points(x_sem_row, "x_sem"),
            shifted(x_inst_row, "x_inst"),
            points(y_sem_row, "y_sem"),
            shifted(y_inst_row, "y_inst"),
        )
        self._tracks.add_scan(index, arrays, repr(seq))
        if index == len(self.sequences):
            self._index[seq] = index
            self.sequences.append(seq)

    def addBatch(self, seq: Any, x_sem: Any, x_inst: Any, y_sem: Any, y_inst: Any) -> None:
        """Add one scan of sequence ``seq``: ``x`` the prediction, ``y`` the ground truth."""
        x_sem, y_sem = points(x_sem, "x_sem"), points(y_sem, "y_sem")
        probe = _core.LidarCounts(self._arguments())
        probe.add_semantic(x_sem, y_sem, repr(seq))  # checked before anything is kept
        self.addBatchPanoptic4D(seq, x_sem, x_inst, y_sem, y_inst)
        self._semantic.merge(probe)

    def merge(self, other: Panoptic4DEval) -> None:
        """Add another evaluator's counts: a sequence in both is one sequence whose scans in
        ``other`` came later."""
        if not isinstance(other, Panoptic4DEval):
            raise TypeError(f"can only merge a Panoptic4DEval, got {type(other).__name__}")
        self._semantic.merge(other._semantic)
        for theirs, seq in enumerate(other.sequences):
            mine = self._index.get(seq)
            self._tracks.merge_sequence(other._tracks, theirs, mine)
            if mine is None:
                self._index[seq] = len(self.sequences)
                self.sequences.append(seq)

    def getSemIoUStats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        conf = self.px_iou_conf_matrix.astype(np.double)
        conf[:, self.ignore] = 0
        tp = conf.diagonal()
        fp = conf.sum(axis=1) - tp
        fn = conf.sum(axis=0) - tp
        return tp, fp, fn

    def getSemIoU(self) -> tuple[Any, np.ndarray, Any, Any]:
        """``(LSQ: mean IoU over the classes with a non-zero union, IoU per class, mean
        precision, mean recall)``, as 4D-PLS's."""
        tp, fp, fn = self.getSemIoUStats()
        union = tp + fp + fn
        present = np.count_nonzero(union)
        union = np.maximum(union, self.eps)
        iou = tp.astype(np.double) / union.astype(np.double)
        with np.errstate(divide="ignore", invalid="ignore"):
            iou_mean = np.sum(iou) / present
            prec = tp / np.maximum(tp + fp, self.eps)
            recall = tp / np.maximum(tp + fn, self.eps)
            return iou_mean, iou, np.sum(prec) / present, np.sum(recall) / present

    def getSemAcc(self) -> Any:
        tp, fp, _fn = self.getSemIoUStats()
        total = np.maximum(tp[self.include].sum() + fp[self.include].sum(), self.eps)
        return tp.sum().astype(np.double) / total.astype(np.double)

    def getPQ4D(self) -> tuple[Any, ...]:
        """``(LSTQ, LAQ, AQ per class, AQ precision, AQ recall, IoU per class, LSQ, IoU
        precision, IoU recall)``, as 4D-PLS's ``getPQ4D`` returns them on its first call."""
        num_tubes = [0] * self.n_classes
        pan_aq = np.zeros(self.n_classes, dtype=np.double)
        pan_aq_ovr = 0.0
        precs: list[np.ndarray] = []
        recalls: list[np.ndarray] = []
        for index in range(len(self.sequences)):
            aq, tubes, prec, recall = self._tracks.association(index)
            for cl in self.include:
                num_tubes[cl] += tubes[cl]
                pan_aq[cl] += aq[cl]
                pan_aq_ovr += aq[cl]
            precs.append(prec)
            recalls.append(recall)
        with np.errstate(divide="ignore", invalid="ignore"):
            aq_overall = np.sum(pan_aq_ovr) / np.sum(num_tubes[THING_CLASSES])
            aq_per_class = pan_aq / np.maximum(num_tubes, self.eps)
            iou_mean, iou, iou_p, iou_r = self.getSemIoU()
            all_precs, all_recalls = np.concatenate([[], *precs]), np.concatenate([[], *recalls])
            aq_p = np.mean(all_precs) if all_precs.size else np.float64("nan")
            aq_r = np.mean(all_recalls) if all_recalls.size else np.float64("nan")
            product = aq_overall * iou_mean
            lstq = math.sqrt(product) if product >= 0 else float("nan")
        return lstq, aq_overall, aq_per_class, aq_p, aq_r, iou, iou_mean, iou_p, iou_r
