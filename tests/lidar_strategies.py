"""Hypothesis strategies for the LiDAR metrics: small labelled scans, and sequences of them.

A scan is built from a few ground-truth *objects* (a class and an instance id, a number of
points), stuff carrying instance 0 most of the time; the prediction follows each object with its
own class and id, or confuses the class, merges two objects, splits one, misses it, plus point
noise. What the cases cover:

* classes never seen on either side, classes seen on one side only;
* scans whose ground truth is all ignored, empty scans, predictions of the ignored class;
* instances below, at and just above ``min_points`` (4D-PLS keeps strictly more, semantic-kitti-api
  counts a FN/FP from ``min_points`` on and counts a matched small instance);
* instance ids at the 16-bit limits (SemanticKITTI labels are ``instance << 16 | semantic``),
  the largest value of the array's type (which the +1 shift wraps to "no instance" or a negative
  id), -1 and the smallest value of signed types; arrays of every integer type, each of the four
  arrays in its own;
* several sequences with interleaved scans, objects that persist across the scans of a sequence,
  predicted ids that switch.

The original evaluators pack (gt, pred) into ``pred + 2**32 * gt`` in int64: ids are kept where
that is exact (a shifted ground-truth id below 2**31, a predicted one below 2**32).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

#: Integer types of the arrays; classes and ids must fit in the type drawn.
INT_TYPES = (np.int64, np.int32, np.uint32, np.uint16, np.int16, np.uint8, np.int8, np.uint64)
CLASS_TYPES = (np.int64, np.int32, np.uint32, np.uint16, np.uint8, np.int8)


@dataclass(frozen=True)
class LidarConfig:
    n_classes: int
    ignore: list[int]
    min_points: int

    def args(self) -> tuple[int, None, list[int]]:
        """Positional arguments of ``PanopticEval`` and ``Panoptic4DEval`` (n_classes, device, ignore)."""
        return self.n_classes, None, list(self.ignore)

    @property
    def include(self) -> list[int]:
        return [c for c in range(self.n_classes) if c not in self.ignore]


class Scan(NamedTuple):
    """One scan: per point the predicted class and instance (x), the true ones (y)."""

    x_sem: np.ndarray
    x_inst: np.ndarray
    y_sem: np.ndarray
    y_inst: np.ndarray


@dataclass
class LidarCase:
    config: LidarConfig
    scans: list[Scan]
    #: The sequence of each scan (4-D cases), in feeding order.
    sequences: list[Any] = field(default_factory=list)


@st.composite
def lidar_configs(draw: st.DrawFn, *, n_classes: int | None = None) -> LidarConfig:
    """Mostly SemanticKITTI-like: class 0 ignored; 10 and more classes put stuff past 1..8."""
    n = n_classes if n_classes is not None else draw(st.sampled_from([2, 3, 5, 10, 12]))
    kind = draw(st.sampled_from(["zero", "zero", "zero", "none", "two"]))
    if kind == "zero" or n < 3:
        ignore = [0]
    elif kind == "none":
        ignore = []
    else:
        ignore = sorted({0, draw(st.integers(1, n - 1))})
    if len(ignore) >= n:
        ignore = [0]
    min_points = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 30]))
    return LidarConfig(n, ignore, min_points)


def _fits(value: int, dtype: Any) -> bool:
    info = np.iinfo(dtype)
    return info.min <= value <= info.max


def id_values(
    dtype: Any, *, ground_truth: bool, float_keys: bool = False, wide: bool = False
) -> st.SearchStrategy[int]:
    """Instance ids for an array of ``dtype``: small ones mostly, and the edges.

    ``float_keys``: one of the instance arrays is uint64, which the originals multiply into
    float64 (uint64 * int64), so their pair keys are exact only for ground-truth ids below 2**21.
    ``wide``: ids the originals cannot pair (a ground-truth id of 2**31 or more, a predicted one of
    2**32 or more), for panoptiq against the reference; uint64 ids stay below 2**63 - 1.
    """
    info = np.iinfo(dtype)
    edges = [2**15 - 1, 2**15, 2**16 - 1, 2**16, 2**21 - 2, 2**24 - 1, 2**31 - 2]
    if wide:
        edges += [2**31 - 1, 2**31, 2**32 - 2, 2**32, 2**40 + 3, 2**62]
    edges = [v for v in edges if _fits(v, dtype)]
    # info.max - 1 shifts to info.max: fine as a predicted id below 2**32, not as a ground-truth
    # one of 2**31 or more (the originals' int64 key overflows).
    edges.append(int(info.max) - 1)
    if info.min < 0:
        edges += [-1, -7, int(info.min)]
    originals = (2**21 if float_keys else 2**31) if ground_truth else 2**32
    limit = 2**63 - 1 if wide else originals
    edges = [v for v in edges if v + 1 < limit]
    edges.append(int(info.max))  # +1 wraps: to 0 (no instance) or to the most negative value
    return st.one_of(st.integers(0, 5), st.integers(0, 5), st.sampled_from(sorted(set(edges))))


class _Object(NamedTuple):
    gt_class: int
    gt_id: int
    pred_class: int
    pred_id: int


def _float_keys(types: dict[str, Any]) -> bool:
    return np.uint64 in (types["x_inst"], types["y_inst"])


def _pred_id_ok(value: int, dtype: Any, wide: bool) -> bool:
    """A ground-truth id usable as a predicted id of ``dtype`` (below 2**32 once shifted, or the
    type's largest value, which wraps)."""
    return _fits(value, dtype) and (wide or value + 1 < 2**32 or value == np.iinfo(dtype).max)


def _sizes(min_points: int) -> st.SearchStrategy[int]:
    around = sorted({max(0, min_points + d) for d in (-1, 0, 1, 2)} - {0})
    return st.one_of(st.integers(0, 12), st.sampled_from(around or [1]))


@st.composite
def _objects(
    draw: st.DrawFn, config: LidarConfig, types: dict[str, Any], max_objects: int = 6, wide: bool = False
) -> list[_Object]:
    n = config.n_classes
    classes = st.integers(0, n - 1)
    count = draw(st.integers(0, max_objects))
    gt_ids = id_values(types["y_inst"], ground_truth=True, float_keys=_float_keys(types), wide=wide)
    pred_ids = id_values(types["x_inst"], ground_truth=False, wide=wide)
    out = []
    for _ in range(count):
        gt_class = draw(classes)
        gt_id = 0 if draw(st.integers(0, 3)) == 0 else draw(gt_ids)
        # The predicted class: the true one mostly, or another (an ignored class included).
        pred_class = gt_class if draw(st.integers(0, 3)) else draw(classes)
        same = draw(st.integers(0, 4)) == 0 and _pred_id_ok(gt_id, types["x_inst"], wide)
        pred_id = gt_id if same else draw(pred_ids)
        out.append(_Object(gt_class, gt_id, pred_class, pred_id))
    return out


def _column(values: list[int], dtype: Any) -> np.ndarray:
    return np.array(values, dtype=dtype) if values else np.zeros(0, dtype=dtype)


@st.composite
def _scan(
    draw: st.DrawFn,
    config: LidarConfig,
    objects: list[_Object],
    types: dict[str, Any],
    *,
    all_ignored: bool = False,
    wide: bool = False,
) -> Scan:
    """Points of some of the objects, predictions following them with errors, shuffled."""
    x_sem: list[int] = []
    x_inst: list[int] = []
    y_sem: list[int] = []
    y_inst: list[int] = []
    n = config.n_classes
    noise_ids = id_values(types["x_inst"], ground_truth=False, wide=wide)
    ignored = config.ignore or [0]
    for obj in objects:
        size = draw(_sizes(config.min_points))
        if size == 0:
            continue
        gt_class = draw(st.sampled_from(ignored)) if all_ignored else obj.gt_class
        pred = (obj.pred_class, obj.pred_id)
        mistake = draw(st.integers(0, 9))
        if mistake == 0 and len(objects) > 1:  # merged into another object's prediction
            other = objects[draw(st.integers(0, len(objects) - 1))]
            pred = (other.pred_class, other.pred_id)
        elif mistake == 1:  # missed: another class, no instance
            pred = (draw(st.integers(0, n - 1)), 0)
        elif mistake == 2:  # an id switch in this scan
            pred = (pred[0], draw(noise_ids))
        # Split: the last `cut` points get a second id, sometimes a second class.
        cut, second = 0, pred
        if draw(st.integers(0, 5)) == 0:
            cut = draw(st.integers(1, size))
            second = (draw(st.sampled_from([pred[0], draw(st.integers(0, n - 1))])), draw(noise_ids))
        y_sem += [gt_class] * size
        y_inst += [obj.gt_id] * size
        x_sem += [pred[0]] * (size - cut) + [second[0]] * cut
        x_inst += [pred[1]] * (size - cut) + [second[1]] * cut
    # Point noise: a few points get another predicted class and/or id.
    if x_sem and draw(st.booleans()):
        flips = draw(st.lists(st.integers(0, len(x_sem) - 1), max_size=max(1, len(x_sem) // 3)))
        for i in flips:
            if draw(st.booleans()):
                x_sem[i] = draw(st.integers(0, n - 1))
            else:
                x_inst[i] = draw(noise_ids)
    order = draw(st.permutations(range(len(x_sem))))
    columns = [[values[i] for i in order] for values in (x_sem, x_inst, y_sem, y_inst)]
    return Scan(*(_column(values, types[name]) for values, name in zip(columns, Scan._fields, strict=True)))


@st.composite
def _types(draw: st.DrawFn, config: LidarConfig) -> dict[str, Any]:
    one = draw(st.booleans())
    pick_class = st.sampled_from([t for t in CLASS_TYPES if np.iinfo(t).max >= config.n_classes])
    pick_id = st.sampled_from(INT_TYPES)
    if one:
        t = draw(pick_class)
        return {"x_sem": t, "y_sem": t, "x_inst": t, "y_inst": t}
    return {"x_sem": draw(pick_class), "y_sem": draw(pick_class), "x_inst": draw(pick_id), "y_inst": draw(pick_id)}


@st.composite
def lidar_cases(
    draw: st.DrawFn,
    *,
    config: LidarConfig | None = None,
    max_scans: int = 4,
    max_objects: int = 6,
    wide: bool = False,
) -> LidarCase:
    """A few independent scans of one configuration; objects are drawn anew for each scan.
    ``wide``: also ids the originals cannot pair (see :func:`id_values`)."""
    cfg = config or draw(lidar_configs())
    types = draw(_types(cfg))
    scans = []
    for _ in range(draw(st.integers(1, max_scans))):
        objects = draw(_objects(cfg, types, max_objects, wide))
        scans.append(draw(_scan(cfg, objects, types, all_ignored=draw(st.integers(0, 9)) == 0, wide=wide)))
    return LidarCase(cfg, scans)


sequence_names = st.one_of(st.integers(0, 21), st.sampled_from(["08", "seq-a", "b"]))


@st.composite
def lidar_sequences(
    draw: st.DrawFn,
    *,
    config: LidarConfig | None = None,
    max_sequences: int = 3,
    max_scans: int = 4,
    max_objects: int = 6,
    wide: bool = False,
) -> LidarCase:
    """Scans of 1..max_sequences sequences, interleaved; each sequence has its objects (tracks)
    that appear in some of its scans, with predicted ids switching now and then. ``wide``: as
    for :func:`lidar_cases`."""
    cfg = config or draw(lidar_configs())
    types = draw(_types(cfg))
    count = draw(st.integers(1, max_sequences))
    names = draw(st.lists(sequence_names, min_size=count, max_size=count, unique_by=lambda s: (type(s), s)))
    per_sequence = [draw(st.integers(1, max_scans)) for _ in names]
    tracks = [draw(_objects(cfg, types, max_objects, wide)) for _ in names]
    slots = draw(st.permutations([s for s, k in enumerate(per_sequence) for _ in range(k)]))
    scans, sequences = [], []
    for s in slots:
        scans.append(draw(_scan(cfg, tracks[s], types, all_ignored=draw(st.integers(0, 14)) == 0, wide=wide)))
        sequences.append(names[s])
    return LidarCase(cfg, scans, sequences)


@st.composite
def half_iou_scans(draw: st.DrawFn, n_classes: int = 4) -> tuple[LidarConfig, Scan, int]:
    """A scan whose ground-truth segment A (class 1) has IoU exactly 1/2 with the prediction P,
    or one point above; returns (config, scan, expected TP of class 1).

    A has ``a`` points, B (class 2) ``b``; P (class 1) covers ``i`` points of A and ``e`` of B; the
    rest of A and B is predicted as class 3. IoU(A, P) = i / (a + e).
    """
    a = draw(st.integers(1, 30))
    e = draw(st.integers(0, a).filter(lambda e: (a + e) % 2 == 0))
    i = (a + e) // 2
    above = draw(st.booleans()) and i < a
    i += above
    b = draw(st.integers(e, e + 4))
    y_sem = [1] * a + [2] * b
    y_inst = [7] * a + [9] * b
    x_sem = [1] * i + [3] * (a - i) + [1] * e + [3] * (b - e)
    x_inst = [5] * i + [6] * (a - i) + [5] * e + [6] * (b - e)
    scan = Scan(*(np.array(v, dtype=np.int64) for v in (x_sem, x_inst, y_sem, y_inst)))
    return LidarConfig(n_classes, [0], draw(st.integers(0, 3))), scan, int(above)


# --------------------------------------------------------------------------------------------
# SemanticKITTI label files and nuScenes panoptic labels
# --------------------------------------------------------------------------------------------


@st.composite
def kitti_label_pairs(draw: st.DrawFn, raw_labels: list[int], *, max_points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A (ground truth, prediction) pair of SemanticKITTI uint32 labels ``instance << 16 | raw``.

    Instances go up to 2**15 - 1 and once in a while to the 16-bit limit (2**16 - 1): the whole
    label is the instance id in evaluate_panoptic.py, and a label of 2**31 or more overflows its
    int64 key for the ground truth (it is fine for the prediction).
    """
    n = draw(st.integers(0, max_points))
    raw = st.sampled_from(raw_labels)
    gt_instance = st.one_of(st.just(0), st.integers(1, 4), st.just(2**15 - 1))
    pred_instance = st.one_of(st.just(0), st.integers(1, 4), st.just(2**16 - 1))
    gt = [(draw(gt_instance) << 16) | draw(raw) for _ in range(draw(st.integers(0, 4)))] or [0]
    gt_index = draw(st.lists(st.integers(0, len(gt) - 1), min_size=n, max_size=n))
    truth = np.array([gt[k] for k in gt_index], dtype=np.uint32)
    follow = {g: (draw(pred_instance) << 16) | draw(raw) for g in set(gt)}
    pred = np.array([follow[v] for v in truth.tolist()], dtype=np.uint32)
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n // 3)) if n else []:
        pred[i] = (draw(pred_instance) << 16) | draw(raw)
    return truth, pred


@st.composite
def nuscenes_pairs(draw: st.DrawFn, *, max_points: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Panoptic nuScenes labels ``category * 1000 + instance`` (ground truth uint16 as the dataset
    stores them, prediction int32 or uint16): 0 noise (ignored), 1..10 things, 11..16 stuff."""
    objects = []
    for _ in range(draw(st.integers(1, 6))):
        category = draw(st.integers(0, 16))
        instance = draw(st.integers(1, 60)) if 1 <= category <= 10 else 0
        objects.append((category * 1000 + instance, draw(st.integers(0, 30))))
    truth: list[int] = []
    pred: list[int] = []
    for label, size in objects:
        follow = label if draw(st.integers(0, 3)) else draw(st.integers(0, 16)) * 1000 + draw(st.integers(0, 60))
        cut = draw(st.integers(0, size))
        truth += [label] * size
        pred += [follow] * cut + [label // 1000 * 1000] * (size - cut)
    truth = truth[:max_points]
    pred = pred[:max_points]
    dtype = draw(st.sampled_from([np.int32, np.uint16]))
    return np.array(truth, dtype=np.uint16), np.array(pred, dtype=dtype)
