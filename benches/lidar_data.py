"""SemanticKITTI-like LiDAR panoptic data for bench_lidar.py: vectorised numpy, cached by version.

The layout is SemanticKITTI's (and panoptiq.lidar's ``make_semantic_kitti``'s):
``sequences/SS/labels/NNNNNN.label`` (ground truth), ``predictions/sequences/SS/predictions/
NNNNNN.label`` and ``semantic-kitti.yaml``; a label is ``instance << 16 | raw label``, little-endian
uint32 per point. The config is written as plain text: SemanticKITTI's raw labels, its
``learning_map`` onto the 19 classes (car, bicycle, motorcycle, truck, other-vehicle, person,
bicyclist, motorcyclist, road, parking, sidewalk, other-ground, building, fence, vegetation, trunk,
terrain, pole, traffic-sign as 1..19; class 0 ignored), ``learning_map_inv``, ``learning_ignore``
{0: true} and the split {train, valid: [8], test}.

Why not ``make_semantic_kitti``: it is fast enough (about 13 s for 1,000 scans of 120k points),
but its objects do not grow with the scan: at 120k points a scan has about 10 things of 4 to 500
points. Here a scan has tens of them, as a 64-beam scan of a street does: about 17 cars, 7
people and a few cyclists, trucks, other vehicles, bicycles and motorcycles a scan, each of 50 to
2,000 points (log-uniform; persons and two-wheelers up to 600-800), plus about 15% distant ones
of 5 to 49 points, under the evaluators' minimum of 50. Moving objects carry SemanticKITTI's
moving labels (252 moving-car...), lane markings 60 (road), and unlabelled, outlier,
other-structure and other-object points the ignored class 0. Points are in a scan's order (by
ring, then azimuth), so an object's points come as runs, as in a real scan.

Predictions carry a network's errors: ~8% of stuff points confused with a neighbouring class,
whole objects given a wrong class (8%), missed (3%; half of the small ones), object boundaries
(0-20% of their points) bleeding into the ground, big objects split in two, objects of the same
class merged, a few points of an object with the wrong class but the same id, objects with their
class but no instance id, ground points taken into objects, and false-positive blobs. Instance ids
are below 2**15 (the script's int64 pair key overflows for labels of 2**31 and more).

Every 10th scan also carries :func:`exact_block`: the decision boundaries written out, each with
the counts the rules give (IoU exactly 0.5 is no match, 50 points is the minimum, ignored ground
truth is removed before matching, the whole label is the instance...). :func:`exact_cases`
gives them one at a time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

#: Bump when the data written changes: the cache is keyed by it.
VERSION = "lidar-data-1"
SEQUENCE = "08"

#: SemanticKITTI's raw labels: raw -> (name, class).
RAW_LABELS: dict[int, tuple[str, int]] = {
    0: ("unlabeled", 0),
    1: ("outlier", 0),
    10: ("car", 1),
    11: ("bicycle", 2),
    13: ("bus", 5),
    15: ("motorcycle", 3),
    16: ("on-rails", 5),
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
    255: ("moving-motorcyclist", 8),
    256: ("moving-on-rails", 5),
    257: ("moving-bus", 5),
    258: ("moving-truck", 4),
    259: ("moving-other-vehicle", 5),
}
CLASS_NAMES = (
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
LEARNING_MAP = {raw: cls for raw, (_, cls) in RAW_LABELS.items()}
LEARNING_MAP_INV = {
    0: 0,
    **{c: next(r for r, (n, _) in RAW_LABELS.items() if n == CLASS_NAMES[c]) for c in range(1, 20)},
}
SPLIT = {"train": [0, 1, 2, 3, 4, 5, 6, 7, 9, 10], "valid": [8], "test": list(range(11, 22))}

# Things: (static raw, moving raw or 0, moving share, mean count a scan, points low, high).
THINGS = (
    (10, 252, 0.3, 17.0, 50, 2000),  # car
    (18, 258, 0.3, 0.8, 100, 2000),  # truck
    (20, 259, 0.3, 0.5, 80, 2000),  # other-vehicle
    (13, 257, 0.5, 0.2, 150, 2000),  # bus (other-vehicle)
    (11, 0, 0.0, 1.5, 50, 400),  # bicycle
    (15, 0, 0.0, 0.6, 50, 500),  # motorcycle
    (30, 254, 0.5, 7.0, 50, 800),  # person
    (31, 253, 0.7, 1.5, 50, 600),  # bicyclist
    (32, 255, 0.7, 0.3, 50, 600),  # motorcyclist
)
SMALL_SHARE = 0.15  # distant objects of 5..49 points
# Stuff and ignored raw labels, by SemanticKITTI's content ratios (lane markings and
# other-ground raised so that every scan has some).
STUFF = {
    40: 0.199,
    60: 0.004,
    44: 0.015,
    48: 0.144,
    49: 0.006,
    50: 0.133,
    51: 0.072,
    70: 0.267,
    71: 0.006,
    72: 0.078,
    80: 0.0029,
    81: 0.0012,
    0: 0.019,
    1: 0.0003,
    52: 0.0024,
    99: 0.0099,
}
RINGS = 64
# What a network confuses a class with (its 19 classes' raw labels), three choices each.
CONFUSED = {
    40: (44, 48, 44),
    44: (40, 48, 40),
    48: (40, 72, 44),
    49: (48, 72, 40),
    50: (51, 70, 50),
    51: (50, 70, 72),
    70: (72, 71, 50),
    71: (70, 80, 70),
    72: (70, 48, 70),
    80: (81, 71, 50),
    81: (80, 80, 50),
    10: (18, 20, 18),
    18: (10, 20, 10),
    20: (18, 10, 18),
    11: (31, 15, 31),
    15: (32, 11, 32),
    30: (31, 31, 30),
    31: (30, 11, 30),
    32: (31, 15, 31),
}
GROUND = np.array((40, 48, 72), dtype=np.uint32)
IGNORED_LOOKS_LIKE = np.array((50, 70, 40, 51), dtype=np.uint32)
MAX_ID = 2**15 - 1

_AS_MODEL = np.zeros(260, dtype=np.uint32)  # ground-truth raw -> the raw a 19-class model writes
for _raw, (_, _cls) in RAW_LABELS.items():
    _AS_MODEL[_raw] = LEARNING_MAP_INV[_cls]
_CONFUSE = np.repeat(np.arange(260, dtype=np.uint32)[:, None], 3, axis=1)
for _raw, _options in CONFUSED.items():
    _CONFUSE[_raw] = _options
_IGNORED = np.zeros(260, dtype=bool)
_IGNORED[[r for r, (_, c) in RAW_LABELS.items() if c == 0]] = True


def config_text() -> str:
    lines = ["# A synthetic SemanticKITTI-like dataset (benches/lidar_data.py), SemanticKITTI's mappings.", "labels:"]
    lines += [f'  {raw}: "{name}"' for raw, (name, _) in RAW_LABELS.items()]
    lines += ["learning_map:"] + [f"  {raw}: {cls}" for raw, cls in LEARNING_MAP.items()]
    lines += ["learning_map_inv:"] + [f"  {cls}: {raw}" for cls, raw in LEARNING_MAP_INV.items()]
    lines += ["learning_ignore:"] + [f"  {cls}: {'true' if cls == 0 else 'false'}" for cls in range(20)]
    lines.append("split:")
    for name, numbers in SPLIT.items():
        lines += [f"  {name}:"] + [f"    - {n}" for n in numbers]
    return "\n".join(lines) + "\n"


def class_lut() -> np.ndarray:
    """The script's lookup table: raw label -> class (int32, zeros past the map)."""
    lut = np.zeros(max(LEARNING_MAP) + 100, dtype=np.int32)
    lut[list(LEARNING_MAP)] = list(LEARNING_MAP.values())
    return lut


