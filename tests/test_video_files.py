"""Video datasets on disk: vpq_compute's layouts and pairings against the in-memory metric fed the
same frames, on a real Dask LocalCluster and in exact parts on a process pool, the command
line's files; STQ's readers (KITTI-STEP, VIPSeg) against the label maps written; bad datasets."""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import panoptiq
from panoptiq import cli
from panoptiq.video import (
    STQuality,
    VideoPanopticQuality,
    evaluate_video_part,
    read_kitti_step,
    stq_compute,
    stq_kitti_step,
    vpq_compute,
    vpq_plan,
)

CATEGORIES = [
    {"id": 1, "name": "car", "isthing": 1},
    {"id": 2, "name": "person", "isthing": 1},
    {"id": 3, "name": "road", "isthing": 0},
]


def _frames(rng: np.random.Generator, frames: int, h: int = 6, w: int = 9) -> list[tuple[Any, ...]]:
    """A video: a road, two cars that move and one that leaves, predictions that drift and switch
    ids; JSON areas are pixel counts."""
    out = []
    for t in range(frames):
        gt = np.full((h, w), 3, dtype=np.uint32)
        gt[0, :] = 0
        gt[1:3, t % w : t % w + 3] = 11
        if t < frames - 1:
            gt[3:5, 1:4] = 12
        gt[h - 1, -2:] = 13  # a crowd of people
        pred = gt.copy()
        pred[pred == 11] = 111 if t < frames // 2 else 112  # an id switch halfway
        pred[pred == 12] = 121
        pred[pred == 13] = 0
        noise = rng.random((h, w)) < 0.15
        pred[noise] = 3
        pred[pred == 3] = 103
        gs = [
            {
                "id": int(i),
                "category_id": {3: 3, 11: 1, 12: 1, 13: 2}[int(i)],
                "iscrowd": int(i == 13),
                "area": int((gt == i).sum()),
            }
            for i in np.unique(gt)
            if i
        ]
        ps = [{"id": int(i), "category_id": {103: 3, 111: 1, 112: 1, 121: 1}[int(i)]} for i in np.unique(pred) if i]
        out.append((gt, pred, gs, ps))
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three videos of 5 frames in both layouts."""
    root = tmp_path_factory.mktemp("videos")
    rng = np.random.default_rng(5)
    videos = {f"clip{v}": _frames(rng, 5) for v in range(3)}
    flat: dict[str, Any] = {
        "gt": {"images": [], "annotations": [], "categories": CATEGORIES},
        "pred": {"annotations": []},
    }
    nested: dict[str, Any] = {
        "gt": {"videos": [], "annotations": [], "categories": CATEGORIES},
        "pred": {"annotations": []},
    }
    for video_id, frames in videos.items():
        nested["gt"]["videos"].append({"video_id": video_id, "images": []})
        nested["gt"]["annotations"].append({"video_id": video_id, "annotations": []})
        nested["pred"]["annotations"].append({"video_id": video_id, "annotations": []})
        for t, (gt, pred, gs, ps) in enumerate(frames):
            name = f"{video_id}_{t:06d}"
            for side, ids in (("gt", gt), ("pred", pred)):
                (root / "flat" / side).mkdir(parents=True, exist_ok=True)
                (root / "nested" / side / video_id).mkdir(parents=True, exist_ok=True)
                panoptiq.write_id_map(root / "flat" / side / f"{name}.png", ids)
                panoptiq.write_id_map(root / "nested" / side / video_id / f"{t:06d}.png", ids)
            flat["gt"]["images"].append({"id": name, "file_name": f"{name}.png"})
            flat["gt"]["annotations"].append({"image_id": name, "file_name": f"{name}.png", "segments_info": gs})
            flat["pred"]["annotations"].append({"image_id": name, "file_name": f"{name}.png", "segments_info": ps})
            nested["gt"]["videos"][-1]["images"].append({"id": name, "file_name": f"{t:06d}.png"})
            nested["gt"]["annotations"][-1]["annotations"].append({"image_id": name, "segments_info": gs})
            nested["pred"]["annotations"][-1]["annotations"].append({"image_id": name, "segments_info": ps})
    for layout, data in (("flat", flat), ("nested", nested)):
        for side in ("gt", "pred"):
            (root / layout / f"{side}.json").write_text(json.dumps(data[side]))
    return {"root": root, "videos": videos}


def _in_memory(videos: dict[str, list[tuple[Any, ...]]], lengths: tuple[int, ...]) -> dict[Any, Any]:
    metric = VideoPanopticQuality(CATEGORIES, lengths)
    for video_id, frames in videos.items():
        for gt, pred, gs, ps in frames:
            metric.update(gt, pred, gs, ps, video_id=video_id)
    return metric.compute()


def _files(root: Path, layout: str = "flat") -> tuple[str, str, str, str]:
    folder = root / layout
    return str(folder / "gt.json"), str(folder / "pred.json"), str(folder / "gt"), str(folder / "pred")


def test_both_layouts_equal_the_frames_fed_in_memory(dataset: dict[str, Any]) -> None:
    expected = _in_memory(dataset["videos"], (1, 2, 3, 4))
    assert expected[2]["per_class"][1]["tp"] > 0, "the data must hold matches of 2-frame tubes"
    flat = vpq_compute(*_files(dataset["root"]), frames_per_video=5)
    assert flat == expected
    nested = vpq_compute(*_files(dataset["root"], "nested"), layout="vipseg", tube_lengths=(1, 2, 3, 4))
    assert nested == expected
    by_id = vpq_compute(*_files(dataset["root"]), frames_per_video=5, pairing="image_id")
    assert by_id == expected


def test_pairing_by_image_id_survives_a_shuffled_prediction(dataset: dict[str, Any], tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = _files(dataset["root"])
    shuffled = json.loads(Path(pred_json).read_text())
    shuffled["annotations"].reverse()
    (tmp_path / "pred.json").write_text(json.dumps(shuffled))
    expected = vpq_compute(gt_json, pred_json, gt, pred, frames_per_video=5)
    assert (
        vpq_compute(gt_json, str(tmp_path / "pred.json"), gt, pred, frames_per_video=5, pairing="image_id") == expected
    )
    # Paired by position (mcahny/vps's rule), frame i of the ground truth meets another frame's
    # prediction: other numbers.
    assert vpq_compute(gt_json, str(tmp_path / "pred.json"), gt, pred, frames_per_video=5) != expected


def test_per_video_results_add_up_to_the_totals(dataset: dict[str, Any]) -> None:
    results = vpq_compute(*_files(dataset["root"]), frames_per_video=5, per_video=True)
    per_video = results["per_video"]
    assert sorted(per_video) == ["clip0_000000", "clip1_000000", "clip2_000000"]
    assert all(v["frames"] == 5 for v in per_video.values())
    one = _in_memory({"clip1": dataset["videos"]["clip1"]}, (1, 2, 3, 4))
    assert per_video["clip1_000000"][3]["All"] == one[3]["All"]


def _pool_evaluate(part: Any) -> bytes:
    return evaluate_video_part(part)


def test_parts_on_a_process_pool_merge_exactly(dataset: dict[str, Any]) -> None:
    expected = vpq_compute(*_files(dataset["root"]), frames_per_video=5)
    plan = vpq_plan(*_files(dataset["root"]), videos_per_part=2, frames_per_video=5)
    assert len(plan) == 2
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_pool_evaluate, plan.parts))
    assert plan.combine(results) == expected
    assert plan.combine(reversed(results)) == expected
    with pytest.raises(ValueError, match="1 of 2 parts have no result"):
        plan.combine(results[:1])
    with pytest.raises(ValueError, match="twice"):
        plan.combine([results[0], results[0], results[1]])


def test_on_a_dask_cluster_bit_for_bit(dataset: dict[str, Any]) -> None:
    distributed = pytest.importorskip("distributed", reason="the Dask test needs dask.distributed (panoptiq[test])")
    expected = vpq_compute(*_files(dataset["root"]), frames_per_video=5)
    with (
        warnings.catch_warnings(),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        got = vpq_compute(*_files(dataset["root"]), frames_per_video=5, client=client, videos_per_part=1)
    assert got == expected


def test_the_command_line_writes_mcahny_vps_files(dataset: dict[str, Any], tmp_path: Path, capsys) -> None:
    gt_json, pred_json, gt, pred = _files(dataset["root"])
    expected = vpq_compute(gt_json, pred_json, gt, pred, frames_per_video=5)
    out = tmp_path / "out"
    argv = ["vpq", gt_json, pred_json, "--gt-folder", gt, "--pred-folder", pred, "--frames-per-video", "5"]
    assert cli.main([*argv, "--output-dir", str(out), "--json", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr().out
    assert "==> 4-frame tubes (k = 15):" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "vpq-0.txt",
        "vpq-10.txt",
        "vpq-15.txt",
        "vpq-5.txt",
        "vpq-final.txt",
    ]
    final = dict(line.split(":") for line in (out / "vpq-final.txt").read_text().split())
    assert float(final["vpq_all"]) == pytest.approx(100 * expected["vpq"]["All"], abs=5e-5)
    table = (out / "vpq-5.txt").read_text().splitlines()
    all_row = next(line for line in table if line.startswith("All"))
    assert all_row.split("|")[1].split()[0] == f"{100 * expected[2]['All']['pq']:.1f}"
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["3"]["All"] == expected[3]["All"]


def test_bad_datasets_are_refused_with_their_reason(dataset: dict[str, Any], tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = _files(dataset["root"])
    with pytest.raises(ValueError, match="15 frames, not a multiple of frames_per_video=4"):
        vpq_compute(gt_json, pred_json, gt, pred, frames_per_video=4)
    with pytest.raises(ValueError, match="frames_per_video applies to the cityscapes-vps layout only"):
        vpq_compute(*_files(dataset["root"], "nested"), layout="vipseg", frames_per_video=5)
    short = json.loads(Path(pred_json).read_text())
    short["annotations"].pop()
    (tmp_path / "short.json").write_text(json.dumps(short))
    with pytest.raises(ValueError, match="15 frames and the prediction 14"):
        vpq_compute(gt_json, str(tmp_path / "short.json"), gt, pred, frames_per_video=5)
    with pytest.raises(panoptiq.MissingPredictionError, match="clip2_000004"):
        vpq_compute(gt_json, str(tmp_path / "short.json"), gt, pred, frames_per_video=5, pairing="image_id")
    missing = tmp_path / "pred_pngs"
    missing.mkdir()
    with pytest.raises(FileNotFoundError, match="clip0_000000"):
        vpq_compute(gt_json, pred_json, gt, str(missing), frames_per_video=5)


def test_a_video_of_another_size_names_the_video_and_frame(tmp_path: Path) -> None:
    frames = _frames(np.random.default_rng(1), 2)
    small = _frames(np.random.default_rng(1), 1, h=5, w=9)[0]
    metric = VideoPanopticQuality(CATEGORIES, (1, 2))
    metric.update(*frames[0], video_id="drive-7")
    with pytest.raises(ValueError, match=r"In the video drive-7, frame 1 .*5x9 but the video's frames are 6x9"):
        metric.update(*small, video_id="drive-7")
    metric.update(*frames[1], video_id="drive-7")
    assert metric.compute()[2]["per_class"][3]["tp"] == 1, "the refused frame left nothing behind"


def _kitti_png(path: Path, semantic: np.ndarray, instance: np.ndarray) -> None:
    rgb = np.stack([semantic, instance // 256, instance % 256], axis=-1).astype(np.uint32)
    panoptiq.write_id_map(path, rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2])


def test_kitti_step_pngs_read_as_class_and_instance(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    semantic = rng.integers(0, 19, size=(4, 7))
    instance = rng.integers(0, 70000, size=(4, 7)) % 65536
    _kitti_png(tmp_path / "f.png", semantic, instance)
    assert np.array_equal(read_kitti_step(tmp_path / "f.png"), (semantic << 16) + instance)
    with pytest.raises(ValueError, match="does not fit in label_bit_shift=8"):
        read_kitti_step(tmp_path / "f.png", label_bit_shift=8)


def test_kitti_step_folders_equal_the_metric_fed_directly(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    expected = STQuality(19, [11, 13], 255, 16, 2**32)
    for sequence in ("0002", "0007"):
        for t in range(3):
            maps = []
            for side in ("gt", "pred"):
                semantic = rng.choice([0, 11, 13, 255], size=(5, 6))
                instance = np.where(np.isin(semantic, [11, 13]), rng.integers(0, 3, size=(5, 6)), 0)
                (tmp_path / side / sequence).mkdir(parents=True, exist_ok=True)
                _kitti_png(tmp_path / side / sequence / f"{t:06d}.png", semantic, instance)
                maps.append((semantic << 16) + instance)
            expected.update_state(maps[0], maps[1], sequence)
    got = stq_kitti_step(tmp_path / "gt", tmp_path / "pred")
    want = expected.result()
    assert got["ID_per_seq"] == ["0002", "0007"]
    assert got["Length_per_seq"] == [3, 3]
    assert got["STQ"] == want["STQ"]
    assert got["IoU_per_seq"] == want["IoU_per_seq"]


def _vipseg_labels(ids: np.ndarray, segments: list[dict[str, Any]], numbers: dict[int, int]) -> np.ndarray:
    """VIPSeg's eval_stq_vspw.py conversion, pixel by pixel as it states it."""
    semantic = np.full(ids.shape, 255, dtype=np.int64)
    instance = np.full(ids.shape, 255, dtype=np.int64)
    for segment in segments:
        semantic[ids == segment["id"]] = segment["category_id"]
        instance[ids == segment["id"]] = numbers[segment["id"]]
    return ((semantic << 16) + instance).astype(np.int32)


