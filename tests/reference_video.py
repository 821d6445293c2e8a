"""Slow, independent references for Video Panoptic Quality and Segmentation and Tracking Quality.

Both are written from the rules of the two metrics as the original evaluation scripts apply them
(mcahny/vps's ``tools/eval_vpq.py`` for VPQ, deeplab2's numpy ``STQuality`` for STQ), quirks
included, and on purpose in a different shape from those scripts and from panoptiq's engine:
pixels are counted one by one into dictionaries, IoUs are compared as integers, STQ is computed
with exact fractions and only rounded to float at the very end. They are meant for the small
maps of the property tests only.

VPQ, per video and tube length ``n``: every window of ``n`` consecutive frames (stride 1; none
when the video is shorter than ``n``) is matched as one image whose segments are the ids' tubes.

* Ground-truth tube: the records of one id in the window's frames; its area is the sum of their
  JSON ``area`` (records repeated inside one frame included), its category and crowd flag are
  those of its first record in the window (frames in order, records in JSON order).
* Predicted tube: likewise, but its area is its pixel count in the window.
* A (ground truth, prediction) pair with pixels in common is a TP when both are listed, the ground
  truth is not crowd, the categories agree and
  ``intersection / (pred_area + gt_area - intersection - pred_on_void) > 1/2``. "Listed" means in
  some frame of the window: the pixels of an id count in every frame of the window, also where
  that frame's JSON does not list it, so its IoU can exceed 1 (ValueError here, an assertion in
  mcahny/vps).
* An unmatched non-crowd ground-truth tube is a FN. Of the crowd tubes, each category remembers
  the last one in first-appearance order only.
* An unmatched predicted tube is ignored when its pixels on VOID plus its pixels on its category's
  remembered crowd tube are more than half of its area; otherwise it is a FP.

STQ (deeplab2): a label is ``(semantic << label_bit_shift) + instance``.

* IoU: a semantic confusion matrix per sequence, of ``num_classes`` rows and columns, or one more
  when ``ignore_label >= num_classes`` (an ``ignore_label`` above ``num_classes`` is counted as
  class ``num_classes``). The ignore class's *row* is dropped before the IoUs are taken, its column
  is not: pixels predicted as the ignore class on valid ground truth are false positives of the
  ignore class, which then enters the mean with IoU 0. The mean is over the classes with a
  non-empty union (NaN when there is none).
* AQ: tubes are the thing labels of a sequence; ground-truth pixels of a thing class with
  instance 0 are crowd and are left out on both sides (predictions on them too). Predictions on
  stuff or ignored ground truth do count in the predicted tubes' sizes. Per sequence,
  ``sum_g 1/|g| * sum_p TPA(g,p) * TPA / (TPA + FPA + FNA)``, divided by the number of ground-truth
  tubes (AQ per sequence) or, summed over sequences, by the total number of tubes (AQ).
* STQ = sqrt(AQ * IoU), per sequence and overall.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

VOID = 0

#: One frame of a video: (gt id map, predicted id map, gt segments_info, predicted segments_info).
Frame = tuple[np.ndarray, np.ndarray, Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]


# --------------------------------------------------------------------------------------------
# VPQ
# --------------------------------------------------------------------------------------------


def _known_categories(categories: Mapping[int, Any] | Iterable[Any]) -> set[int]:
    if isinstance(categories, Mapping):
        return set(categories)
    return {c["id"] if isinstance(c, Mapping) else c for c in categories}


def _check_prediction(pred_ids: np.ndarray, pred_segments: Sequence[Mapping[str, Any]], known: set[int], at: int):
    """panopticapi's three prediction checks of one frame, as KeyError."""
    listed: dict[int, Mapping[str, Any]] = {}
    for record in pred_segments:
        listed.setdefault(int(record["id"]), record)
    drawn = {int(v) for v in np.unique(pred_ids)} - {VOID}
    for label in sorted(drawn):
        if label not in listed:
            raise KeyError(f"frame {at}: predicted segment {label} is in the PNG but not in the JSON")
        if listed[label]["category_id"] not in known:
            raise KeyError(
                f"frame {at}: predicted segment {label} has an unknown category {listed[label]['category_id']}"
            )
    absent = sorted(set(listed) - drawn)
    if absent:
        raise KeyError(f"frame {at}: predicted segments {absent} are in the JSON but not in the PNG")


