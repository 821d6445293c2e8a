"""Segmentation and Tracking Quality (STQ = sqrt(AQ * IoU), Weber et al. 2021): a drop-in for
deeplab2's numpy ``STQuality``, its counting done by the Rust core (``panoptiq._core.StqCounts``)
and its last step — per-sequence means and the IoU of the confusion matrices — done here with
numpy in deeplab2's own expressions, so the floats are its floats."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._arrays import as_numpy

_EPSILON = 1e-15
ACCUMULATE = ("exact", "float32")


class STQuality:
    """Segmentation and Tracking Quality, as deeplab2's ``STQuality`` computes it.

    Parameters
    ----------
    num_classes : int
        Classes of the dataset.
    things_list : sequence of int
        The classes that are things (tracked).
    ignore_label : int
        The class left out of the evaluation; when it is not below ``num_classes`` it gets a row
        and column of its own (as in deeplab2).
    label_bit_shift : int
        Labels are ``(class << label_bit_shift) + instance``.
    offset : int
        deeplab2's key offset; checked as deeplab2 checks it (at least ``num_classes <<
        label_bit_shift``), otherwise unused: panoptiq keys pairs without it.
    accumulate : {"exact", "float32"}
        ``"exact"`` (default): integer pixel counts, float64 arithmetic — deeplab2's numbers
        under NumPy 1 (for frames below 2**24 pixels of one label). ``"float32"``: every area and
        association sum rounded to float32, as deeplab2's dictionaries are under NumPy ≥ 2, whose
        result it reproduces bit for bit.

    Notes
    -----
    Crowd is a thing class with instance 0 in the ground truth: left out of the association
    term on both sides. Pixels whose ground truth is the ignore class leave the IoU, but pixels
    *predicted* as the ignore class stay in its column, so the ignore class enters the mean IoU
    (with IoU 0) as soon as anything is predicted as it — deeplab2's rule, kept.
    """

    def __init__(
        self,
        num_classes: int,
        things_list: Sequence[int],
        ignore_label: int,
        label_bit_shift: int,
        offset: int,
        *,
        accumulate: str = "exact",
    ) -> None:
        if accumulate not in ACCUMULATE:
            raise ValueError(f"accumulate must be one of {ACCUMULATE}, got {accumulate!r}")
        lower_bound = int(num_classes) << int(label_bit_shift)
        if offset < lower_bound:
            raise ValueError(
                f"The provided offset {offset} is too small: it must be at least num_classes << label_bit_shift "
                f"= {lower_bound}"
            )
        self._num_classes = int(num_classes)
        self._things_list = [int(t) for t in things_list]
        self._ignore_label = int(ignore_label)
        self._label_bit_shift = int(label_bit_shift)
        self._offset = int(offset)
        self._accumulate = accumulate
        if self._ignore_label >= self._num_classes:
            self._confusion_matrix_size = self._num_classes + 1
            self._include_indices = np.arange(self._num_classes)
        else:
            self._confusion_matrix_size = self._num_classes
            self._include_indices = np.array([i for i in range(self._num_classes) if i != self._ignore_label])
        self.reset_states()

    def _arguments(self) -> tuple[Any, ...]:
        return (
            self._num_classes,
            self._things_list,
            self._ignore_label,
            self._label_bit_shift,
            self._accumulate == "float32",
        )

    def reset_states(self) -> None:
        """Forget every sequence."""
        self._counts = _core.StqCounts(self._arguments())
        self._index: dict[Any, int] = {}
        self._sequence_ids: list[Any] = []

    def _position(self, sequence_id: Any) -> int:
        if not isinstance(sequence_id, Hashable):
            raise TypeError(f"sequence_id must be hashable (a str or an int, say), got {type(sequence_id).__name__}")
        try:
            return self._index.get(sequence_id, len(self._sequence_ids))
        except TypeError:  # a tuple holding a list, say
            raise TypeError(f"sequence_id must be hashable, got {sequence_id!r}") from None

    def update_state(self, y_true: Any, y_pred: Any, sequence_id: Any = 0, weights: Any = None) -> None:
        """Add one frame of ``sequence_id``: ``y_true`` and ``y_pred`` are label maps of one
        shape (numpy arrays or CPU tensors), ``(class << label_bit_shift) + instance``;
        ``weights``, optional, one per pixel."""
        index = self._position(sequence_id)
        y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"In the sequence {sequence_id!r}: y_true has shape {y_true.shape} but y_pred {y_pred.shape}"
            )
        flat_weights = None
        if weights is not None:
            w = as_numpy(weights, "weights")
            if w.size != y_true.size:
                raise ValueError(
                    f"In the sequence {sequence_id!r}: weights has {w.size} values for {y_true.size} pixels"
                )
            flat_weights = np.ascontiguousarray(w.reshape(-1), dtype=np.float64)
        self._counts.add_frame(index, y_true.reshape(-1), y_pred.reshape(-1), flat_weights, repr(sequence_id))
        if index == len(self._sequence_ids):
            self._index[sequence_id] = index
            self._sequence_ids.append(sequence_id)

    def _check_compatible(self, other: STQuality) -> None:
        if not isinstance(other, STQuality):
            raise TypeError(f"can only merge STQuality metrics, got {type(other).__name__}")
        if other._arguments() != self._arguments():
            raise ValueError(
                f"cannot merge STQuality metrics of different arguments: {self._arguments()} and {other._arguments()}"
            )

    def merge_state(self, metrics: Sequence[STQuality]) -> None:
        """deeplab2's merge: add the sequences of ``metrics``, none of which may already be here
        or in another of them (``ValueError``, and nothing is merged)."""
        seen = set(self._sequence_ids)
        for metric in metrics:
            self._check_compatible(metric)
            for sequence in metric._sequence_ids:
                if sequence in seen:
                    raise ValueError("Tried to merge metrics with duplicate sequences.")
                seen.add(sequence)
        for metric in metrics:
            self.merge(metric)

    def merge(self, other: STQuality) -> None:
        """Add ``other``'s counts: a sequence in both is one sequence whose frames in ``other``
        came after those here (counts add exactly; AQ is computed from them afterwards)."""
        self._check_compatible(other)
        for theirs, sequence in enumerate(other._sequence_ids):
            mine = self._index.get(sequence)
            self._counts.merge_sequence(other._counts, theirs, mine)
            if mine is None:
                self._index[sequence] = len(self._sequence_ids)
                self._sequence_ids.append(sequence)

    def result(self) -> dict[str, Any]:
        """deeplab2's result: ``STQ``, ``AQ``, ``IoU``, ``STQ_per_seq``, ``AQ_per_seq``,
        ``IoU_per_seq``, ``ID_per_seq``, ``Length_per_seq``."""
        count = len(self._sequence_ids)
        num_tubes_per_seq = [0] * count
        aq_per_seq: list[Any] = [0] * count
        iou_per_seq: list[Any] = [0] * count
        lengths = []
        confusions = []
        float32 = self._accumulate == "float32"
        for index in range(count):
            outer_sum, tubes, confusion, frames = self._counts.pieces(index)
            num_tubes_per_seq[index] = tubes
            # deeplab2's sum stays a Python float where no track was seen; else it is a numpy
            # scalar of the dictionaries' type.
            aq_per_seq[index] = 0.0 if tubes == 0 else (np.float32(outer_sum) if float32 else np.float64(outer_sum))
            lengths.append(frames)
            confusions.append(confusion)
        with np.errstate(divide="ignore", invalid="ignore"):
            # deeplab2's expressions, in its order: the same numpy gives the same bits.
            aq_mean = np.sum(aq_per_seq) / np.maximum(np.sum(num_tubes_per_seq), _EPSILON)
            aq_per_seq_array = aq_per_seq / np.maximum(num_tubes_per_seq, _EPSILON)
            size = self._confusion_matrix_size
            total_confusion = np.zeros((size, size), dtype=np.float64)
            for index, confusion in enumerate(confusions):
                removal_matrix = np.zeros_like(confusion)
                removal_matrix[self._include_indices, :] = 1.0
                confusion *= removal_matrix
                total_confusion += confusion
                iou_per_seq[index] = _mean_iou(confusion)
            iou_mean = _mean_iou(total_confusion)
            st_quality = np.sqrt(aq_mean * iou_mean)
            st_quality_per_seq = np.sqrt(aq_per_seq_array * iou_per_seq)
        return {
            "STQ": st_quality,
            "AQ": aq_mean,
            "IoU": float(iou_mean),
            "STQ_per_seq": st_quality_per_seq,
            "AQ_per_seq": aq_per_seq_array,
            "IoU_per_seq": iou_per_seq,
            "ID_per_seq": list(self._sequence_ids),
            "Length_per_seq": lengths,
        }


def _mean_iou(confusion: np.ndarray) -> Any:
    intersections = confusion.diagonal()
    fps = confusion.sum(axis=0) - intersections
    fns = confusion.sum(axis=1) - intersections
    unions = intersections + fps + fns
    num_classes = np.count_nonzero(unions)
    ious = intersections.astype(np.double) / np.maximum(unions, _EPSILON).astype(np.double)
    return np.sum(ious) / num_classes


def _labels(values: Any, name: str) -> np.ndarray:
    array = as_numpy(values, name)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer labels, got an array of {array.dtype}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds labels beyond 2**63")
    return np.ascontiguousarray(array, dtype=np.int64)