def test_vipseg_stq_equals_the_scripts_conversion(dataset: dict[str, Any]) -> None:
    expected = STQuality(124, [1, 2], 255, 16, 2**24)
    for sequence, frames in enumerate(dataset["videos"].values()):
        numbers: dict[str, dict[int, int]] = {"gt": {}, "pred": {}}
        for _, _, gs, ps in frames:
            for side, segments in (("gt", gs), ("pred", ps)):
                for s in segments:
                    numbers[side].setdefault(s["id"], len(numbers[side]))
        for gt, pred, gs, ps in frames:
            expected.update_state(
                _vipseg_labels(gt, gs, numbers["gt"]), _vipseg_labels(pred, ps, numbers["pred"]), sequence
            )
    root = dataset["root"] / "nested"
    got = stq_compute(root / "gt.json", root / "pred.json", root / "gt", root / "pred")
    want = expected.result()
    assert got["ID_per_seq"] == [0, 1, 2]
    for key in ("STQ", "AQ", "IoU"):
        assert got[key] == want[key], key
    assert want["AQ"] > 0


def test_annotations_naming_their_video_must_list_it_contiguously(dataset: dict[str, Any], tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = _files(dataset["root"])
    data = json.loads(Path(gt_json).read_text())
    for i, annotation in enumerate(data["annotations"]):
        annotation["video_id"] = f"drive-{i // 5}"
    (tmp_path / "gt.json").write_text(json.dumps(data))
    named = vpq_compute(str(tmp_path / "gt.json"), pred_json, gt, pred, frames_per_video=5, per_video=True)
    assert sorted(named["per_video"]) == ["drive-0", "drive-1", "drive-2"]
    data["annotations"][7]["video_id"] = "drive-0"  # a frame of video 0 inside video 1
    (tmp_path / "gt.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"In the video drive-0: its frames are not contiguous .* frame 7"):
        vpq_compute(str(tmp_path / "gt.json"), pred_json, gt, pred, frames_per_video=5)
    for i, annotation in enumerate(data["annotations"]):
        annotation["video_id"] = f"drive-{i // 3}"
    (tmp_path / "gt.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="frames_per_video=5 does not fit"):
        vpq_compute(str(tmp_path / "gt.json"), pred_json, gt, pred, frames_per_video=5)