# --------------------------------------------------------------------------------------------
# Exact cases
# --------------------------------------------------------------------------------------------

# (name, what the rules give, ground-truth segments, predicted segments): a segment is
# (raw, instance id, points); a predicted segment is laid over the ground truth's points in order.
# Each case's ground truth is followed by its predictions point for point (same length).
CASE_CAR, CASE_PERSON = 1, 6


def _case(gt: list[tuple[int, int, int]], pred: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    g = np.concatenate([np.full(n, (i << 16) | r, dtype=np.uint32) for r, i, n in gt])
    p = np.concatenate([np.full(n, (i << 16) | r, dtype=np.uint32) for r, i, n in pred])
    assert g.size == p.size, (g.size, p.size)
    return g, p


#: name -> (expected (class, tp, fp, fn) changes, ground-truth segments, predicted segments).
EXACT_CASES: dict[str, tuple[tuple[int, int, int, int], list, list]] = {
    "IoU exactly 0.5 (50 of a 100-point car): no match; FN, and a 50-point FP": (
        (CASE_CAR, 0, 1, 1),
        [(10, 1, 100)],
        [(10, 501, 50), (40, 0, 50)],
    ),
    "IoU 0.51 (51 of 100): a match": ((CASE_CAR, 1, 0, 0), [(10, 2, 100)], [(10, 502, 51), (40, 0, 49)]),
    "IoU 50/101, just under 0.5: no match; FN, FP of 50": (
        (CASE_CAR, 0, 1, 1),
        [(10, 3, 101)],
        [(10, 503, 50), (40, 0, 51)],
    ),
    "IoU exactly 0.5 (a person and 100 sidewalk points more): no match; FN, FP": (
        (CASE_PERSON, 0, 1, 1),
        [(30, 4, 100), (48, 0, 100)],
        [(30, 504, 200)],
    ),
    "IoU 67/133, just over 0.5: a match": (
        (CASE_CAR, 1, 0, 0),
        [(10, 5, 100), (48, 0, 33)],
        [(48, 0, 33), (10, 505, 100)],  # 33 of the car missed, 33 sidewalk points taken in
    ),
    "a missed car of exactly 50 points: FN": ((CASE_CAR, 0, 0, 1), [(10, 6, 50)], [(72, 0, 50)]),
    "a missed car of 49 points: not counted": ((CASE_CAR, 0, 0, 0), [(10, 7, 49)], [(72, 0, 49)]),
    "a false-positive person of exactly 50 points: FP": ((CASE_PERSON, 0, 1, 0), [(50, 0, 50)], [(30, 506, 50)]),
    "a false-positive person of 49 points: not counted": ((CASE_PERSON, 0, 0, 0), [(50, 0, 49)], [(30, 507, 49)]),
    "one id for a car and a person (the label, not the id, is the instance): two matches": (
        (CASE_CAR, 1, 0, 0),  # and a person match
        [(10, 8, 120), (30, 8, 80)],
        [(10, 508, 120), (30, 508, 80)],
    ),
    "a car half labelled moving (10 and 252, one id): two ground-truth segments of IoU 0.5; 2 FN, FP": (
        (CASE_CAR, 0, 1, 2),
        [(10, 9, 60), (252, 9, 60)],
        [(10, 509, 120)],
    ),
    "ignored ground truth under a predicted car is left out: IoU 1, a match": (
        (CASE_CAR, 1, 0, 0),
        [(10, 10, 100), (0, 0, 100)],
        [(10, 510, 200)],
    ),
    "the largest id, 2**15 - 1, in both: a match": (
        (CASE_CAR, 1, 0, 0),
        [(10, MAX_ID, 200)],
        [(10, MAX_ID, 200)],
    ),
    "a car predicted with its class and instance 0: still a segment (the label is the instance), a match": (
        (CASE_CAR, 1, 0, 0),
        [(10, 11, 80)],
        [(10, 0, 80)],
    ),
    "a predicted id over two classes (car and truck): two segments, the car one a match": (
        (CASE_CAR, 1, 0, 0),
        [(10, 12, 150)],
        [(10, 512, 120), (18, 512, 30)],
    ),
}


def exact_cases() -> list[tuple[str, tuple[int, int, int, int], np.ndarray, np.ndarray]]:
    """Each case alone: (name, (class, tp, fp, fn) expected for that class, gt label, pred label)."""
    return [(name, expected, *_case(gt, pred)) for name, (expected, gt, pred) in EXACT_CASES.items()]


def exact_block() -> tuple[np.ndarray, np.ndarray]:
    """Every case, one after the other (their ids are distinct), as a scan's extra points."""
    parts = [_case(gt, pred) for _, gt, pred in EXACT_CASES.values()]
    return np.concatenate([g for g, _ in parts]), np.concatenate([p for _, p in parts])


# --------------------------------------------------------------------------------------------
# Scans
# --------------------------------------------------------------------------------------------


def _objects(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A scan's things: raw label and points of each."""
    raws, sizes = [], []
    for static, moving, moving_share, mean, low, high in THINGS:
        count = int(rng.poisson(mean))
        if not count:
            continue
        raw = np.full(count, static, dtype=np.uint32)
        if moving:
            raw[rng.random(count) < moving_share] = moving
        size = np.exp(rng.uniform(np.log(low), np.log(high), count)).astype(np.int64)
        small = rng.random(count) < SMALL_SHARE
        size[small] = rng.integers(5, 50, int(small.sum()))
        raws.append(raw)
        sizes.append(size)
    if not raws:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    return np.concatenate(raws), np.concatenate(sizes)


def scan(rng: np.random.Generator, points: int) -> tuple[np.ndarray, np.ndarray]:
    """One scan: its ground-truth and predicted labels (uint32 each, the same length)."""
    total = int(points * rng.uniform(0.95, 1.05))
    obj_raw, obj_size = _objects(rng)
    if obj_size.sum() > 0.5 * total:  # a scan is not all objects
        obj_size = np.maximum((obj_size * (0.5 * total / obj_size.sum())).astype(np.int64), 1)
    n_obj = obj_raw.size
    obj_id = rng.choice(np.arange(1, 4000), n_obj, replace=False).astype(np.uint32)
    thing_points = int(obj_size.sum())

    # Ground truth: objects, then stuff by share (jittered per scan).
    raw_stuff = np.array(list(STUFF), dtype=np.uint32)
    share = np.array(list(STUFF.values())) * rng.uniform(0.6, 1.4, len(STUFF))
    counts = rng.multinomial(total - thing_points, share / share.sum())
    obj = np.concatenate([np.repeat(np.arange(n_obj), obj_size), np.full(total - thing_points, -1)])
    gt_raw = np.concatenate([np.repeat(obj_raw, obj_size), np.repeat(raw_stuff, counts)])
    gt_id = np.concatenate([np.repeat(obj_id, obj_size), np.zeros(total - thing_points, np.uint32)])

    # The scan's order: by ring, then azimuth; an object spans a few rings and a narrow angle.
    ring = rng.integers(0, RINGS, total).astype(np.float64)
    azimuth = rng.uniform(0.0, 2 * np.pi, total)
    if n_obj:
        centre = rng.uniform(0.0, 2 * np.pi, n_obj)
        width = np.sqrt(obj_size) * rng.uniform(0.001, 0.004, n_obj)
        ring_c = rng.integers(RINGS // 3, RINGS, n_obj)
        ring_span = np.maximum(np.sqrt(obj_size) / 3, 1)
        o = obj[:thing_points]
        azimuth[:thing_points] = (centre[o] + width[o] * rng.uniform(-0.5, 0.5, thing_points)) % (2 * np.pi)
        ring[:thing_points] = np.clip(
            np.rint(ring_c[o] + ring_span[o] * rng.uniform(-0.5, 0.5, thing_points)), 0, RINGS - 1
        )
    order = np.argsort(ring * 8.0 + azimuth)
    obj, gt_raw, gt_id = obj[order], gt_raw[order], gt_id[order]

    # Predictions.
    pred_raw = _AS_MODEL[gt_raw]
    pred_id = np.zeros(total, np.uint32)
    ignored = _IGNORED[gt_raw]
    pred_raw[ignored] = IGNORED_LOOKS_LIKE[rng.integers(0, IGNORED_LOOKS_LIKE.size, int(ignored.sum()))]
    stuff = obj < 0
    flip = np.flatnonzero(stuff & (rng.random(total) < 0.08))
    pred_raw[flip] = _CONFUSE[pred_raw[flip], rng.integers(0, 3, flip.size)]
    if n_obj:
        ids = rng.permutation(np.arange(1, MAX_ID, dtype=np.uint32))  # the model's own ids
        fresh = iter(ids[2 * n_obj :].tolist())
        o_raw = _AS_MODEL[obj_raw]
        wrong = rng.random(n_obj) < 0.08
        o_raw[wrong] = _CONFUSE[o_raw[wrong], rng.integers(0, 3, int(wrong.sum()))]
        o_id = ids[:n_obj].copy()
        split_id = ids[n_obj : 2 * n_obj]
        missed = ((obj_size < 50) & (rng.random(n_obj) < 0.5)) | (rng.random(n_obj) < 0.03)
        loss = rng.uniform(0.0, 0.2, n_obj)
        split = np.where((obj_size > 300) & (rng.random(n_obj) < 0.12), rng.uniform(0.25, 0.6, n_obj), 0.0)
        few = np.where(rng.random(n_obj) < 0.1, rng.uniform(0.05, 0.15, n_obj), 0.0)
        no_id = rng.random(n_obj) < 0.02
        # Merges: pairs of objects of the same predicted class, the second taking the first's id.
        for _ in range(int(rng.poisson(1.0))):
            a, b = rng.choice(n_obj, 2, replace=False)
            if o_raw[a] == o_raw[b]:
                o_id[b] = o_id[a]
        at = np.flatnonzero(~stuff)
        o = obj[at]
        u = rng.random(at.size)
        raw_here = o_raw[o]
        id_here = np.where(no_id[o], 0, o_id[o]).astype(np.uint32)
        in_split = (u >= loss[o]) & (u < loss[o] + split[o] * (1 - loss[o]))
        id_here[in_split & ~no_id[o]] = split_id[o[in_split & ~no_id[o]]]
        odd = u > 1 - few[o]
        raw_here[odd] = _CONFUSE[raw_here[odd], rng.integers(0, 3, int(odd.sum()))]
        lost = (u < loss[o]) | missed[o]
        raw_here[lost] = GROUND[rng.integers(0, 3, int(lost.sum()))]
        id_here[lost] = 0
        pred_raw[at], pred_id[at] = raw_here, id_here
        # Ground points taken into objects (a few each, for 30% of them).
        ground = np.flatnonzero(stuff & np.isin(gt_raw, (40, 48, 72)))
        bleed = np.flatnonzero((rng.random(n_obj) < 0.3) & ~missed)
        if ground.size and bleed.size:
            many = rng.integers(1, 12, bleed.size)
            where = rng.choice(ground, int(many.sum()))
            pred_raw[where] = np.repeat(o_raw[bleed], many)
            pred_id[where] = np.repeat(o_id[bleed], many)
    else:
        fresh = iter(range(1, MAX_ID))
    # False positives: runs of building or vegetation points (adjacent in the scan) taken for a
    # person or a car.
    candidates = np.flatnonzero(stuff & np.isin(gt_raw, (50, 70)))
    for _ in range(int(rng.poisson(2.0))):
        if candidates.size < 400:
            break
        start = int(rng.integers(0, candidates.size - 300))
        run = candidates[start : start + int(rng.integers(20, 300))]
        pred_raw[run] = rng.choice(np.array((30, 10), dtype=np.uint32))
        pred_id[run] = next(fresh)
    gt = (gt_id << np.uint32(16)) | gt_raw
    pred = (pred_id << np.uint32(16)) | pred_raw
    return gt, pred


def _write(path: Path, label: np.ndarray) -> None:
    label.astype("<u4").tofile(path)


def dataset(cache: Path, scans: int, points: int, seed: int = 0, exact_every: int = 10) -> Path:
    """The folder of a dataset of one sequence (08) of ``scans`` scans of about ``points`` points,
    made once: a finished folder has a ``done`` file."""
    folder = cache / f"{VERSION}-{scans}x{points}-s{seed}-e{exact_every}"
    if (folder / "done").exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    labels = folder / "sequences" / SEQUENCE / "labels"
    preds = folder / "predictions" / "sequences" / SEQUENCE / "predictions"
    labels.mkdir(parents=True)
    preds.mkdir(parents=True)
    print(f"generating {scans} scans of ~{points} points in {folder}", flush=True)
    block_gt, block_pred = exact_block()
    for t in range(scans):
        rng = np.random.default_rng([seed, t])
        gt, pred = scan(rng, points)
        if exact_every and t % exact_every == 0:
            gt, pred = np.concatenate([gt, block_gt]), np.concatenate([pred, block_pred])
        _write(labels / f"{t:06d}.label", gt)
        _write(preds / f"{t:06d}.label", pred)
    (folder / "semantic-kitti.yaml").write_text(config_text(), encoding="utf-8")
    (folder / "done").write_text(VERSION + "\n")
    return folder


def subset(folder: Path, scans: int) -> Path:
    """A dataset of the first ``scans`` scans of ``folder``'s, as symbolic links."""
    out = folder.parent / f"{folder.name}-first{scans}"
    if (out / "done").exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    for part in (("sequences", SEQUENCE, "labels"), ("predictions", "sequences", SEQUENCE, "predictions")):
        src, dst = folder.joinpath(*part), out.joinpath(*part)
        dst.mkdir(parents=True)
        for name in sorted(os.listdir(src))[:scans]:
            os.symlink(src / name, dst / name)
    shutil.copy(folder / "semantic-kitti.yaml", out / "semantic-kitti.yaml")
    (out / "done").write_text(VERSION + "\n")
    return out
