"""Slow, independent references for LiDAR panoptic segmentation (semantic-kitti-api's
``PanopticEval``, also nuScenes' ``PanopticEval``), 4-D panoptic segmentation (4D-PLS's
``Panoptic4DEval``, LSTQ) and semantic-kitti-api's ``evaluate_panoptic.py`` scores.

They are written from the rules the original evaluators apply, quirks included, and on purpose in
another shape: points are counted one by one into dictionaries, IoUs are compared as integers,
sums are exact fractions rounded to float once at the end. Meant for the small scans of the
property tests only.

Per point, ``x`` is the prediction and ``y`` the ground truth; each side has a class and an
instance id.

Panoptic (one scan at a time):

* Instance ids are shifted by +1 *in the array's own integer type*, so the largest value of the
  type wraps to its smallest: a ``uint32`` 2**32 - 1 becomes 0, an ``int32`` 2**31 - 1 becomes
  -2**31. A shifted id <= 0 is "no instance": such points belong to no segment. Instance 0 (shifted
  1) is an ordinary segment, which is how stuff classes get one segment per class and scan.
* Points whose ground-truth class is ignored are dropped from the panoptic part, on both sides.
* For each included class, the segments of a side are the distinct shifted ids of the points of
  that class on that side. Intersections count the points where both sides have the class.
* A pair is a TP when ``IoU = I / (A_gt + A_pred - I) > 1/2`` (here ``2 I > union`` in integers).
  A TP's IoU is added to the class's IoU sum whatever the sizes: a ground-truth segment below
  ``min_points`` that is matched still counts.
* FN: unmatched ground-truth segments of at least ``min_points`` points; FP: unmatched predicted
  segments of at least ``min_points`` points (the size rule applies to predictions too).
* ``sq = iou / max(tp, eps)``, ``rq = tp / max(tp + fp / 2 + fn / 2, eps)``, ``pq = sq * rq``; the
  means are over every included class, also those never seen (they count as 0).
* Semantic IoU: a confusion matrix of all points, rows the prediction, columns the ground truth;
  the columns of ignored classes are zeroed. ``tp`` the diagonal, ``fp`` row sums minus ``tp``,
  ``fn`` column sums minus ``tp``. So a point predicted as an ignored class on a valid ground truth
  is a FN of the true class and a FP of the ignored class (whose IoU is then 0 / fp = 0).
  ``iou = tp / max(union, eps)``, its mean over the included classes. Accuracy:
  ``sum(tp) / max(sum over included classes of (tp + fp), eps)``: a valid point predicted as an
  ignored class is in neither the numerator nor the denominator.

4-D (4D-PLS), per sequence (sequences are told apart by ``==``, in first-seen order):

* Ids shifted and ignored ground truth dropped as above.
* Ground-truth tubes, per class: in each scan, the instances of that class with *more than*
  ``min_points`` points in that scan (strictly) add their points to the tube of ``(class, id)``;
  an instance at or below ``min_points`` in a scan adds nothing from that scan, neither size nor
  intersections. Shifted id 1 (instance 0) is never a tube.
* Predicted instances: one size table per sequence shared by every class, keyed by the id alone:
  a predicted id counts its points of every included predicted class (on valid ground truth).
  Shifted id 1 is never counted.
* Intersections, per class: points of a tube (in the scans where it counted) with the predicted
  id they carry, *whatever the predicted class* (a prediction of another class, or of an ignored
  class, still intersects). They are used only for predicted ids in the size table, so a
  predicted id never predicted as an included class is left out; a predicted id whose points
  are mostly of an ignored predicted class can have an intersection above its size, a precision
  above 1 and an "IoU" above 1 (4D-PLS prints "something wrong !!" and carries on).
* ``aq[c] = sum over tubes g of c, over predicted ids p: TPA(g, p)**2 / (|g| + |p| - TPA) / |g|``.
  ``AQ[c] = aq[c] / max(tubes of c, eps)``. ``AQ_overall`` = the sum of ``aq`` over all included
  classes divided by the number of tubes of classes 1..8 only (hard-coded, SemanticKITTI's
  things): tubes of other classes add to the numerator only; no tube of 1..8 gives NaN (0 / 0) or
  inf.
* ``AQ_p``, ``AQ_r``: the mean over every (tube, predicted id) pair with an intersection of
  ``TPA / |p|`` and ``TPA / |g|`` (NaN when there is no pair).
* LSQ (``iou_mean``): the sum of the per-class IoUs (as for panoptic, ignored columns zeroed)
  over *all* classes divided by the number of classes, ignored ones included, with a non-zero
  union. An ignored class predicted on valid ground truth has a union (its fp) and IoU 0, so it
  lowers the mean; NaN when no class has a union. ``iou_p``, ``iou_r``: likewise the per-class
  ``tp / max(tp + fp, eps)`` and ``tp / max(tp + fn, eps)`` over the same count.
* ``LSTQ = sqrt(AQ_overall * iou_mean)``.
* 4D-PLS's ``getPQ4D`` *adds* the association sums into the evaluator's state every time it is
  called (``pan_aq += ...``), while the tube counts are recounted: a second call returns twice the
  AQ. This reference computes from its counts each time, so it answers what the first call does.

The instance offset of the originals only packs (gt, pred) pairs into one int64 key; here pairs
are tuples, so the offset plays no part. The originals go wrong where the key does: a shifted
ground-truth id of 2**31 or more overflows ``offset * gt`` (KeyError or wrong pairs), a predicted
id of ``offset`` or more aliases another pair. The property tests keep away from those.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

EPS = 1e-15
#: The classes whose tubes 4D-PLS divides the overall association by (SemanticKITTI's things).
AQ_OVERALL_CLASSES = range(1, 9)
#: semantic-kitti-api's evaluate_panoptic.py averages these class names, whatever the config holds.
THINGS = ("car", "truck", "bicycle", "motorcycle", "other-vehicle", "person", "bicyclist", "motorcyclist")
STUFF = (
    "road",
    "sidewalk",
    "parking",
    "other-ground",
    "building",
    "vegetation",
    "trunk",
    "terrain",
    "fence",
    "pole",
    "traffic-sign",
)
#: The keys of evaluate_panoptic.py's scores (its codalab dictionary, the whole of scores.txt).
SCORE_KEYS = (
    "pq_mean",
    "pq_dagger",
    "sq_mean",
    "rq_mean",
    "iou_mean",
    "pq_stuff",
    "rq_stuff",
    "sq_stuff",
    "pq_things",
    "rq_things",
    "sq_things",
)


def shifted_ids(ids: Any) -> list[int]:
    """Instance ids plus one, computed as the array's integer type computes it (wrapping)."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"instance ids must be integers, got {ids.dtype}")
    info = np.iinfo(ids.dtype)
    return [info.min if v == info.max else v + 1 for v in ids.ravel().tolist()]


