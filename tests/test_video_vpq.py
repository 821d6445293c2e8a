"""Video Panoptic Quality (panoptiq.video) against the numpy reference and hand-counted videos."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_video import add_stats, pq_summary, vpq_reference
from video_strategies import Video, category_records, ids_to_rgb, tube_length_sets, video_sets, videos

import panoptiq
from panoptiq.video import VideoPanopticQuality, vpq_compute

CATS = category_records()
SPLITS = ("All", "Things", "Stuff")
FILES = settings(max_examples=40, deadline=None)


# -- helpers ----------------------------------------------------------------------------------


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def compute(m: VideoPanopticQuality) -> dict:
    # Videos shorter than a tube length, and splits left empty (n = 0), may warn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return m.compute()


def feed(m: VideoPanopticQuality, vids: list[Video], order: list[tuple[int, int]], *, rgb: bool = False) -> None:
    for v, f in order:
        frame = vids[v].frames[f]
        gt, pred = (ids_to_rgb(frame.gt_ids), ids_to_rgb(frame.pred_ids)) if rgb else (frame.gt_ids, frame.pred_ids)
        m.update(gt, pred, frame.gt_segments, frame.pred_segments, video_id=vids[v].video_id)


def in_order(vids: list[Video]) -> list[tuple[int, int]]:
    return [(v, f) for v, video in enumerate(vids) for f in range(len(video.frames))]


def expected_stats(vids: list[Video], lengths) -> dict[int, dict]:
    out = {}
    for n in lengths:
        total: dict = {}
        for video in vids:
            total = add_stats(total, vpq_reference(video.frames, CATS, n))
        out[n] = total
    return out


def assert_result(result: dict, expected: dict[int, dict], categories=CATS) -> None:
    """``result`` (compute()'s dict) has the reference's counts and the scores they imply."""
    assert set(result) == set(expected) | {"vpq"}
    for n, stats in expected.items():
        want = pq_summary(stats, categories)
        got = result[n]
        assert set(got["per_class"]) == set(categories), n
        for c in categories:
            g, w = got["per_class"][c], want["per_class"][c]
            assert (g["tp"], g["fp"], g["fn"]) == (w["tp"], w["fp"], w["fn"]), (n, c)
            for key in ("iou", "pq", "sq", "rq"):
                assert close(g[key], w[key]), (n, c, key, g[key], w[key])
        for split in SPLITS:
            assert got[split]["n"] == want[split]["n"], (n, split)
            for key in ("pq", "sq", "rq"):
                assert close(got[split][key], want[split][key]), (n, split, key)
    for split in SPLITS:
        mean = sum(pq_summary(stats, categories)[split]["pq"] for stats in expected.values()) / len(expected)
        assert close(result["vpq"][split], mean), split


def assert_same_result(a: Any, b: Any) -> None:
    """Equal nested dicts, floats to rel 1e-12."""
    if isinstance(a, dict):
        assert isinstance(b, dict)
        assert set(a) == set(b)
        for k in a:
            assert_same_result(a[k], b[k])
    elif isinstance(a, float) or isinstance(b, float):
        assert close(a, b), (a, b)
    else:
        assert a == b


# -- properties against the reference ----------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(video_sets(), tube_length_sets)
def test_videos_interleaved_equal_the_reference(case, lengths) -> None:
    vids, order = case
    m = VideoPanopticQuality(CATS, tube_lengths=lengths)
    feed(m, vids, order)
    assert_result(compute(m), expected_stats(vids, lengths))


@settings(max_examples=60, deadline=None)
@given(video_sets(max_videos=2), tube_length_sets)
def test_rgb_frames_equal_id_maps(case, lengths) -> None:
    vids, order = case
    m = VideoPanopticQuality(CATS, tube_lengths=lengths)
    feed(m, vids, order, rgb=True)
    assert_result(compute(m), expected_stats(vids, lengths))


@settings(max_examples=60, deadline=None)
@given(video_sets(max_videos=2))
def test_category_list_equals_mapping(case) -> None:
    vids, order = case
    lengths = (1, 3)
    as_list = VideoPanopticQuality(list(CATS.values()), tube_lengths=lengths)
    feed(as_list, vids, order)
    assert_result(compute(as_list), expected_stats(vids, lengths))


@settings(max_examples=60, deadline=None)
@given(videos(max_frames=6), st.sampled_from([np.uint32, np.int32, np.int64, np.uint64]))
def test_id_map_dtypes(video: Video, dtype) -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2, 5))
    for frame in video.frames:
        m.update(
            frame.gt_ids.astype(dtype),
            frame.pred_ids.astype(dtype),
            frame.gt_segments,
            frame.pred_segments,
            video_id="7",
        )
    assert_result(compute(m), expected_stats([video], (1, 2, 5)))


@settings(max_examples=60, deadline=None)
@given(video_sets(max_videos=3), st.data())
def test_merge_of_disjoint_videos(case, data) -> None:
    vids, _ = case
    lengths = (1, 2, 3, 4)
    side = [data.draw(st.booleans()) for _ in vids]
    a = VideoPanopticQuality(CATS, tube_lengths=lengths)
    b = VideoPanopticQuality(CATS, tube_lengths=lengths)
    feed(a, vids, [(v, f) for v, f in in_order(vids) if side[v]])
    feed(b, vids, [(v, f) for v, f in in_order(vids) if not side[v]])
    a.merge(b)
    assert_result(compute(a), expected_stats(vids, lengths))


@settings(max_examples=40, deadline=None)
@given(video_sets(max_videos=2), video_sets(max_videos=2))
def test_reset_forgets_everything(first, second) -> None:
    lengths = (1, 2)
    m = VideoPanopticQuality(CATS, tube_lengths=lengths)
    feed(m, *first)
    m.reset()
    vids, order = second
    feed(m, vids, order)
    assert_result(compute(m), expected_stats(vids, lengths))


@settings(max_examples=60, deadline=None)
@given(video_sets(max_videos=2, consistent=False), tube_length_sets)
def test_not_strict_each_window_takes_the_first_category(case, lengths) -> None:
    # Ids may change category between frames; mcahny/vps takes the first one in each window.
    vids, order = case
    m = VideoPanopticQuality(CATS, tube_lengths=lengths, strict=False)
    feed(m, vids, order)
    assert_result(compute(m), expected_stats(vids, lengths))


def test_default_tube_lengths_are_one_to_four() -> None:
    frame = np.array([[3, 3]], dtype=np.uint32)
    m = VideoPanopticQuality(CATS)
    m.update(
        frame,
        frame,
        [{"id": 3, "category_id": 1, "iscrowd": 0, "area": 2}],
        [{"id": 3, "category_id": 1}],
        video_id="v0",
    )
    result = compute(m)
    assert set(result) == {1, 2, 3, 4, "vpq"}
    assert result[1]["per_class"][1]["tp"] == 1
    assert result[2]["per_class"][1]["tp"] == 0


# -- hand-counted videos -----------------------------------------------------------------------


def seg(i: int, c: int, area: int, crowd: int = 0) -> dict[str, Any]:
    return {"id": i, "category_id": c, "iscrowd": crowd, "area": area}


def row(*ids: int) -> np.ndarray:
    return np.array([ids], dtype=np.uint32)


def test_an_id_switch_breaks_the_longer_tubes() -> None:
    gt = row(7, 7, 9, 9)
    gt_segments = [seg(7, 1, 2), seg(9, 3, 2)]
    preds = [row(11, 11, 13, 13), row(11, 11, 13, 13), row(12, 12, 13, 13)]
    frames = [
        (gt, p, gt_segments, [{"id": int(t), "category_id": 1 if t != 13 else 3} for t in np.unique(p)]) for p in preds
    ]
    want = {
        # every frame matches
        1: {1: (3.0, 3, 0, 0), 3: (3.0, 3, 0, 0)},
        # [0, 1] matches; in [1, 2] the tube of 7 (4 px) meets 11 and 12 on 2 px each: IoU 1/2, no match
        2: {1: (1.0, 1, 2, 1), 3: (2.0, 2, 0, 0)},
        # one window: 7 (6 px) against 11 (4 px): IoU 2/3; 12 is a FP
        3: {1: (2 / 3, 1, 1, 0), 3: (1.0, 1, 0, 0)},
        4: {},
    }
    for n, stats in want.items():
        got = vpq_reference(frames, CATS, n)
        assert got.keys() == stats.keys()
        for c in stats:
            assert got[c][1:] == stats[c][1:], (n, c)
            assert close(got[c][0], stats[c][0]), (n, c)

    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2, 3, 4))
    for g, p, gs, ps in frames:
        m.update(g, p, gs, ps, video_id="switch")
    result = compute(m)
    assert_result(result, want)
    assert result[4]["All"] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
    # per category pq for n = 2: things 1 / (1 + 1 + 1/2), stuff 1
    assert close(result[2]["Things"]["pq"], 1 / 2.5)
    assert close(result["vpq"]["Stuff"], (1 + 1 + 1 + 0) / 4)


def test_only_the_last_crowd_of_a_category_in_first_appearance_order_is_remembered() -> None:
    # Frame 0 lists crowd 5, frame 1 lists crowd 6 then 5 again: in the two-frame window the
    # tubes appear in the order 5, 6, so crowd 6 is remembered; frame 1 alone remembers 5.
    frames = [
        (row(5, 5, 5, 5), row(8, 8, 8, 8), [seg(5, 1, 4, crowd=1)], [{"id": 8, "category_id": 1}]),
        (
            row(6, 6, 6, 6),
            row(8, 0, 0, 0),
            [seg(6, 1, 4, crowd=1), seg(5, 1, 0, crowd=1)],
            [{"id": 8, "category_id": 1}],
        ),
    ]
    # n = 1: frame 0's prediction is on crowd 5 (ignored); frame 1's (1 px on 6) is a FP.
    # n = 2: prediction 8 has 4 px on crowd 5 and 1 px on crowd 6 out of 5: a FP.
    want = {1: {1: (0.0, 0, 1, 0)}, 2: {1: (0.0, 0, 1, 0)}}
    for n, stats in want.items():
        assert vpq_reference(frames, CATS, n) == stats
    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2))
    for g, p, gs, ps in frames:
        m.update(g, p, gs, ps, video_id="crowds")
    assert_result(compute(m), want)


def test_void_json_areas_and_unlisted_ground_truth() -> None:
    # 7 is listed with area 3 for 2 pixels; 4 is in the PNG only. Prediction 8 covers 7 and two
    # VOID pixels: union = 4 + 3 - 2 - 2 = 3, IoU 2/3. Prediction 9 (stuff 3) is on the unlisted 4
    # and one VOID pixel out of 3: not ignored, a FP; prediction 10 is mostly on VOID: ignored.
    gt = row(7, 7, 0, 0, 4, 4, 0, 0, 0)
    pred = row(8, 8, 8, 8, 9, 9, 9, 10, 10)
    gt_segments = [seg(7, 1, 3)]
    pred_segments = [{"id": 8, "category_id": 1}, {"id": 9, "category_id": 3}, {"id": 10, "category_id": 4}]
    want = {1: {1: (2 / 3, 1, 0, 0), 3: (0.0, 0, 1, 0)}}
    got = vpq_reference([(gt, pred, gt_segments, pred_segments)], CATS, 1)
    assert got.keys() == want[1].keys()
    assert close(got[1][0], 2 / 3)
    assert got[1][1:] == (1, 0, 0)
    assert got[3] == (0.0, 0, 1, 0)
    m = VideoPanopticQuality(CATS, tube_lengths=(1,))
    m.update(gt, pred, gt_segments, pred_segments, video_id="void")
    assert_result(compute(m), want)


def test_repeated_records_add_their_areas_and_the_first_one_decides() -> None:
    # 7 is listed twice: areas 1 + 1 = 2, and the first record (not crowd) decides.
    gt = row(7, 7)
    gt_segments = [seg(7, 1, 1, crowd=0), seg(7, 1, 1, crowd=1)]
    m = VideoPanopticQuality(CATS, tube_lengths=(1,))
    m.update(gt, gt, gt_segments, [{"id": 7, "category_id": 1}], video_id="dup")
    assert_result(compute(m), {1: {1: (1.0, 1, 0, 0)}})


# -- errors ------------------------------------------------------------------------------------


def update_and_compute(m: VideoPanopticQuality, *frame: Any, video_id: str) -> None:
    """Add a frame and compute: the error may come from either."""
    m.update(*frame, video_id=video_id)
    compute(m)


def test_frames_of_different_sizes_name_the_video() -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2))
    m.update(row(3, 3), row(3, 3), [seg(3, 1, 2)], [{"id": 3, "category_id": 1}], video_id="clip-size-17")
    big = np.full((2, 2), 3, dtype=np.uint32)
    with pytest.raises(ValueError, match="clip-size-17"):
        update_and_compute(m, big, big, [seg(3, 1, 4)], [{"id": 3, "category_id": 1}], video_id="clip-size-17")


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_an_id_with_two_categories_in_a_video_names_the_video(side: str) -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2))
    frame = row(3, 3)
    m.update(frame, frame, [seg(3, 1, 2)], [{"id": 3, "category_id": 1}], video_id="clip-cat-5")
    gt_segments = [seg(3, 2 if side == "gt" else 1, 2)]
    pred_segments = [{"id": 3, "category_id": 2 if side == "pred" else 1}]
    with pytest.raises(ValueError, match="clip-cat-5"):
        update_and_compute(m, frame, frame, gt_segments, pred_segments, video_id="clip-cat-5")


def test_the_same_id_in_two_videos_may_have_two_categories() -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1,))
    frame = row(3, 3)
    m.update(frame, frame, [seg(3, 1, 2)], [{"id": 3, "category_id": 1}], video_id="a")
    m.update(frame, frame, [seg(3, 2, 2)], [{"id": 3, "category_id": 2}], video_id="b")
    assert_result(compute(m), {1: {1: (1.0, 1, 0, 0), 2: (1.0, 1, 0, 0)}})


@pytest.mark.parametrize(
    "pred_segments",
    [
        pytest.param([{"id": 3, "category_id": 1}], id="in-png-not-in-json"),
        pytest.param(
            [{"id": 3, "category_id": 1}, {"id": 4, "category_id": 1}, {"id": 5, "category_id": 1}],
            id="in-json-not-in-png",
        ),
        pytest.param([{"id": 3, "category_id": 1}, {"id": 4, "category_id": 42}], id="unknown-category"),
    ],
)
def test_bad_predictions_name_the_video(pred_segments) -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1,))
    with pytest.raises((KeyError, ValueError), match="clip-pred-9"):
        update_and_compute(m, row(3, 3, 4), row(3, 3, 4), [seg(3, 1, 2)], pred_segments, video_id="clip-pred-9")


# -- files -------------------------------------------------------------------------------------


def write_cityscapes_vps(root: Path, vids: list[Video], *, pred_image_ids: bool = False) -> tuple[Path, Path]:
    """Flat COCO panoptic JSONs, videos one after the other; predicted files named differently."""
    (root / "gt").mkdir(parents=True)
    (root / "pred").mkdir(parents=True)
    categories = list(CATS.values())
    gt: dict[str, list] = {"images": [], "annotations": [], "categories": categories}
    pred: dict[str, list] = {"images": [], "annotations": [], "categories": categories}
    k = 0
    for video in vids:
        for frame in video.frames:
            image_id = f"{k // 100:04d}_{k:04d}"
            gt_name, pred_name = f"{image_id}_gtFine_color.png", f"p{k:05d}.png"
            panoptiq.write_id_map(root / "gt" / gt_name, frame.gt_ids)
            panoptiq.write_id_map(root / "pred" / pred_name, frame.pred_ids)
            gt["images"].append({"id": image_id, "file_name": f"{image_id}_leftImg8bit.png"})
            gt["annotations"].append({"image_id": image_id, "file_name": gt_name, "segments_info": frame.gt_segments})
            pred_id = f"pred-{k}" if pred_image_ids else image_id
            pred["images"].append({"id": pred_id, "file_name": pred_name})
            pred["annotations"].append(
                {"image_id": pred_id, "file_name": pred_name, "segments_info": frame.pred_segments}
            )
            k += 1
    (root / "gt.json").write_text(json.dumps(gt))
    (root / "pred.json").write_text(json.dumps(pred))
    return root / "gt.json", root / "pred.json"


def write_vipseg(root: Path, vids: list[Video]) -> tuple[Path, Path]:
    categories = list(CATS.values())
    docs = {}
    for side in ("gt", "pred"):
        doc: dict[str, list] = {"videos": [], "annotations": [], "categories": categories}
        for video in vids:
            folder = root / side / video.video_id
            folder.mkdir(parents=True)
            images, annotations = [], []
            for f, frame in enumerate(video.frames):
                name = f"{f:08d}.png"
                panoptiq.write_id_map(folder / name, frame.gt_ids if side == "gt" else frame.pred_ids)
                # VIPSeg's eval_vpq_vspw.py reads the PNG named by the images' file_name, for both sides.
                images.append({"file_name": name, "id": f"{video.video_id}_{f}"})
                segments = frame.gt_segments if side == "gt" else frame.pred_segments
                annotations.append({"image_id": f"{video.video_id}_{f}", "file_name": name, "segments_info": segments})
            doc["videos"].append({"video_id": video.video_id, "images": images})
            doc["annotations"].append({"video_id": video.video_id, "annotations": annotations})
        docs[side] = doc
        (root / f"{side}.json").write_text(json.dumps(doc))
    return root / "gt.json", root / "pred.json"


def vpq_files(*args, **kwargs) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return vpq_compute(*args, **kwargs)


@FILES
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.just(n), video_sets(n_frames=n))), st.booleans())
def test_vpq_compute_cityscapes_vps_layout(tmp_path_factory: pytest.TempPathFactory, case, pred_image_ids) -> None:
    n, (vids, _) = case
    root = tmp_path_factory.mktemp("cvps")
    gt_json, pred_json = write_cityscapes_vps(root, vids, pred_image_ids=pred_image_ids)
    result = vpq_files(str(gt_json), str(pred_json), str(root / "gt"), str(root / "pred"), frames_per_video=n)
    assert_result(result, expected_stats(vids, (1, 2, 3, 4)))

    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2, 3, 4))
    feed(m, vids, in_order(vids))
    assert_same_result(result, compute(m))

    lengths = (2, 5)
    result = vpq_files(
        str(gt_json), str(pred_json), str(root / "gt"), str(root / "pred"), frames_per_video=n, tube_lengths=lengths
    )
    assert_result(result, expected_stats(vids, lengths))


@FILES
@given(video_sets(max_videos=3))
def test_vpq_compute_vipseg_layout(tmp_path_factory: pytest.TempPathFactory, case) -> None:
    vids, _ = case
    vids = [Video(f"video_{i:03d}", v.frames) for i, v in enumerate(vids)]
    root = tmp_path_factory.mktemp("vipseg")
    gt_json, pred_json = write_vipseg(root, vids)
    result = vpq_files(str(gt_json), str(pred_json), str(root / "gt"), str(root / "pred"), layout="vipseg")
    assert_result(result, expected_stats(vids, (1, 2, 4, 6, 8)))

    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2, 4, 6, 8))
    feed(m, vids, in_order(vids))
    assert_same_result(result, compute(m))


def test_an_iou_above_one_is_refused_where_mcahny_vps_asserts() -> None:
    # 7 is listed in frame 0 only (area 1) but drawn in both: 3 pixels of a tube of area 1.
    m = VideoPanopticQuality(CATS, tube_lengths=(1, 2))
    m.update(row(7, 0), row(8, 0), [seg(7, 1, 1)], [{"id": 8, "category_id": 1}], video_id="clip-over-3")
    with pytest.raises(
        ValueError, match=r"an intersection of 3 and a union of 1 pixels;.*video clip-over-3, frames 0\.\.=1"
    ):
        m.update(row(7, 7), row(8, 8), [], [{"id": 8, "category_id": 1}], video_id="clip-over-3")


def test_video_ids_that_read_the_same_are_refused() -> None:
    m = VideoPanopticQuality(CATS, tube_lengths=(1,))
    m.update(row(3), row(3), [seg(3, 1, 1)], [{"id": 3, "category_id": 1}], video_id=7)
    m.update(row(3), row(3), [seg(3, 1, 1)], [{"id": 3, "category_id": 1}], video_id=7)
    with pytest.raises(ValueError, match="read the same"):
        m.update(row(3), row(3), [seg(3, 1, 1)], [{"id": 3, "category_id": 1}], video_id="7")