def _window_stats(window: Sequence[Frame], stats: dict[int, list]) -> None:
    """Match the tubes of one window and add its IoU, TP, FP and FN to ``stats``."""
    # id -> [category, iscrowd, area]; dict order is the order of first appearance.
    gt_tubes: dict[int, list] = {}
    pred_tubes: dict[int, list] = {}
    overlap: Counter[tuple[int, int]] = Counter()
    for gt_ids, pred_ids, gt_segments, pred_segments in window:
        for record in gt_segments:
            tube = gt_tubes.get(int(record["id"]))
            if tube is None:
                gt_tubes[int(record["id"])] = [record["category_id"], record["iscrowd"] == 1, int(record["area"])]
            else:
                tube[2] += int(record["area"])
        for record in pred_segments:
            if int(record["id"]) not in pred_tubes:
                pred_tubes[int(record["id"])] = [record["category_id"], False, 0]
        for g, p in zip(gt_ids.ravel().tolist(), pred_ids.ravel().tolist(), strict=True):
            overlap[g, p] += 1
            if p in pred_tubes:
                pred_tubes[p][2] += 1

    def on_void(p: int) -> int:
        return overlap.get((VOID, p), 0)

    matched_gt: set[int] = set()
    matched_pred: set[int] = set()
    for (g, p), common in overlap.items():
        if g not in gt_tubes or p not in pred_tubes:
            continue
        gt_category, gt_crowd, gt_area = gt_tubes[g]
        pred_category, _, pred_area = pred_tubes[p]
        if gt_crowd or gt_category != pred_category:
            continue
        union = pred_area + gt_area - common - on_void(p)
        if common > union:
            # An id drawn in a frame of the window that does not list it: its pixels count, its
            # area does not. mcahny/vps stops with "INVALID IOU VALUE" here.
            raise ValueError(f"ground-truth segment {g} has IoU {common}/{union} > 1 with prediction {p}")
        if 2 * common > union:  # IoU > 1/2, without rounding
            row = stats.setdefault(gt_category, [0.0, 0, 0, 0])
            row[0] += common / union
            row[1] += 1
            matched_gt.add(g)
            matched_pred.add(p)

    crowd_of: dict[int, int] = {}
    for g, (category, crowd, _) in gt_tubes.items():
        if crowd:
            crowd_of[category] = g  # a later crowd tube of the category replaces an earlier one
        elif g not in matched_gt:
            stats.setdefault(category, [0.0, 0, 0, 0])[3] += 1

    for p, (category, _, area) in pred_tubes.items():
        if p in matched_pred:
            continue
        ignored = on_void(p)
        if category in crowd_of:
            ignored += overlap.get((crowd_of[category], p), 0)
        if 2 * ignored > area:
            continue
        stats.setdefault(category, [0.0, 0, 0, 0])[2] += 1


def vpq_reference(
    frames: Sequence[Frame], categories: Mapping[int, Any] | Iterable[Any], nframes: int
) -> dict[int, tuple[float, int, int, int]]:
    """Per-category ``(iou_sum, tp, fp, fn)`` of one video, summed over its windows of ``nframes``.

    Categories appear once something was counted for them, unknown ground-truth categories
    included. Predictions are checked as panopticapi checks them (KeyError), but only when the
    video has at least one window, as in mcahny/vps. Segment ids must be nonzero.
    """
    if nframes < 1:
        raise ValueError(f"nframes must be at least 1, got {nframes}")
    shapes = {f[0].shape for f in frames} | {f[1].shape for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"the frames of a video differ in size: {sorted(shapes)}")
    windows = [frames[start : start + nframes] for start in range(len(frames) - nframes + 1)]
    if windows:
        known = _known_categories(categories)
        for at, (_, pred_ids, _, pred_segments) in enumerate(frames):
            _check_prediction(pred_ids, pred_segments, known, at)
    stats: dict[int, list] = {}
    for window in windows:
        _window_stats(window, stats)
    return {c: (float(iou), int(tp), int(fp), int(fn)) for c, (iou, tp, fp, fn) in stats.items()}