def _classes(values: Any, n_classes: int, side: str) -> list[int]:
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise TypeError(f"{side} classes must be integers, got {values.dtype}")
    out = values.ravel().tolist()
    bad = [c for c in out if not 0 <= c < n_classes]
    if bad:
        # semantic-kitti-api: IndexError at or above n_classes, a silent wrap below 0.
        raise ValueError(f"{side} class {bad[0]} is outside 0..{n_classes - 1}")
    return out


def _points(n_classes: int, x_sem, x_inst, y_sem, y_inst) -> list[tuple[int, int, int, int]]:
    columns = [
        _classes(x_sem, n_classes, "predicted"),
        shifted_ids(x_inst),
        _classes(y_sem, n_classes, "ground-truth"),
        shifted_ids(y_inst),
    ]
    if len({len(c) for c in columns}) != 1:
        raise ValueError(f"the four arrays differ in length: {[len(c) for c in columns]}")
    return list(zip(*columns, strict=True))


def _ratio(num: Fraction | int, den: Fraction | int) -> Fraction:
    """``num / max(den, eps)`` as the originals guard their divisions. The denominators here are
    counts (or half counts): 0 or at least 1/2, so eps only replaces a 0, whose numerator is 0 too."""
    return Fraction(num) / (den if den > EPS else Fraction(EPS))


class _Confusion:
    """The class confusion matrix shared by both evaluators (rows prediction, columns truth)."""

    def __init__(self, n_classes: int, ignore: set[int]) -> None:
        self.n_classes = n_classes
        self.ignore = ignore
        self.counts: Counter[tuple[int, int]] = Counter()

    def add(self, points: Iterable[tuple[int, int, int, int]]) -> None:
        for xs, _, ys, _ in points:
            self.counts[xs, ys] += 1

    def matrix(self) -> np.ndarray:
        out = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)
        for (p, t), n in self.counts.items():
            out[p, t] = n
        return out

    def stats(self) -> tuple[list[int], list[int], list[int]]:
        """Per-class (tp, fp, fn) with the ignored ground-truth columns left out."""
        n = self.n_classes
        tp, fp, fn = [0] * n, [0] * n, [0] * n
        for (p, t), count in self.counts.items():
            if t in self.ignore:
                continue
            if p == t:
                tp[p] += count
            else:
                fp[p] += count
                fn[t] += count
        return tp, fp, fn

    def ious(self) -> list[Fraction]:
        tp, fp, fn = self.stats()
        return [_ratio(tp[c], tp[c] + fp[c] + fn[c]) for c in range(self.n_classes)]


