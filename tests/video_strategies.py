"""Hypothesis strategies for the video metrics: small videos for VPQ, label-map sequences for STQ.

VPQ videos have ground-truth tracks that appear, vanish and come back, predicted tracks that
switch ids between frames, crowd tracks, VOID, ids in the PNG but never in the JSON (ignored),
ids in the JSON with no pixels in a frame (their area still counts), repeated records, one-frame
videos. ``consistent=False`` also lets an id change category between frames, which panoptiq
rejects by default but mcahny/vps accepts (first appearance in the window wins).

STQ cases pick a configuration (ignore label below, at or above ``num_classes``) and interleave
the frames of a few sequences, with crowd (thing class, instance 0), stuff, ignored pixels and
predictions of the ignore class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies import CATEGORIES, MAX_ID, UNKNOWN_GT_CATEGORY

KNOWN = sorted(CATEGORIES)


def category_records() -> dict[int, dict[str, Any]]:
    """panopticapi's categories for :data:`strategies.CATEGORIES`."""
    return {c: {"id": c, "name": f"c{c}", "isthing": t} for c, t in CATEGORIES.items()}


class VideoFrame(NamedTuple):
    gt_ids: np.ndarray
    pred_ids: np.ndarray
    gt_segments: list[dict[str, Any]]
    pred_segments: list[dict[str, Any]]


@dataclass
class Video:
    video_id: str
    frames: list[VideoFrame]
    categories: dict[int, dict[str, Any]] = field(default_factory=category_records)


def ids_to_rgb(ids: np.ndarray) -> np.ndarray:
    """An H x W id map as panopticapi's H x W x 3 uint8 colours (id = R + 256 G + 256² B)."""
    ids = np.asarray(ids, dtype=np.uint32)
    return np.stack([(ids >> shift) & 0xFF for shift in (0, 8, 16)], axis=-1).astype(np.uint8)


def grid(draw: st.DrawFn, dtype: Any, shape: tuple[int, int], elements: st.SearchStrategy) -> np.ndarray:
    """A random map: every pixel drawn, or (a third of the time) mostly one value with a few others."""
    fill = None if draw(st.integers(0, 2)) == 0 else st.nothing()
    return draw(hnp.arrays(dtype, shape, elements=elements, fill=fill))


def fresh(used: set[int]) -> Any:
    return lambda i: i not in used


segment_ids = st.one_of(st.integers(1, 12), st.integers(1, MAX_ID))


