"""SemanticKITTI datasets on disk: the synthetic writer (make_semantic_kitti), read_label, and
evaluate_semantic_kitti against the reference fed the same files; bad datasets."""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lidar_strategies import kitti_label_pairs
from reference_lidar import (
    SCORE_KEYS,
    STUFF,
    THINGS,
    Panoptic4DReference,
    PanopticReference,
    read_scores,
    remap,
    semantic_kitti_scores,
)

import panoptiq.lidar
from panoptiq.lidar import Panoptic4DEval, evaluate_semantic_kitti, read_label
from panoptiq.lidar import _synthetic as synthetic
from panoptiq.lidar._synthetic import make_semantic_kitti

yaml = pytest.importorskip("yaml", reason="the SemanticKITTI config is YAML: pip install pyyaml")

#: The config written by make_semantic_kitti, as PyYAML reads it.
CONFIG = {
    "learning_map": synthetic.LEARNING_MAP,
    "learning_map_inv": synthetic.LEARNING_MAP_INV,
    "learning_ignore": synthetic.LEARNING_IGNORE,
    "labels": {raw: name for raw, (name, _) in synthetic.RAW_LABELS.items()},
}
MODEL_RAW = {synthetic.LEARNING_MAP_INV[c] for c in range(1, 20)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sequences of 5 scans of about 1500 points, with predictions."""
    return make_semantic_kitti(tmp_path_factory.mktemp("kitti"), sequences=("08", "09"), scans=5, points=1500, seed=11)


def files(root: Path, predictions: Path | None = None) -> list[tuple[str, Path, Path]]:
    """(sequence, label, prediction) of the valid split, in the script's order."""
    config = yaml.safe_load((root / "semantic-kitti.yaml").read_text())
    preds = predictions if predictions is not None else root / "predictions"
    out = []
    for number in config["split"]["valid"]:
        seq = f"{int(number):02d}"
        for label in sorted((root / "sequences" / seq / "labels").glob("*.label")):
            out.append((seq, label, preds / "sequences" / seq / "predictions" / label.name))
    return out


def reference_scores(root: Path, **kwargs: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    pairs = [(np.fromfile(g, dtype=np.uint32), np.fromfile(p, dtype=np.uint32)) for _, g, p in files(root)]
    return semantic_kitti_scores(pairs, CONFIG, **kwargs)


def evaluate(root: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("data_cfg", root / "semantic-kitti.yaml")
    return evaluate_semantic_kitti(root, root / "predictions", **kwargs)


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def assert_scores(got: dict[str, Any], want: dict[str, float]) -> None:
    for key in SCORE_KEYS:
        assert close(got[key], want[key]), (key, got[key], want[key])


def assert_classes(got: dict[str, Any], want: dict[str, dict[str, float]]) -> None:
    for name, row in want.items():
        for key in ("PQ", "SQ", "RQ", "IoU"):
            assert close(got["classes"][name][key], row[key]), (name, key)


def copy(dataset: Path, into: Path) -> Path:
    shutil.copytree(dataset, into)
    return into


# -- make_semantic_kitti -----------------------------------------------------------------------


def test_make_semantic_kitti_is_exported() -> None:
    assert panoptiq.lidar.make_semantic_kitti is make_semantic_kitti


def test_layout(dataset: Path) -> None:
    for seq in ("08", "09"):
        labels = sorted(p.name for p in (dataset / "sequences" / seq / "labels").iterdir())
        preds = sorted(p.name for p in (dataset / "predictions" / "sequences" / seq / "predictions").iterdir())
        assert labels == preds == [f"{t:06d}.label" for t in range(5)]
        for name in labels:
            gt = dataset / "sequences" / seq / "labels" / name
            pred = dataset / "predictions" / "sequences" / seq / "predictions" / name
            assert gt.stat().st_size == pred.stat().st_size
            assert gt.stat().st_size % 4 == 0
            assert 0.9 * 1500 <= gt.stat().st_size // 4 <= 1.1 * 1500


def test_config(dataset: Path) -> None:
    config = yaml.safe_load((dataset / "semantic-kitti.yaml").read_text())
    assert config["learning_map"] == CONFIG["learning_map"]
    assert config["learning_map_inv"] == CONFIG["learning_map_inv"]
    assert config["learning_ignore"] == CONFIG["learning_ignore"]
    assert config["labels"] == CONFIG["labels"]
    assert config["split"]["valid"] == [8, 9]
    assert 8 not in config["split"]["train"]
    assert config["split"]["test"] == list(range(11, 22))
    # The 19 classes, 1..19 in SemanticKITTI's order, named as the script's lists name them.
    names = [config["labels"][config["learning_map_inv"][c]] for c in range(20)]
    assert names[0] == "unlabeled"
    assert sorted(names[1:]) == sorted(THINGS + STUFF)
    assert names[1:9] == [
        "car",
        "bicycle",
        "motorcycle",
        "truck",
        "other-vehicle",
        "person",
        "bicyclist",
        "motorcyclist",
    ]
    assert [c for c, ignored in config["learning_ignore"].items() if ignored] == [0]
    # Several raw labels per class.
    by_class = Counter(config["learning_map"].values())
    assert by_class[0] >= 3
    assert config["learning_map"][10] == config["learning_map"][252] == 1
    assert config["learning_map"][40] == config["learning_map"][60] == 9


def test_split_when_every_sequence_is_written(tmp_path: Path) -> None:
    every = [f"{s:02d}" for s in range(22)]
    root = make_semantic_kitti(tmp_path, sequences=every, scans=0)
    config = yaml.safe_load((root / "semantic-kitti.yaml").read_text())
    assert config["split"] == {"train": [], "valid": list(range(22)), "test": []}


def test_same_seed_same_files(tmp_path: Path, dataset: Path) -> None:
    again = make_semantic_kitti(tmp_path / "again", sequences=("08", "09"), scans=5, points=1500, seed=11)
    alone = make_semantic_kitti(
        tmp_path / "alone", sequences=(9,), scans=5, points=1500, seed=11, with_predictions=False
    )
    other = make_semantic_kitti(tmp_path / "other", sequences=("08",), scans=5, points=1500, seed=12)
    for path in sorted(dataset.rglob("*.label")):
        relative = path.relative_to(dataset)
        assert (again / relative).read_bytes() == path.read_bytes()
    # A sequence does not depend on the others, nor the labels on the predictions.
    for path in sorted((dataset / "sequences" / "09").rglob("*.label")):
        assert (alone / path.relative_to(dataset)).read_bytes() == path.read_bytes()
    assert not (alone / "predictions").exists()
    first = "sequences/08/labels/000000.label"
    assert (other / first).read_bytes() != (dataset / first).read_bytes()


def test_scenes_look_like_semantic_kitti(dataset: Path) -> None:
    sizes: dict[tuple[str, int], list[int]] = {}
    raw_seen: Counter[int] = Counter()
    pred_raw: set[int] = set()
    for seq, gt_file, pred_file in files(dataset):
        gt = np.fromfile(gt_file, dtype=np.uint32)
        pred = np.fromfile(pred_file, dtype=np.uint32)
        raw, inst = gt & 0xFFFF, gt >> 16
        raw_seen.update(raw.tolist())
        pred_raw |= set((pred & 0xFFFF).tolist())
        assert set(raw.tolist()) <= set(synthetic.RAW_LABELS)
        assert int(inst.max()) <= synthetic.MAX_INSTANCE
        things = np.array([synthetic.LEARNING_MAP[r] for r in raw.tolist()]) <= 8
        assert (inst[~things] == 0).all()  # stuff and ignored points carry instance 0
        for i in np.unique(inst[inst > 0]).tolist():
            at = inst == i
            assert len(set(raw[at].tolist())) == 1  # one raw label per object
            sizes.setdefault((seq, i), []).append(int(at.sum()))
    # A 19-class model writes the classes' own raw labels: no moving-car, no lane marking.
    assert pred_raw <= MODEL_RAW
    assert raw_seen[252] > 0
    assert raw_seen[60] > 0
    assert raw_seen[0] > 0
    every = [n for per_scan in sizes.values() for n in per_scan]
    assert max(every) <= 800
    assert any(n < 50 for n in every)  # instances below the script's min_inst_points
    assert any(n > 150 for n in every)
    assert any(len(per_scan) > 1 for per_scan in sizes.values())  # tracked over several scans


def test_predictions_have_realistic_errors(dataset: Path) -> None:
    ours = PanopticReference(20, [0], 50)
    for _, gt_file, pred_file in files(dataset):
        gt, pred = np.fromfile(gt_file, dtype=np.uint32), np.fromfile(pred_file, dtype=np.uint32)
        ours.add(np.array(remap(pred, synthetic.LEARNING_MAP)), pred, np.array(remap(gt, synthetic.LEARNING_MAP)), gt)
    pq = ours.pq()[0]
    assert 0.3 < pq < 0.95
    assert sum(ours.fp[1:9]) > 0
    assert sum(ours.fn[1:9]) > 0
    assert sum(ours.tp[1:9]) > 5
    assert 0.4 < ours.sem_iou()[0] < 0.98


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sequences": ("eight",)}, "numbers"),
        ({"sequences": ("08", "8")}, "repeat"),
        ({"scans": -1}, "at least 0"),
    ],
)
def test_make_semantic_kitti_refuses(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_semantic_kitti(tmp_path, **kwargs)


# -- read_label --------------------------------------------------------------------------------


def test_read_label(tmp_path: Path) -> None:
    labels = np.array([0, 10, (7 << 16) | 252, 2**32 - 1], dtype="<u4")
    labels.tofile(tmp_path / "a.label")
    got = read_label(tmp_path / "a.label")
    assert got.dtype == np.uint32
    assert got.tolist() == labels.tolist()
    (tmp_path / "empty.label").write_bytes(b"")
    assert read_label(tmp_path / "empty.label").tolist() == []
    (tmp_path / "odd.label").write_bytes(b"\x01\x02\x03\x04\x05\x06")
    with pytest.raises(ValueError, match=re.escape("odd.label")) as raised:
        read_label(tmp_path / "odd.label")
    assert "6 bytes" in str(raised.value)
    assert "PNG" not in str(raised.value)  # a .label file is not a PNG
    with pytest.raises(FileNotFoundError, match=re.escape("missing.label")):
        read_label(tmp_path / "missing.label")


# -- evaluate_semantic_kitti against the reference ---------------------------------------------


@pytest.mark.parametrize("min_inst_points", [1, 50, 10**6])
def test_evaluate_equals_reference(dataset: Path, min_inst_points: int) -> None:
    want, classes = reference_scores(dataset, min_inst_points=min_inst_points)
    got = evaluate(dataset, min_inst_points=min_inst_points)
    assert_scores(got, want)
    assert_classes(got, classes)


@pytest.mark.parametrize("limit", [0, 1, 700, 10**9])
def test_limit_keeps_the_first_points(dataset: Path, limit: int) -> None:
    want, classes = reference_scores(dataset, limit=limit)
    got = evaluate(dataset, limit=limit)
    assert_scores(got, want)
    assert_classes(got, classes)


def test_classes_all_is_the_evaluator_mean(dataset: Path) -> None:
    ours = PanopticReference(20, [0], 50)
    for _, gt_file, pred_file in files(dataset):
        gt, pred = np.fromfile(gt_file, dtype=np.uint32), np.fromfile(pred_file, dtype=np.uint32)
        ours.add(np.array(remap(pred, synthetic.LEARNING_MAP)), pred, np.array(remap(gt, synthetic.LEARNING_MAP)), gt)
    pq, sq, rq, *_ = ours.pq()
    everything = evaluate(dataset)["classes"]["all"]
    assert close(everything["PQ"], pq)
    assert close(everything["SQ"], sq)
    assert close(everything["RQ"], rq)
    assert close(everything["IoU"], ours.sem_iou()[0])


def test_perfect_predictions(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "perfect")
    for seq in ("08", "09"):
        shutil.rmtree(root / "predictions" / "sequences" / seq / "predictions")
        shutil.copytree(root / "sequences" / seq / "labels", root / "predictions" / "sequences" / seq / "predictions")
    got = evaluate(root, min_inst_points=1)
    seen = {
        synthetic.LEARNING_MAP[int(r)] for _, g, _ in files(root) for r in np.unique(np.fromfile(g, np.uint32) & 0xFFFF)
    }
    for c in sorted(seen - {0}):
        name = synthetic.CLASS_NAMES[c]
        assert got["classes"][name]["PQ"] == 1.0, name
        assert got["classes"][name]["IoU"] == 1.0, name


def test_predictions_default_to_the_dataset_folder(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "together")
    for seq in ("08", "09"):
        shutil.move(root / "predictions" / "sequences" / seq / "predictions", root / "sequences" / seq / "predictions")
    got = evaluate_semantic_kitti(root, data_cfg=root / "semantic-kitti.yaml")
    assert_scores(got, reference_scores(dataset)[0])


def test_config_defaults_to_config_semantic_kitti_yaml(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(dataset / "semantic-kitti.yaml", tmp_path / "config" / "semantic-kitti.yaml")
    monkeypatch.chdir(tmp_path)
    got = evaluate_semantic_kitti(dataset, dataset / "predictions")
    assert_scores(got, reference_scores(dataset)[0])


def test_output_writes_the_scripts_scores(dataset: Path, tmp_path: Path) -> None:
    got = evaluate(dataset, output=tmp_path / "out")
    written = read_scores((tmp_path / "out" / "scores.txt").read_text())
    assert set(written) == set(SCORE_KEYS)  # the script's scores.txt: these keys and no others
    for key in SCORE_KEYS:
        assert written[key] == got[key]
    assert (tmp_path / "out" / "detailed_results.html").is_file()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(kitti_label_pairs(sorted(synthetic.RAW_LABELS)), min_size=1, max_size=4),
    st.sampled_from([1, 2, 5, 50]),
)
def test_small_datasets_equal_reference(pairs: list[tuple[np.ndarray, np.ndarray]], min_inst_points: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = make_semantic_kitti(folder, sequences=("08",), scans=0)
        labels = root / "sequences" / "08" / "labels"
        preds = root / "predictions" / "sequences" / "08" / "predictions"
        preds.mkdir(parents=True)
        for t, (gt, pred) in enumerate(pairs):
            gt.astype("<u4").tofile(labels / f"{t:06d}.label")
            pred.astype("<u4").tofile(preds / f"{t:06d}.label")
        want, classes = semantic_kitti_scores(pairs, CONFIG, min_inst_points=min_inst_points)
        got = evaluate(root, min_inst_points=min_inst_points)
    assert_scores(got, want)
    assert_classes(got, classes)


def test_4d_on_the_dataset_equals_reference(dataset: Path) -> None:
    # As 4D-PLS's evaluate_4dpanoptic.py feeds it: the sequence's folder, instances label >> 16.
    ours = Panoptic4DEval(20, None, [0], min_points=50)
    want = Panoptic4DReference(20, [0], 50)
    for seq, gt_file, pred_file in files(dataset):
        gt, pred = read_label(gt_file), read_label(pred_file)
        args = (
            np.array(remap(pred, synthetic.LEARNING_MAP)),
            pred >> 16,
            np.array(remap(gt, synthetic.LEARNING_MAP)),
            gt >> 16,
        )
        ours.addBatch(seq, *args)
        want.add(seq, *args)
    got = ours.getPQ4D()
    for a, b in zip(got, want.pq4d(), strict=True):
        a = np.atleast_1d(np.asarray(a, dtype=np.float64)).tolist()
        b = np.atleast_1d(np.asarray(b, dtype=np.float64)).tolist()
        assert all(close(x, y) for x, y in zip(a, b, strict=True))
    assert 0.2 < got[0] < 1.0  # LSTQ of a fair model


# -- unmapped labels and bad datasets ----------------------------------------------------------


def unmapped(dataset: Path, into: Path) -> tuple[Path, int]:
    """A copy with 7 ground-truth points of raw label 150 in 08/000001 and 4 predicted points of
    raw label 1000 in 09/000002, neither in learning_map; returns it and the count (11)."""
    root = copy(dataset, into)
    gt = root / "sequences" / "08" / "labels" / "000001.label"
    label = np.fromfile(gt, dtype=np.uint32)
    label[:7] = (label[:7] & 0xFFFF0000) | 150
    label.tofile(gt)
    pred = root / "predictions" / "sequences" / "09" / "predictions" / "000002.label"
    label = np.fromfile(pred, dtype=np.uint32)
    label[10:14] = 1000
    label.tofile(pred)
    return root, 11


def test_unmapped_raw_labels_are_class_0_with_a_warning(dataset: Path, tmp_path: Path) -> None:
    root, count = unmapped(dataset, tmp_path / "odd")
    with pytest.warns(UserWarning, match=rf"\b{count} points\b") as caught:
        got = evaluate(root)
    assert any(isinstance(w.message, panoptiq.lidar.UnmappedLabelWarning) for w in caught)
    assert_scores(got, reference_scores(root)[0])


def test_strict_refuses_unmapped_raw_labels(dataset: Path, tmp_path: Path) -> None:
    root, _ = unmapped(dataset, tmp_path / "odd")
    with pytest.raises(ValueError, match=r"08/000001.*150"):
        evaluate(root, strict=True)


def test_mapped_labels_do_not_warn(dataset: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(dataset, strict=True)


def test_label_file_size_not_a_multiple_of_4(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "bad")
    path = root / "sequences" / "09" / "labels" / "000003.label"
    path.write_bytes(path.read_bytes() + b"\x00\x00")
    with pytest.raises(ValueError, match=re.escape(str(Path("09") / "labels" / "000003.label"))) as raised:
        evaluate(root)
    assert "PNG" not in str(raised.value)


def test_prediction_of_another_point_count(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "bad")
    path = root / "predictions" / "sequences" / "08" / "predictions" / "000002.label"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"08/000002") as raised:
        evaluate(root)
    assert str(path) in str(raised.value)


def test_missing_prediction(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "bad")
    (root / "predictions" / "sequences" / "09" / "predictions" / "000004.label").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(Path("09") / "predictions" / "000004.label"))):
        evaluate(root)


def test_more_predictions_than_scans(dataset: Path, tmp_path: Path) -> None:
    root = copy(dataset, tmp_path / "bad")
    folder = root / "predictions" / "sequences" / "08" / "predictions"
    shutil.copy(folder / "000000.label", folder / "000099.label")
    with pytest.raises(ValueError, match=re.escape("000099.label")):
        evaluate(root)


def test_config_without_learning_map(dataset: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((dataset / "semantic-kitti.yaml").read_text())
    del config["learning_map"]
    path = tmp_path / "no-map.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=r"no-map\.yaml.*learning_map"):
        evaluate(dataset, data_cfg=path)


def test_config_without_a_class_the_scores_need(dataset: Path, tmp_path: Path) -> None:
    text = (dataset / "semantic-kitti.yaml").read_text().replace('80: "pole"', '80: "post"')
    path = tmp_path / "renamed.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="pole"):
        evaluate(dataset, data_cfg=path)


def test_missing_config_and_sequence(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=re.escape("nowhere.yaml")):
        evaluate(dataset, data_cfg=tmp_path / "nowhere.yaml")
    # The train split lists SemanticKITTI's sequences, which are not written.
    with pytest.raises(FileNotFoundError, match="sequence 00"):
        evaluate(dataset, split="train")
    with pytest.raises(ValueError, match="split"):
        evaluate(dataset, split="validation")