def add_stats(
    total: dict[int, tuple[float, int, int, int]], more: Mapping[int, tuple[float, int, int, int]]
) -> dict[int, tuple[float, int, int, int]]:
    """The per-category sums of two ``vpq_reference`` results."""
    out = dict(total)
    for c, (iou, tp, fp, fn) in more.items():
        a = out.get(c, (0.0, 0, 0, 0))
        out[c] = (a[0] + iou, a[1] + tp, a[2] + fp, a[3] + fn)
    return out


def pq_summary(
    stats: Mapping[int, tuple[float, int, int, int]], categories: Mapping[int, Mapping[str, Any]]
) -> dict[str, Any]:
    """A pq_compute-shaped dict from per-category sums: All, Things, Stuff and per_class.

    A split in which no category has a TP, FP or FN scores 0.0 with n = 0, as in panoptiq.
    """
    per_class: dict[int, dict[str, float | int]] = {}
    for c in categories:
        iou, tp, fp, fn = stats.get(c, (0.0, 0, 0, 0))
        weight = tp + fp / 2 + fn / 2
        seen = tp + fp + fn > 0
        per_class[c] = {
            "pq": iou / weight if seen else 0.0,
            "sq": iou / tp if tp else 0.0,
            "rq": tp / weight if seen else 0.0,
            "iou": iou,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    out: dict[str, Any] = {"per_class": per_class}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        chosen = [
            c
            for c, info in categories.items()
            if (isthing is None or (info["isthing"] == 1) == isthing)
            and per_class[c]["tp"] + per_class[c]["fp"] + per_class[c]["fn"] > 0
        ]
        n = len(chosen)
        out[name] = {key: (sum(per_class[c][key] for c in chosen) / n if n else 0.0) for key in ("pq", "sq", "rq")} | {
            "n": n
        }
    return out


# --------------------------------------------------------------------------------------------
# STQ
# --------------------------------------------------------------------------------------------

Count = int | Fraction


@dataclass
class _SequenceCounts:
    confusion: Counter = field(default_factory=Counter)  # (gt class, predicted class) -> count
    gt_size: Counter = field(default_factory=Counter)  # gt thing label -> count
    pred_size: Counter = field(default_factory=Counter)  # predicted thing label -> count
    overlap: Counter = field(default_factory=Counter)  # (gt label, predicted label) -> count
    frames: int = 0


class STQReference:
    """deeplab2's numpy ``STQuality``, rewritten with exact counts (int, or Fraction with weights).

    Same constructor, ``update_state`` and ``result`` keys. Labels whose class is outside the
    confusion matrix, negative labels and non-positive weights raise ValueError (deeplab2 raises
    IndexError, silently wraps negatives, and gives NaN for zero weights).
    """

    def __init__(
        self, num_classes: int, things_list: Iterable[int], ignore_label: int, label_bit_shift: int, offset: int
    ) -> None:
        if offset < num_classes << label_bit_shift:
            raise ValueError(
                f"offset {offset} is below num_classes << label_bit_shift = {num_classes << label_bit_shift}"
            )
        self.num_classes = num_classes
        self.things = frozenset(int(t) for t in things_list)
        self.ignore_label = ignore_label
        self.shift = label_bit_shift
        self.offset = offset
        # The confusion matrix gets an extra class for an ignore label outside [0, num_classes).
        self.size = num_classes + 1 if ignore_label >= num_classes else num_classes
        self.dropped_row = num_classes if ignore_label >= num_classes else ignore_label
        self.reset_states()

    def reset_states(self) -> None:
        self._sequences: dict[Hashable, _SequenceCounts] = {}

    def _class_of(self, label: int, sequence_id: Hashable) -> int:
        if label < 0:
            raise ValueError(f"sequence {sequence_id!r}: negative label {label}")
        semantic = label >> self.shift
        if self.ignore_label > self.num_classes and semantic == self.ignore_label:
            semantic = self.num_classes
        if semantic >= self.size:
            raise ValueError(f"sequence {sequence_id!r}: label {label} has class {semantic}, beyond {self.size - 1}")
        return semantic

    def update_state(
        self, y_true: np.ndarray, y_pred: np.ndarray, sequence_id: Hashable = 0, weights: np.ndarray | None = None
    ) -> None:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"sequence {sequence_id!r}: shapes {y_true.shape} and {y_pred.shape} differ")
        truths = [int(v) for v in y_true.ravel().tolist()]
        preds = [int(v) for v in y_pred.ravel().tolist()]
        if weights is None:
            ws: list[Count] = [1] * len(truths)
        else:
            ws = [Fraction(float(w)) for w in np.asarray(weights, dtype=np.float64).reshape(y_true.shape).ravel()]
            if any(w <= 0 for w in ws):
                raise ValueError(f"sequence {sequence_id!r}: weights must be positive")
        classes = [
            (self._class_of(t, sequence_id), self._class_of(p, sequence_id)) for t, p in zip(truths, preds, strict=True)
        ]

        counts = self._sequences.setdefault(sequence_id, _SequenceCounts())
        counts.frames += 1
        instance_mask = (1 << self.shift) - 1
        for t, p, w, (t_class, p_class) in zip(truths, preds, ws, classes, strict=True):
            counts.confusion[t_class, p_class] += w
            gt_thing = t_class in self.things
            if gt_thing and t & instance_mask == 0:
                continue  # crowd: out of AQ for both sides
            pred_thing = p_class in self.things
            if gt_thing:
                counts.gt_size[t] += w
            if pred_thing:
                counts.pred_size[p] += w
            if gt_thing and pred_thing:
                counts.overlap[t, p] += w

    def _mean_iou(self, confusion: Counter) -> Fraction | None:
        hits = [0] * self.size
        as_truth = [0] * self.size
        as_pred = [0] * self.size
        for (t, p), n in confusion.items():
            if t == self.dropped_row:
                continue
            as_truth[t] += n
            as_pred[p] += n
            if t == p:
                hits[t] += n
        ious = [
            Fraction(hits[c]) / (as_truth[c] + as_pred[c] - hits[c])
            for c in range(self.size)
            if as_truth[c] + as_pred[c] - hits[c] > 0
        ]
        return sum(ious, Fraction(0)) / len(ious) if ious else None

    @staticmethod
    def _association(counts: _SequenceCounts) -> Fraction:
        """Sum over ground-truth tubes of their association IoU, each weighted by 1/|g|."""
        per_gt: dict[int, Fraction] = {}
        for (g, p), tpa in counts.overlap.items():
            union = counts.gt_size[g] + counts.pred_size[p] - tpa
            per_gt[g] = per_gt.get(g, Fraction(0)) + Fraction(tpa) * tpa / union
        return sum((s / counts.gt_size[g] for g, s in per_gt.items()), Fraction(0))

    def result(self) -> dict[str, Any]:
        def root(a: Fraction, b: Fraction | None) -> float:
            return math.nan if b is None else math.sqrt(float(a * b))

        def as_float(x: Fraction | None) -> float:
            return math.nan if x is None else float(x)

        ids, lengths, aq_seq, iou_seq, stq_seq = [], [], [], [], []
        aq_total, tubes_total = Fraction(0), 0
        confusion_total: Counter = Counter()
        for sequence_id, counts in self._sequences.items():
            ids.append(sequence_id)
            lengths.append(counts.frames)
            association = self._association(counts)
            tubes = len(counts.gt_size)
            aq_total += association
            tubes_total += tubes
            aq = association / tubes if tubes else Fraction(0)
            iou = self._mean_iou(counts.confusion)
            confusion_total.update(counts.confusion)
            aq_seq.append(float(aq))
            iou_seq.append(as_float(iou))
            stq_seq.append(root(aq, iou))
        aq = aq_total / tubes_total if tubes_total else Fraction(0)
        iou = self._mean_iou(confusion_total)
        return {
            "STQ": root(aq, iou),
            "AQ": float(aq),
            "IoU": as_float(iou),
            "STQ_per_seq": stq_seq,
            "AQ_per_seq": aq_seq,
            "IoU_per_seq": iou_seq,
            "ID_per_seq": ids,
            "Length_per_seq": lengths,
        }
