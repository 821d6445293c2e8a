"""Synthetic SemanticKITTI-style LiDAR panoptic datasets, for demos, tests and benchmarks.

:func:`make_semantic_kitti` writes what semantic-kitti-api's ``evaluate_panoptic.py`` and
4D-PLS's ``evaluate_4dpanoptic.py`` read: label files of uint32 per point
(``instance << 16 | raw label``) under ``sequences/XX/labels``, predictions in the same format
under ``predictions/sequences/XX/predictions``, and a config YAML with the label mappings.

A sequence is a street scene seen by a moving sensor: road (with lane markings), sidewalk,
parking, buildings, fences, vegetation, terrain, poles and signs as stuff; parked and moving cars,
trucks, buses, cyclists and pedestrians as things, each with an instance id kept across the
scans of the sequence, its number of points changing as its distance changes (from well above
to below the evaluators' minimum instance size), entering and leaving the view. Unlabelled
points, outliers and other-structure are ignored classes.

Predictions carry the errors of a LiDAR panoptic network: points confused between neighbouring
classes (road and parking, vegetation and terrain, pole and sign...), object boundaries bleeding
into the ground, whole objects given a wrong class, small distant objects missed, big ones split
in two, neighbours merged into one instance, id switches from one scan to the next, and a few
false-positive objects. A model predicts the 19 classes only, so a moving car comes out as
"car" (raw 10) and a lane marking as "road" (raw 40).

Pure numpy, no PyYAML: the YAML is written as plain text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

#: Raw labels used here: raw label -> (name, class). Class 0 is ignored.
RAW_LABELS: dict[int, tuple[str, int]] = {
    0: ("unlabeled", 0),
    1: ("outlier", 0),
    10: ("car", 1),
    11: ("bicycle", 2),
    13: ("bus", 5),
    15: ("motorcycle", 3),
    18: ("truck", 4),
    20: ("other-vehicle", 5),
    30: ("person", 6),
    31: ("bicyclist", 7),
    32: ("motorcyclist", 8),
    40: ("road", 9),
    44: ("parking", 10),
    48: ("sidewalk", 11),
    49: ("other-ground", 12),
    50: ("building", 13),
    51: ("fence", 14),
    52: ("other-structure", 0),
    60: ("lane-marking", 9),
    70: ("vegetation", 15),
    71: ("trunk", 16),
    72: ("terrain", 17),
    80: ("pole", 18),
    81: ("traffic-sign", 19),
    99: ("other-object", 0),
    252: ("moving-car", 1),
    253: ("moving-bicyclist", 7),
    254: ("moving-person", 6),
    258: ("moving-truck", 4),
    259: ("moving-other-vehicle", 5),
}
#: Class index -> name; the 19 evaluated classes are 1..19, in SemanticKITTI's order.
CLASS_NAMES: tuple[str, ...] = (
    "unlabeled",
    "car",
    "bicycle",
    "motorcycle",
    "truck",
    "other-vehicle",
    "person",
    "bicyclist",
    "motorcyclist",
    "road",
    "parking",
    "sidewalk",
    "other-ground",
    "building",
    "fence",
    "vegetation",
    "trunk",
    "terrain",
    "pole",
    "traffic-sign",
)
#: Raw label -> class.
LEARNING_MAP: dict[int, int] = {raw: cls for raw, (_, cls) in RAW_LABELS.items()}
#: Class -> the raw label of the same name (what a model writes for that class).
LEARNING_MAP_INV: dict[int, int] = {
    cls: next(raw for raw, (name, _) in RAW_LABELS.items() if name == CLASS_NAMES[cls])
    for cls in range(len(CLASS_NAMES))
}
#: Ignored classes.
LEARNING_IGNORE: dict[int, bool] = {cls: cls == 0 for cls in range(len(CLASS_NAMES))}
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
#: SemanticKITTI's split of its sequences; the sequences written go to "valid".
KITTI_SPLIT = {"train": [0, 1, 2, 3, 4, 5, 6, 7, 9, 10], "valid": [8], "test": list(range(11, 22))}
#: Largest instance id written: the whole label is the instance id in evaluate_panoptic.py, whose
#: int64 pair key overflows for ground-truth labels of 2**31 and more.
MAX_INSTANCE = 2**15 - 1

# Stuff raw labels and their share of the stuff points of a scan (before per-sequence jitter).
_STUFF_SHARE = {
    40: 0.25,
    60: 0.012,
    48: 0.12,
    44: 0.04,
    49: 0.01,
    50: 0.17,
    51: 0.05,
    70: 0.17,
    71: 0.02,
    72: 0.08,
    80: 0.012,
    81: 0.005,
    52: 0.01,
    0: 0.012,
    1: 0.002,
    99: 0.008,
}
# Things: raw label -> (objects per sequence low, high, points at the closest low, high).
_THINGS = {
    10: (3, 7, 150, 500),  # parked cars
    252: (1, 4, 120, 450),  # moving cars
    18: (0, 1, 300, 800),
    258: (0, 1, 250, 700),
    20: (0, 1, 200, 500),
    13: (0, 1, 300, 700),
    30: (1, 3, 30, 80),
    254: (0, 3, 25, 70),
    31: (0, 1, 40, 90),
    253: (0, 1, 35, 80),
    11: (0, 2, 25, 70),
    15: (0, 1, 40, 110),
    32: (0, 1, 40, 90),
}
# What a network confuses a class with (raw labels of the 19 classes).
_CONFUSED = {
    40: (44, 48),
    44: (40, 48),
    48: (40, 72, 44),
    49: (48, 72),
    50: (51, 70),
    51: (50, 70),
    70: (72, 71, 50),
    71: (70, 80),
    72: (70, 48),
    80: (81, 71),
    81: (80,),
    10: (18, 20),
    18: (10, 20),
    20: (18, 10),
    30: (31,),
    31: (30, 11),
    11: (31, 15),
    15: (32, 11),
    32: (31, 15),
}
# Where an object's lost points go (the ground under it) and what ignored points look like.
_GROUND = (40, 48, 72)
_IGNORED_LOOKS_LIKE = (50, 70, 40, 51)


def _sequence_name(sequence: str | int) -> str:
    try:
        return f"{int(sequence):02d}"
    except (TypeError, ValueError):
        raise ValueError(f"sequences are numbers (SemanticKITTI's 00..21), got {sequence!r}") from None


def _model_raw(raw: int) -> int:
    """The raw label a 19-class network writes for a ground-truth raw label."""
    return LEARNING_MAP_INV[LEARNING_MAP[raw]]


#: Ground-truth raw label -> the raw label a 19-class network writes for it.
_AS_MODEL = np.zeros(max(RAW_LABELS) + 1, dtype=np.uint32)
for _raw in RAW_LABELS:
    _AS_MODEL[_raw] = _model_raw(_raw)


class _Track:
    """A thing in a sequence: its label, instance id, size and when it is in view."""

    def __init__(self, raw: int, instance: int, rng: np.random.Generator, scans: int, low: int, high: int) -> None:
        self.raw = raw
        self.instance = instance
        self.peak = int(rng.integers(low, high + 1))
        moving = raw >= 252 or raw in (30, 31, 32)
        # Distance as the sensor passes: closest at `closest`, points falling off on both sides.
        self.closest = float(rng.uniform(-0.3, 1.3) * scans)
        self.falloff = float(rng.uniform(0.15, 0.6 if moving else 0.35) * max(scans, 1))
        start = int(rng.integers(-scans // 2 - 1, scans))
        self.start = min(start, max(int(self.closest), 0))
        self.stop = self.start + int(rng.integers(max(scans // 2, 1), 2 * scans + 2))

    def points(self, t: int, rng: np.random.Generator) -> int:
        if not self.start <= t < self.stop:
            return 0
        d = (t - self.closest) / self.falloff
        size = self.peak / (1.0 + d * d) * rng.uniform(0.85, 1.15)
        return int(size) if size >= 4 else 0


class _Scene:
    def __init__(self, rng: np.random.Generator, scans: int) -> None:
        shares = np.array(list(_STUFF_SHARE.values())) * rng.uniform(0.6, 1.4, len(_STUFF_SHARE))
        self.stuff_raw = np.array(list(_STUFF_SHARE), dtype=np.uint32)
        self.stuff_share = shares / shares.sum()
        ids = rng.permutation(np.arange(1, 4000))  # SemanticKITTI-like small instance numbers
        self.tracks: list[_Track] = []
        for raw, (low, high, small, big) in _THINGS.items():
            for _ in range(int(rng.integers(low, high + 1))):
                self.tracks.append(_Track(raw, int(ids[len(self.tracks)]), rng, scans, small, big))


def _ground_truth(scene: _Scene, t: int, points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One scan's raw labels and instance ids (unshuffled: things first, then stuff)."""
    total = int(points * rng.uniform(0.9, 1.1))
    sizes = [track.points(t, rng) for track in scene.tracks]
    thing_points = sum(sizes)
    if thing_points > 0.6 * total:  # the scene cannot be all objects
        scale = 0.6 * total / thing_points
        sizes = [int(s * scale) for s in sizes]
    raw_parts, inst_parts = [], []
    for track, size in zip(scene.tracks, sizes, strict=True):
        raw_parts.append(np.full(size, track.raw, dtype=np.uint32))
        inst_parts.append(np.full(size, track.instance, dtype=np.uint32))
    stuff = total - sum(sizes)
    counts = rng.multinomial(max(stuff, 0), scene.stuff_share)
    raw_parts.append(np.repeat(scene.stuff_raw, counts))
    inst_parts.append(np.zeros(int(counts.sum()), dtype=np.uint32))
    return np.concatenate(raw_parts), np.concatenate(inst_parts)