@st.composite
def videos(
    draw: st.DrawFn,
    *,
    video_id: str = "v0",
    max_frames: int = 6,
    n_frames: int | None = None,
    max_side: int = 12,
    shape: tuple[int, int] | None = None,
    consistent: bool = True,
) -> Video:
    """One video of 1..max_frames frames (or exactly ``n_frames``) of one size."""
    frames_count = n_frames if n_frames is not None else draw(st.integers(1, max_frames))
    h, w = shape if shape is not None else (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    category = st.sampled_from(KNOWN)

    # Ground-truth tracks: id, category, crowd flag.
    n_gt = draw(st.integers(1, 5))
    gt_track_ids = draw(st.lists(segment_ids, min_size=n_gt, max_size=n_gt, unique=True))
    gt_track_cat = [UNKNOWN_GT_CATEGORY if draw(st.integers(0, 7)) == 0 else draw(category) for _ in range(n_gt)]
    gt_track_crowd = [int(draw(st.integers(0, 3)) == 0) for _ in range(n_gt)]
    crowds = [k for k in range(n_gt) if gt_track_crowd[k]]
    if len(crowds) > 1 and draw(st.booleans()):  # several crowd tracks of one category
        for k in crowds:
            gt_track_cat[k] = gt_track_cat[crowds[0]]

    # Predicted tracks, mostly of the category of the ground-truth track of the same index.
    n_pred = draw(st.integers(1, 6))
    pred_track_ids = draw(st.lists(segment_ids, min_size=n_pred, max_size=n_pred, unique=True))
    pred_track_cat = []
    for j in range(n_pred):
        same = j < n_gt and gt_track_cat[j] in CATEGORIES
        pred_track_cat.append(gt_track_cat[j] if same and draw(st.integers(0, 3)) else draw(category))

    # Which predicted track (0 = none) follows each ground-truth track; index 0 is VOID.
    follow = [draw(st.integers(0, n_pred))] + [
        j + 1 if j < n_pred and draw(st.integers(0, 3)) else draw(st.integers(0, n_pred)) for j in range(n_gt)
    ]

    # Ids drawn in the PNG but never listed in the JSON: ignored. (An id listed in some frames of a
    # window but drawn unlisted in another has pixels beyond its area: mcahny/vps then asserts.)
    unlisted = [draw(st.integers(0, 7)) == 0 for _ in range(n_gt)]
    fidelity = draw(st.sampled_from([5, 8, 10, 10]))  # out of 10 pixels, how many follow the ground truth
    # A static scene keeps the ground truth of the first frame: tubes of constant size, so that an
    # id switch halfway through a window gives an IoU of exactly 1/2.
    static = draw(st.booleans())
    layout = None
    retired: list[int] = []
    frames = []
    for _ in range(frames_count):
        if layout is None or not static:
            some = int(draw(st.integers(0, 7)) > 0)
            present = draw(st.lists(st.integers(0, n_gt - 1), unique=True, min_size=some, max_size=n_gt))
            index = grid(draw, np.int64, (h, w), st.integers(0, len(present)))
            layout = present, index
        present, index = layout
        track_at = np.array([-1, *present])[index]  # -1: VOID
        gt_ids = np.concatenate([[0], np.array(gt_track_ids, dtype=np.int64)[present]]).astype(np.uint32)[index]

        # Id switches from this frame on: a predicted track gets a new id (same category), or a
        # ground-truth track is followed by another predicted track.
        if draw(st.integers(0, 2)) == 0:
            j = draw(st.integers(0, n_pred - 1))
            retired.append(pred_track_ids[j])
            pred_track_ids[j] = draw(segment_ids.filter(fresh(set(pred_track_ids) | set(retired))))
        if draw(st.integers(0, 5)) == 0:
            follow[draw(st.integers(0, n_gt))] = draw(st.integers(0, n_pred))
        keep = grid(draw, np.int64, (h, w), st.integers(0, 9)) < fidelity
        noise = grid(draw, np.int64, (h, w), st.integers(0, n_pred))
        pred_index = np.where(keep, np.array(follow)[track_at + 1], noise)
        pred_ids = np.concatenate([[0], pred_track_ids]).astype(np.uint32)[pred_index]

        gt_segments: list[dict[str, Any]] = []
        for k in range(n_gt):
            area = int(np.count_nonzero(track_at == k))
            if unlisted[k]:
                continue
            if not area and draw(st.integers(0, 5)):
                continue  # absent from this frame
            cat = gt_track_cat[k]
            if not consistent and draw(st.integers(0, 4)) == 0:
                cat = draw(category)
            crowd = gt_track_crowd[k] if draw(st.integers(0, 7)) else 1 - gt_track_crowd[k]
            # The JSON area is what counts; it may exceed the pixel count (never fall below it).
            area += draw(st.sampled_from([0, 0, 0, 1, 5]))
            if draw(st.integers(0, 7)) == 0:  # the same id twice in one frame: areas add up
                first = draw(st.integers(0, area))
                gt_segments.append({"id": gt_track_ids[k], "category_id": cat, "iscrowd": crowd, "area": first})
                second_crowd = int(draw(st.booleans()))
                second_cat = cat if consistent else draw(category)
                gt_segments.append(
                    {"id": gt_track_ids[k], "category_id": second_cat, "iscrowd": second_crowd, "area": area - first}
                )
            else:
                gt_segments.append({"id": gt_track_ids[k], "category_id": cat, "iscrowd": crowd, "area": area})
        gt_segments = list(draw(st.permutations(gt_segments)))

        pred_segments = []
        for p in sorted({int(v) for v in np.unique(pred_ids)} - {0}):
            j = pred_track_ids.index(p)
            cat = pred_track_cat[j]
            if not consistent and draw(st.integers(0, 4)) == 0:
                cat = draw(category)
            record: dict[str, Any] = {"id": p, "category_id": cat}
            if draw(st.integers(0, 3)) == 0:
                record["area"] = draw(st.integers(0, 500))  # predicted JSON areas are not used
            pred_segments.append(record)
        pred_segments = list(draw(st.permutations(pred_segments)))
        frames.append(VideoFrame(gt_ids, pred_ids, gt_segments, pred_segments))
    return Video(video_id, frames)


@st.composite
def video_sets(
    draw: st.DrawFn, *, max_videos: int = 3, n_frames: int | None = None, consistent: bool = True
) -> tuple[list[Video], list[tuple[int, int]]]:
    """A few videos with distinct ids, and an interleaved feeding order of (video, frame) pairs
    that keeps each video's frames in order."""
    count = draw(st.integers(1, max_videos))
    names = draw(
        st.lists(
            st.one_of(st.sampled_from(["v0", "v1", "clip/2", "vidéo 3"]), st.text("abcxyz0123456789_-", min_size=1)),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    vids = [draw(videos(video_id=name, n_frames=n_frames, consistent=consistent)) for name in names]
    slots = draw(st.permutations([v for v, video in enumerate(vids) for _ in video.frames]))
    seen = [0] * count
    order = []
    for v in slots:
        order.append((v, seen[v]))
        seen[v] += 1
    return vids, order


tube_length_sets = st.lists(st.integers(1, 8), min_size=1, max_size=4, unique=True).map(tuple)


# --------------------------------------------------------------------------------------------
# STQ
# --------------------------------------------------------------------------------------------


@dataclass
class STQConfig:
    num_classes: int
    things_list: list[int]
    ignore_label: int
    label_bit_shift: int
    offset: int

    def args(self) -> tuple[int, list[int], int, int, int]:
        return (self.num_classes, self.things_list, self.ignore_label, self.label_bit_shift, self.offset)

    def label(self, semantic: int, instance: int) -> int:
        return (semantic << self.label_bit_shift) + instance


class STQFrame(NamedTuple):
    sequence_id: Any
    y_true: np.ndarray
    y_pred: np.ndarray
    weights: np.ndarray | None


@dataclass
class STQCase:
    config: STQConfig
    frames: list[STQFrame]


@st.composite
def stq_configs(draw: st.DrawFn, ignore: str | None = None) -> STQConfig:
    """``ignore``: "below" (one of the classes), "at" (= num_classes) or "above" num_classes."""
    num_classes = draw(st.integers(2, 6))
    where = ignore or draw(st.sampled_from(["below", "at", "above"]))
    if where == "below":
        ignore_label = draw(st.integers(0, num_classes - 1))
    elif where == "at":
        ignore_label = num_classes
    else:
        ignore_label = draw(st.one_of(st.just(255), st.integers(num_classes + 1, 40)))
    classes = [c for c in range(num_classes) if c != ignore_label]
    things = draw(st.lists(st.sampled_from(classes), unique=True, max_size=len(classes)))
    # The matrix's classes must fit below the shift (deeplab2 packs two classes in one integer).
    shift = draw(st.integers(max(3, num_classes.bit_length()), 16))
    offset = (num_classes << shift) + draw(st.sampled_from([0, 1, 7, 1 << shift]))
    return STQConfig(num_classes, sorted(things), ignore_label, shift, offset)


@st.composite
def stq_cases(
    draw: st.DrawFn,
    *,
    config: STQConfig | None = None,
    max_sequences: int = 3,
    weighted: bool | None = None,
    sequence_ids: list[Any] | None = None,
) -> STQCase:
    """Frames of 1..max_sequences sequences, interleaved; every sequence has valid ground truth."""
    cfg = config or draw(stq_configs())
    if sequence_ids is None:
        count = draw(st.integers(1, max_sequences))
        sequence_ids = draw(
            st.lists(
                st.one_of(st.integers(0, 9), st.sampled_from(["seq-a", "b", "0001"])),
                min_size=count,
                max_size=count,
                unique_by=lambda s: (type(s), s),
            )
        )
    use_weights = draw(st.integers(0, 4)) == 0 if weighted is None else weighted
    classes = [c for c in range(cfg.num_classes) if c != cfg.ignore_label]
    semantic = st.one_of(st.sampled_from(classes), st.just(cfg.ignore_label))
    max_instance = min((1 << cfg.label_bit_shift) - 1, 6)
    big = draw(st.booleans()) and max_instance >= 3
    instance = st.integers(0, max_instance) if big else st.integers(0, 3)

    per_sequence = [draw(st.integers(1, 4)) for _ in sequence_ids]
    slots = draw(st.permutations([s for s, n in enumerate(per_sequence) for _ in range(n)]))
    first_of: dict[int, int] = {}
    frames = []
    dtype_choice = draw(st.sampled_from([np.int32, np.int64, np.uint32, np.uint16]))
    for at, s in enumerate(slots):
        first_of.setdefault(s, at)
        h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        sem_true = grid(draw, np.int64, (h, w), semantic)
        inst_true = grid(draw, np.int64, (h, w), instance)
        stuff_instances = draw(st.booleans())
        if not stuff_instances:  # stuff usually carries instance 0
            inst_true = np.where(np.isin(sem_true, cfg.things_list), inst_true, 0)

        # Predictions: the ground truth, relabelled (ids switch between frames), plus noise.
        relabel = np.array(draw(st.lists(instance, min_size=max_instance + 1, max_size=max_instance + 1)))
        keep_class = grid(draw, np.bool_, (h, w), st.booleans())
        keep_instance = grid(draw, np.bool_, (h, w), st.booleans())
        sem_noise = grid(draw, np.int64, (h, w), semantic)
        inst_noise = grid(draw, np.int64, (h, w), instance)
        sem_pred = np.where(keep_class, sem_true, sem_noise)
        inst_pred = np.where(keep_instance, relabel[inst_true], inst_noise)

        y_true = (sem_true << cfg.label_bit_shift) + inst_true
        y_pred = (sem_pred << cfg.label_bit_shift) + inst_pred
        weights = draw(hnp.arrays(np.float64, (h, w), elements=st.sampled_from([0.5, 1.0]))) if use_weights else None
        frames.append([sequence_ids[s], y_true, y_pred, weights])

    # A sequence whose ground truth is all ignored has no IoU (0 / 0): give each a valid pixel.
    for s, at in first_of.items():
        frame_sems = [f[1] >> cfg.label_bit_shift for f in frames if f[0] == sequence_ids[s]]
        if all((sem == cfg.ignore_label).all() for sem in frame_sems):
            frames[at][1] = frames[at][1].copy()
            frames[at][1].flat[0] = cfg.label(classes[0], 1)

    peak = max(max(int(f[1].max()), int(f[2].max())) for f in frames)
    dtype = dtype_choice if peak <= np.iinfo(dtype_choice).max else np.int64
    return STQCase(cfg, [STQFrame(s, t.astype(dtype), p.astype(dtype), w) for s, t, p, w in frames])