class PanopticReference:
    """semantic-kitti-api's (and nuScenes') ``PanopticEval``, from its rules."""

    def __init__(self, n_classes: int, ignore: Iterable[int] = (0,), min_points: int = 30) -> None:
        self.n_classes = n_classes
        self.ignore = {int(c) for c in ignore}
        self.include = [c for c in range(n_classes) if c not in self.ignore]
        self.min_points = min_points
        self.reset()

    def reset(self) -> None:
        self.confusion = _Confusion(self.n_classes, self.ignore)
        self.tp = [0] * self.n_classes
        self.fp = [0] * self.n_classes
        self.fn = [0] * self.n_classes
        self.iou_sum = [Fraction(0)] * self.n_classes

    def add(self, x_sem: Any, x_inst: Any, y_sem: Any, y_inst: Any) -> None:
        """One scan (every point of the arrays together, whatever their shape)."""
        points = _points(self.n_classes, x_sem, x_inst, y_sem, y_inst)
        self.confusion.add(points)
        included = set(self.include)
        gt_size: Counter[tuple[int, int]] = Counter()  # (class, id) -> points
        pred_size: Counter[tuple[int, int]] = Counter()
        common: Counter[tuple[int, int, int]] = Counter()  # (class, gt id, pred id) -> points
        for xs, xi, ys, yi in points:
            if ys in self.ignore:
                continue
            gt_here = ys in included and yi > 0
            pred_here = xs in included and xi > 0
            if gt_here:
                gt_size[ys, yi] += 1
            if pred_here:
                pred_size[xs, xi] += 1
            if gt_here and pred_here and xs == ys:
                common[ys, yi, xi] += 1
        matched_gt, matched_pred = set(), set()
        for (c, g, p), inter in common.items():
            union = gt_size[c, g] + pred_size[c, p] - inter
            if 2 * inter > union:
                self.tp[c] += 1
                self.iou_sum[c] += Fraction(inter, union)
                matched_gt.add((c, g))
                matched_pred.add((c, p))
        for key, size in gt_size.items():
            if key not in matched_gt and size >= self.min_points:
                self.fn[key[0]] += 1
        for key, size in pred_size.items():
            if key not in matched_pred and size >= self.min_points:
                self.fp[key[0]] += 1

    def merge(self, other: PanopticReference) -> None:
        self.confusion.counts.update(other.confusion.counts)
        for c in range(self.n_classes):
            self.tp[c] += other.tp[c]
            self.fp[c] += other.fp[c]
            self.fn[c] += other.fn[c]
            self.iou_sum[c] += other.iou_sum[c]

    def _per_class(self) -> tuple[list[Fraction], list[Fraction], list[Fraction]]:
        sq = [_ratio(self.iou_sum[c], self.tp[c]) for c in range(self.n_classes)]
        rq = [_ratio(self.tp[c], self.tp[c] + Fraction(self.fp[c] + self.fn[c], 2)) for c in range(self.n_classes)]
        return [s * r for s, r in zip(sq, rq, strict=True)], sq, rq

    def _mean(self, values: Sequence[Fraction]) -> float:
        chosen = [values[c] for c in self.include]
        return float(sum(chosen, Fraction(0)) / len(chosen)) if chosen else math.nan

    def pq(self) -> tuple[float, float, float, np.ndarray, np.ndarray, np.ndarray]:
        """(PQ, SQ, RQ, pq per class, sq per class, rq per class)."""
        pq, sq, rq = self._per_class()
        arrays = [np.array([float(v) for v in values], dtype=np.float64) for values in (pq, sq, rq)]
        return (self._mean(pq), self._mean(sq), self._mean(rq), *arrays)

    def sem_iou_stats(self) -> tuple[list[int], list[int], list[int]]:
        return self.confusion.stats()

    def sem_iou(self) -> tuple[float, np.ndarray]:
        ious = self.confusion.ious()
        return self._mean(ious), np.array([float(v) for v in ious], dtype=np.float64)

    def sem_acc(self) -> float:
        tp, fp, _ = self.confusion.stats()
        return float(_ratio(sum(tp), sum(tp[c] + fp[c] for c in self.include)))