class _Model:
    """A network's predictions for one sequence: its own instance ids, kept from scan to scan
    (with switches), its own systematic and random mistakes."""

    def __init__(self, scene: _Scene, rng: np.random.Generator) -> None:
        self.rng = rng
        self.fresh = iter(rng.permutation(np.arange(1, MAX_INSTANCE + 1)).tolist())
        self.pred_id = {track.instance: next(self.fresh) for track in scene.tracks}
        # Some objects are always seen as another class (a truck taken for a car...).
        self.pred_raw = {}
        for track in scene.tracks:
            raw = _model_raw(track.raw)
            if raw in _CONFUSED and rng.random() < 0.12:
                raw = int(rng.choice(_CONFUSED[raw]))
            self.pred_raw[track.instance] = raw

    def _confuse(self, raw: np.ndarray, rate: float) -> np.ndarray:
        """Per-point class noise among neighbouring classes."""
        rng = self.rng
        out = raw.copy()
        flip = rng.random(raw.size) < rate
        for value in np.unique(raw[flip]):
            at = np.flatnonzero(flip & (raw == value))
            options = _CONFUSED.get(int(value))
            if options:
                out[at] = rng.choice(np.array(options, dtype=np.uint32), at.size)
        return out

    def predict(self, raw: np.ndarray, inst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        out_raw = _AS_MODEL[raw]
        out_inst = np.zeros_like(inst)
        ignored = np.isin(raw, [r for r, (_, c) in RAW_LABELS.items() if c == 0])
        out_raw[ignored] = rng.choice(np.array(_IGNORED_LOOKS_LIKE, dtype=np.uint32), int(ignored.sum()))
        stuff = inst == 0
        out_raw[stuff] = self._confuse(out_raw[stuff], 0.08)

        objects = [int(i) for i in np.unique(inst[inst > 0])]
        for instance in objects:
            at = np.flatnonzero(inst == instance)
            rng.shuffle(at)
            if rng.random() < 0.04:  # id switch: a new id from this scan on
                self.pred_id[instance] = next(self.fresh)
            size = at.size
            if (size < 40 and rng.random() < 0.5) or rng.random() < 0.02:  # missed
                out_raw[at] = rng.choice(np.array(_GROUND, dtype=np.uint32), size)
                continue
            out_raw[at] = self.pred_raw[instance]
            out_inst[at] = self.pred_id[instance]
            lost = int(size * rng.uniform(0.0, 0.15))  # boundary points taken for the ground
            out_raw[at[:lost]] = rng.choice(np.array(_GROUND, dtype=np.uint32), lost)
            out_inst[at[:lost]] = 0
            if size > 250 and rng.random() < 0.15:  # split in two
                half = at[lost : lost + int((size - lost) * rng.uniform(0.3, 0.6))]
                out_inst[half] = next(self.fresh)
            if rng.random() < 0.05:  # a few points of the object with the wrong class
                few = at[lost : lost + max(1, size // 10)]
                out_raw[few] = self._confuse(out_raw[few], 1.0)
        # Merges: an object of the same predicted class takes its neighbour's id.
        if len(objects) > 1 and rng.random() < 0.35:
            a, b = rng.choice(len(objects), 2, replace=False)
            into = out_inst[(inst == objects[a]) & (out_inst > 0)]
            if into.size:
                keep = (inst == objects[b]) & (out_inst > 0)
                out_inst[keep] = into[0]
                out_raw[keep] = self.pred_raw[objects[a]]
        # Stuff bleeding into objects: a few ground points get an object's class and id.
        for instance in objects:
            if self.rng.random() < 0.3:
                where = np.flatnonzero(stuff & np.isin(raw, _GROUND))
                if where.size:
                    take = rng.choice(where, min(where.size, int(rng.integers(1, 12))), replace=False)
                    out_raw[take] = self.pred_raw[instance]
                    out_inst[take] = self.pred_id[instance]
        # False positives: a blob of vegetation or building taken for a person or a car.
        if rng.random() < 0.25:
            where = np.flatnonzero(stuff & np.isin(raw, (50, 70)))
            if where.size:
                take = rng.choice(where, min(where.size, int(rng.integers(20, 90))), replace=False)
                out_raw[take] = rng.choice(np.array([30, 10], dtype=np.uint32))
                out_inst[take] = next(self.fresh)
        return out_raw, out_inst


def _write_label(path: Path, raw: np.ndarray, inst: np.ndarray) -> None:
    label = (inst.astype(np.uint32) << np.uint32(16)) | raw.astype(np.uint32)
    path.parent.mkdir(parents=True, exist_ok=True)
    label.astype("<u4").tofile(path)


def _yaml_text(valid: list[int]) -> str:
    lines = [
        "# Label mappings of a synthetic SemanticKITTI-style dataset, written by",
        "# panoptiq.lidar.make_semantic_kitti (raw label numbers as in SemanticKITTI).",
        "labels:",
    ]
    lines += [f'  {raw}: "{name}"' for raw, (name, _) in RAW_LABELS.items()]
    lines.append("learning_map:")
    lines += [f"  {raw}: {cls}" for raw, cls in LEARNING_MAP.items()]
    lines.append("learning_map_inv:")
    lines += [f"  {cls}: {raw}" for cls, raw in LEARNING_MAP_INV.items()]
    lines.append("learning_ignore:")
    lines += [f"  {cls}: {'true' if ignored else 'false'}" for cls, ignored in LEARNING_IGNORE.items()]
    lines.append("split:")
    split = {
        "train": [s for s in KITTI_SPLIT["train"] if s not in valid],
        "valid": valid,
        "test": [s for s in KITTI_SPLIT["test"] if s not in valid],
    }
    for name, numbers in split.items():
        if numbers:
            lines.append(f"  {name}:")
            lines += [f"    - {s}" for s in numbers]
        else:
            lines.append(f"  {name}: []")
    return "\n".join(lines) + "\n"


def make_semantic_kitti(
    folder: str | os.PathLike[str],
    sequences: Iterable[str | int] = ("08",),
    scans: int = 10,
    points: int = 2000,
    seed: int = 0,
    with_predictions: bool = True,
) -> Path:
    """Write a synthetic SemanticKITTI-style panoptic dataset and return its folder.

    Parameters
    ----------
    folder : path
        Created if needed. Receives ``sequences/XX/labels/NNNNNN.label`` (ground truth),
        ``predictions/sequences/XX/predictions/NNNNNN.label`` and ``semantic-kitti.yaml``.
    sequences : iterable of str or int
        Sequence numbers (``"08"`` or ``8``), written as two-digit folders; they make the
        config's ``valid`` split, the rest of SemanticKITTI's numbers its train and test splits.
    scans : int
        Scans per sequence.
    points : int
        About how many points a scan has (within 10%).
    seed : int
        The same seed writes the same files; a sequence's files do not depend on which other
        sequences are written, nor do the labels on ``with_predictions``.
    with_predictions : bool
        Also write predictions.

    Returns
    -------
    pathlib.Path
        ``folder``. Evaluate with ``evaluate_semantic_kitti(folder, folder / "predictions",
        data_cfg=folder / "semantic-kitti.yaml")`` (or semantic-kitti-api's script with the same
        three paths).
    """
    if scans < 0 or points < 0:
        raise ValueError(f"scans and points must be at least 0, got {scans} and {points}")
    root = Path(folder)
    names = [_sequence_name(s) for s in sequences]
    if len(set(names)) != len(names):
        raise ValueError(f"sequences repeat: {names}")
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        number = int(name)
        truth_rng = np.random.default_rng([seed, number, 0])
        scene = _Scene(truth_rng, scans)
        model = _Model(scene, np.random.default_rng([seed, number, 1])) if with_predictions else None
        labels = root / "sequences" / name / "labels"
        labels.mkdir(parents=True, exist_ok=True)
        for t in range(scans):
            raw, inst = _ground_truth(scene, t, points, truth_rng)
            order = truth_rng.permutation(raw.size)
            raw, inst = raw[order], inst[order]
            _write_label(labels / f"{t:06d}.label", raw, inst)
            if model is not None:
                pred_raw, pred_inst = model.predict(raw, inst)
                _write_label(
                    root / "predictions" / "sequences" / name / "predictions" / f"{t:06d}.label", pred_raw, pred_inst
                )
    (root / "semantic-kitti.yaml").write_text(_yaml_text(sorted(int(n) for n in names)), encoding="utf-8")
    return root
