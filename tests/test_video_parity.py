"""The video references and panoptiq.video against the original evaluation code, when available.

* ``PANOPTIQ_VPS_REPO``: a checkout of mcahny/vps (a directory with ``tools/eval_vpq.py``); its
  ``vpq_compute_single_core`` is run on each video, frames given as RGB PNG arrays. It imports
  PIL, so Pillow must be installed.
* ``PANOPTIQ_DEEPLAB2_REPO``: a checkout of google-research/deeplab2 (a directory with
  ``evaluation/numpy/segmentation_and_tracking_quality.py``, standalone numpy).

Part (a) checks ``reference_video`` against them, part (b) checks ``panoptiq.video``. Counts must
be equal, IoU sums and scores equal to rel 1e-12. One exception: with NumPy >= 2, deeplab2's AQ
is accumulated in float32 (its pixel counts are float32, and NEP 50 keeps Python floats from
promoting them), so AQ and STQ are compared to rel 1e-5 there; its IoU stays float64.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_video import STQReference, add_stats, vpq_reference
from video_strategies import STQCase, Video, VideoFrame, category_records, ids_to_rgb, stq_cases, video_sets, videos

CATS = category_records()
NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
#: deeplab2's AQ (and so STQ) is float32 arithmetic under NumPy 2.
AQ_REL = 1e-5 if NUMPY_2 else 1e-12


def _load(env: str, relative: str, name: str, repo: str) -> ModuleType:
    root = os.environ.get(env)
    if not root:
        pytest.skip(f"set {env} to a checkout of {repo} to run the parity check")
    path = Path(root) / relative
    if not path.is_file():
        pytest.fail(f"{env}={root} has no {relative}: it should point to a checkout of {repo}")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vps() -> ModuleType:
    root = os.environ.get("PANOPTIQ_VPS_REPO")
    if root:
        pytest.importorskip("PIL", reason="mcahny/vps's tools/eval_vpq.py imports PIL: pip install Pillow")
    return _load("PANOPTIQ_VPS_REPO", "tools/eval_vpq.py", "_mcahny_vps_eval_vpq", "mcahny/vps")


@pytest.fixture(scope="module")
def deeplab2() -> ModuleType:
    return _load(
        "PANOPTIQ_DEEPLAB2_REPO",
        "evaluation/numpy/segmentation_and_tracking_quality.py",
        "_deeplab2_stq",
        "google-research/deeplab2",
    )


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


# -- VPQ ---------------------------------------------------------------------------------------


def vps_video(vps: ModuleType, video: Video, n: int) -> dict[int, tuple[float, int, int, int]]:
    """mcahny/vps's statistics of one video, in its own input format."""
    frames = [
        (
            {"segments_info": copy.deepcopy(f.gt_segments)},
            {"segments_info": copy.deepcopy(f.pred_segments)},
            ids_to_rgb(f.gt_ids),
            ids_to_rgb(f.pred_ids),
            {},
        )
        for f in video.frames
    ]
    stat = vps.vpq_compute_single_core(frames, copy.deepcopy(video.categories), nframes=n)
    return {c: (s.iou, s.tp, s.fp, s.fn) for c, s in stat.pq_per_cat.items()}


def assert_same_stats(ours: dict, theirs: dict, categories=None) -> None:
    keys = set(ours) | set(theirs) if categories is None else set(categories)
    for c in keys:
        a, b = ours.get(c, (0.0, 0, 0, 0)), theirs.get(c, (0.0, 0, 0, 0))
        assert tuple(int(x) for x in a[1:]) == tuple(int(x) for x in b[1:]), (c, a, b)
        assert close(a[0], b[0]), (c, a, b)


@settings(max_examples=150, deadline=None)
@given(videos(consistent=False), st.integers(1, 7))
def test_reference_vpq_equals_mcahny_vps(vps: ModuleType, video: Video, n: int) -> None:
    assert_same_stats(vpq_reference(video.frames, CATS, n), vps_video(vps, video, n))