class Panoptic4DReference:
    """4D-PLS's ``Panoptic4DEval`` (LSTQ), from its rules; ``pq4d`` is what its first
    ``getPQ4D`` call returns (see the module docstring for why only the first)."""

    def __init__(self, n_classes: int, ignore: Iterable[int] = (0,), min_points: int = 30) -> None:
        self.n_classes = n_classes
        self.ignore = {int(c) for c in ignore}
        self.include = [c for c in range(n_classes) if c not in self.ignore]
        self.min_points = min_points
        self.reset()

    def reset(self) -> None:
        self.confusion = _Confusion(self.n_classes, self.ignore)
        # sequence -> {"pred": {id: size}, "gt": {(class, id): size}, "common": {(class, gt, pred): points}}
        self.sequences: dict[Hashable, dict[str, Counter]] = {}

    def _sequence(self, seq: Hashable) -> dict[str, Counter]:
        return self.sequences.setdefault(seq, {"pred": Counter(), "gt": Counter(), "common": Counter()})

    def add(self, seq: Hashable, x_sem: Any, x_inst: Any, y_sem: Any, y_inst: Any) -> None:
        points = _points(self.n_classes, x_sem, x_inst, y_sem, y_inst)
        self.confusion.add(points)
        state = self._sequence(seq)
        included = set(self.include)
        valid = [p for p in points if p[2] not in self.ignore]
        in_scan: Counter[tuple[int, int]] = Counter()
        for _, _, ys, yi in valid:
            if ys in included and yi > 0:
                in_scan[ys, yi] += 1
        # More than min_points in this scan, and not instance 0.
        tubes = {key for key, n in in_scan.items() if n > self.min_points and key[1] != 1}
        for key in tubes:
            state["gt"][key] += in_scan[key]
        for xs, xi, ys, yi in valid:
            if xs in included and xi > 1:
                state["pred"][xi] += 1
            if (ys, yi) in tubes and xi > 0:
                state["common"][ys, yi, xi] += 1

    def merge(self, other: Panoptic4DReference) -> None:
        self.confusion.counts.update(other.confusion.counts)
        for seq, theirs in other.sequences.items():
            mine = self._sequence(seq)
            for key in ("pred", "gt", "common"):
                mine[key].update(theirs[key])

    def association(self) -> tuple[list[Fraction], list[int], list[Fraction], list[Fraction]]:
        """Per class the association sum and the tube count; every pair's precision and recall."""
        aq = [Fraction(0)] * self.n_classes
        tubes = [0] * self.n_classes
        precisions: list[Fraction] = []
        recalls: list[Fraction] = []
        for state in self.sequences.values():
            by_tube: dict[tuple[int, int], list[tuple[int, int]]] = {}
            for (c, g, p), n in state["common"].items():
                if p in state["pred"]:
                    by_tube.setdefault((c, g), []).append((p, n))
            for (c, g), size in state["gt"].items():
                tubes[c] += 1
                inner = Fraction(0)
                for p, tpa in by_tube.get((c, g), []):
                    pred = state["pred"][p]
                    precisions.append(Fraction(tpa, pred))
                    recalls.append(Fraction(tpa, size))
                    inner += Fraction(tpa * tpa, size + pred - tpa)
                aq[c] += inner / size
        return aq, tubes, precisions, recalls

    def pq4d(self) -> tuple[float, float, np.ndarray, float, float, np.ndarray, float, float, float]:
        """(LSTQ, AQ_overall, AQ per class, AQ_p, AQ_r, iou per class, iou_mean, iou_p, iou_r)."""
        aq, tubes, precisions, recalls = self.association()
        total = sum((aq[c] for c in self.include), Fraction(0))
        things = sum(tubes[c] for c in AQ_OVERALL_CLASSES if c < self.n_classes)
        aq_overall = _divide(total, things)
        aq_per_class = np.array([float(aq[c] / max(tubes[c], 1)) for c in range(self.n_classes)])

        tp, fp, fn = self.confusion.stats()
        present = sum(1 for c in range(self.n_classes) if tp[c] + fp[c] + fn[c] > 0)
        ious = self.confusion.ious()
        iou_mean = _divide(sum(ious, Fraction(0)), present)
        iou_p = _divide(sum((_ratio(tp[c], tp[c] + fp[c]) for c in range(self.n_classes)), Fraction(0)), present)
        iou_r = _divide(sum((_ratio(tp[c], tp[c] + fn[c]) for c in range(self.n_classes)), Fraction(0)), present)

        aq_p = float(sum(precisions, Fraction(0)) / len(precisions)) if precisions else math.nan
        aq_r = float(sum(recalls, Fraction(0)) / len(recalls)) if recalls else math.nan
        product = aq_overall * iou_mean
        lstq = math.nan if math.isnan(product) else math.sqrt(product)
        iou = np.array([float(v) for v in ious], dtype=np.float64)
        return lstq, aq_overall, aq_per_class, aq_p, aq_r, iou, iou_mean, iou_p, iou_r


def _divide(num: Fraction, den: int) -> float:
    """num / den as float64 division does it: x / 0 is inf, 0 / 0 NaN."""
    if den:
        return float(num / den)
    return math.nan if num == 0 else math.inf


# --------------------------------------------------------------------------------------------
# semantic-kitti-api's evaluate_panoptic.py
# --------------------------------------------------------------------------------------------


def remap(raw: np.ndarray, learning_map: Mapping[int, int]) -> list[int]:
    """Raw SemanticKITTI labels (the low 16 bits) to classes; a raw label not in the map is 0."""
    return [int(learning_map.get(v, 0)) for v in (np.asarray(raw, dtype=np.uint32) & 0xFFFF).tolist()]


def semantic_kitti_scores(
    scans: Iterable[tuple[np.ndarray, np.ndarray]],
    config: Mapping[str, Any],
    *,
    min_inst_points: int = 50,
    limit: int | None = None,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """evaluate_panoptic.py's scores of (ground-truth label, predicted label) pairs.

    Labels are the files' uint32 values ``instance << 16 | raw``. Both sides' classes are their
    raw labels through ``learning_map``; the *whole* label is the instance id (so two raw labels
    of one class are two segments, e.g. road and lane-marking, and a label of 2**32 - 1 wraps to
    "no instance"). ``limit`` keeps the first points of each scan (the script means to, but its
    ``--limit`` stops with a NameError). Returns (scores, per class name {PQ, SQ, RQ, IoU}).
    """
    learning_map = {int(k): int(v) for k, v in config["learning_map"].items()}
    inverse = {int(k): int(v) for k, v in config["learning_map_inv"].items()}
    names = {int(k): str(v) for k, v in config["labels"].items()}
    n_classes = len(inverse)
    ignore = [int(c) for c, ignored in config["learning_ignore"].items() if ignored]
    evaluator = PanopticReference(n_classes, ignore, min_inst_points)
    for gt, pred in scans:
        gt = np.asarray(gt, dtype=np.uint32)[:limit]
        pred = np.asarray(pred, dtype=np.uint32)[:limit]
        x_sem = np.array(remap(pred, learning_map), dtype=np.int64)
        y_sem = np.array(remap(gt, learning_map), dtype=np.int64)
        evaluator.add(x_sem, pred, y_sem, gt)
    _, _, _, pq, sq, rq = evaluator.pq()
    iou_mean, iou = evaluator.sem_iou()
    per_class: dict[str, dict[str, float]] = {}
    for c in range(n_classes):
        per_class[names[inverse[c]]] = {"PQ": pq[c], "SQ": sq[c], "RQ": rq[c], "IoU": iou[c]}

    def mean(key: str, classes: Sequence[str]) -> float:
        return float(np.mean([per_class[name][key] for name in classes]))

    everything = THINGS + STUFF
    scores = {
        "pq_mean": mean("PQ", everything),
        "pq_dagger": float(np.mean([per_class[n]["PQ"] for n in THINGS] + [per_class[n]["IoU"] for n in STUFF])),
        "sq_mean": mean("SQ", everything),
        "rq_mean": mean("RQ", everything),
        "iou_mean": float(iou_mean),
        "pq_stuff": mean("PQ", STUFF),
        "rq_stuff": mean("RQ", STUFF),
        "sq_stuff": mean("SQ", STUFF),
        "pq_things": mean("PQ", THINGS),
        "rq_things": mean("RQ", THINGS),
        "sq_things": mean("SQ", THINGS),
    }
    return scores, per_class


def read_scores(text: str) -> dict[str, float]:
    """scores.txt (``key: value`` lines, as PyYAML dumps a flat dict of floats) as a dict."""
    special = {".nan": math.nan, ".inf": math.inf, "-.inf": -math.inf}
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, value = line.split(":", 1)
        value = value.strip()
        out[key.strip()] = special[value.lower()] if value.lower() in special else float(value)
    return out