@pytest.mark.parametrize(
    ("pred_segments", "theirs", "ours"),
    [
        ([{"id": 3, "category_id": 1}], "4 is presented in PNG", "4 is in the PNG but not in the JSON"),
        ([{"id": 3, "category_id": 1}, {"id": 4, "category_id": 1}, {"id": 5, "category_id": 1}], r"\[5\]", r"\[5\]"),
        ([{"id": 3, "category_id": 1}, {"id": 4, "category_id": 42}], "42", "unknown category 42"),
    ],
)
def test_reference_vpq_rejects_what_mcahny_vps_rejects(vps: ModuleType, pred_segments, theirs: str, ours: str) -> None:
    frame = np.array([[3, 3, 4]], dtype=np.uint32)
    gt_segments = [{"id": 3, "category_id": 1, "iscrowd": 0, "area": 2}]
    video = Video("bad", [VideoFrame(frame, frame, gt_segments, pred_segments)])
    with pytest.raises(KeyError, match=theirs):
        vps_video(vps, video, 1)
    with pytest.raises(KeyError, match=ours):
        vpq_reference(video.frames, CATS, 1)
    # No window, no check: a video shorter than the tube length is not read at all.
    assert vps_video(vps, video, 2) == {} == vpq_reference(video.frames, CATS, 2)


def test_reference_vpq_refuses_an_iou_above_one_like_mcahny_vps(vps: ModuleType) -> None:
    # 7 is listed in frame 0 only (area 1) but drawn in both frames: 3 pixels against an area of 1.
    frames = [
        VideoFrame(
            np.array([[7, 0]], np.uint32),
            np.array([[8, 0]], np.uint32),
            [{"id": 7, "category_id": 1, "iscrowd": 0, "area": 1}],
            [{"id": 8, "category_id": 1}],
        ),
        VideoFrame(np.array([[7, 7]], np.uint32), np.array([[8, 8]], np.uint32), [], [{"id": 8, "category_id": 1}]),
    ]
    video = Video("over", frames)
    with pytest.raises(AssertionError, match="INVALID IOU"):
        vps_video(vps, video, 2)
    with pytest.raises(ValueError, match="IoU"):
        vpq_reference(video.frames, CATS, 2)
    # Frame by frame nothing is wrong: 8 on the unlisted 7 of frame 1 is a FP.
    assert_same_stats(vpq_reference(video.frames, CATS, 1), vps_video(vps, video, 1))


@pytest.mark.parametrize("strict", [True, False])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_video_panoptic_quality_equals_mcahny_vps(vps: ModuleType, strict: bool, data: st.DataObject) -> None:
    from panoptiq.video import VideoPanopticQuality

    # Not strict, ids may change category inside a video (mcahny/vps takes the first in a window).
    vids, order = data.draw(video_sets(consistent=strict))
    lengths = data.draw(st.lists(st.integers(1, 7), min_size=1, max_size=3, unique=True))
    m = VideoPanopticQuality(CATS, tube_lengths=tuple(lengths), strict=strict)
    for v, f in order:
        frame = vids[v].frames[f]
        m.update(frame.gt_ids, frame.pred_ids, frame.gt_segments, frame.pred_segments, video_id=vids[v].video_id)
    with warnings.catch_warnings():
        # Videos shorter than a tube length, and splits left empty (n = 0), may warn.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = m.compute()
    for n in lengths:
        theirs: dict = {}
        total = vps.PQStat()
        for video in vids:
            stats = vps_video(vps, video, n)
            theirs = add_stats(theirs, stats)
            for c, (iou, tp, fp, fn) in stats.items():
                total[c].iou += iou
                total[c].tp += tp
                total[c].fp += fp
                total[c].fn += fn
        ours = {c: (s["iou"], s["tp"], s["fp"], s["fn"]) for c, s in result[n]["per_class"].items()}
        assert_same_stats(ours, theirs, CATS)
        for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
            try:
                split, per_class = total.pq_average(CATS, isthing=isthing)
            except ZeroDivisionError:  # panopticapi's average of no category
                assert result[n][name]["n"] == 0
                continue
            assert result[n][name]["n"] == split["n"]
            for key in ("pq", "sq", "rq"):
                assert close(result[n][name][key], split[key]), (n, name, key)
            for c, row in per_class.items():
                for key in ("pq", "sq", "rq"):
                    assert close(result[n]["per_class"][c][key], row[key]), (n, c, key)


# -- STQ ---------------------------------------------------------------------------------------


def run_stq(metric, case: STQCase) -> dict:
    for f in case.frames:
        metric.update_state(f.y_true, f.y_pred, f.sequence_id, f.weights)
    return metric.result()


def assert_same_stq(ours: dict, theirs: dict) -> None:
    assert set(ours) == set(theirs)
    assert close(ours["IoU"], theirs["IoU"]), (ours["IoU"], theirs["IoU"])
    assert close(ours["AQ"], theirs["AQ"], AQ_REL), (ours["AQ"], theirs["AQ"])
    assert close(ours["STQ"], theirs["STQ"], AQ_REL), (ours["STQ"], theirs["STQ"])
    assert list(ours["ID_per_seq"]) == list(theirs["ID_per_seq"])
    assert [int(n) for n in ours["Length_per_seq"]] == [int(n) for n in theirs["Length_per_seq"]]
    for key, rel in (("IoU_per_seq", 1e-12), ("AQ_per_seq", AQ_REL), ("STQ_per_seq", AQ_REL)):
        a, b = np.asarray(ours[key], dtype=np.float64), np.asarray(theirs[key], dtype=np.float64)
        assert a.shape == b.shape, key
        assert all(close(x, y, rel) for x, y in zip(a.tolist(), b.tolist(), strict=True)), (key, a, b)


@settings(max_examples=150, deadline=None)
@given(stq_cases())
def test_reference_stq_equals_deeplab2(deeplab2: ModuleType, case: STQCase) -> None:
    theirs = run_stq(deeplab2.STQuality(*case.config.args()), case)
    assert_same_stq(run_stq(STQReference(*case.config.args()), case), theirs)


@pytest.mark.parametrize("ignore_label", [1, 3, 255])
def test_reference_stq_sequence_of_ignored_ground_truth_has_no_iou(deeplab2: ModuleType, ignore_label: int) -> None:
    # deeplab2 divides 0 by 0 classes (NaN, with a RuntimeWarning) for such a sequence.
    config = (3, [2], ignore_label, 8, 3 << 8)
    y_true = np.array([[ignore_label << 8, ignore_label << 8]], dtype=np.int64)
    y_pred = np.array([[2 << 8 | 1, 0]], dtype=np.int64)
    valid = np.array([[2 << 8 | 1, 0]], dtype=np.int64)
    results = []
    for cls in (deeplab2.STQuality, STQReference):
        m = cls(*config)
        m.update_state(y_true, y_pred, "void")
        m.update_state(valid, valid, "fine")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            results.append(m.result())
    assert_same_stq(results[1], results[0])
    assert math.isnan(results[1]["IoU_per_seq"][0])


def test_reference_stq_offset_check_equals_deeplab2(deeplab2: ModuleType) -> None:
    # deeplab2 means to raise ValueError, but its message has two %d for one value: TypeError.
    with pytest.raises((ValueError, TypeError)):
        deeplab2.STQuality(3, [1], 255, 8, (3 << 8) - 1)
    with pytest.raises(ValueError, match="offset"):
        STQReference(3, [1], 255, 8, (3 << 8) - 1)
    deeplab2.STQuality(3, [1], 255, 8, 3 << 8)
    STQReference(3, [1], 255, 8, 3 << 8)


@settings(max_examples=150, deadline=None)
@given(stq_cases())
def test_stquality_equals_deeplab2(deeplab2: ModuleType, case: STQCase) -> None:
    from panoptiq.video import STQuality

    theirs = run_stq(deeplab2.STQuality(*case.config.args()), case)
    assert_same_stq(run_stq(STQuality(*case.config.args()), case), theirs)


@settings(max_examples=60, deadline=None)
@given(stq_cases(max_sequences=4), st.data())
def test_stquality_merge_state_equals_deeplab2(deeplab2: ModuleType, case: STQCase, data: st.DataObject) -> None:
    from panoptiq.video import STQuality

    ids = list(dict.fromkeys(f.sequence_id for f in case.frames))
    owner = {s: data.draw(st.integers(0, 2)) for s in ids}
    results = []
    for cls in (deeplab2.STQuality, STQuality):
        metrics = [cls(*case.config.args()) for _ in range(3)]
        for f in case.frames:
            metrics[owner[f.sequence_id]].update_state(f.y_true, f.y_pred, f.sequence_id, f.weights)
        metrics[0].merge_state(metrics[1:])
        results.append(metrics[0].result())
    assert_same_stq(results[1], results[0])
