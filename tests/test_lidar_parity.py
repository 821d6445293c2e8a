"""The LiDAR references and panoptiq.lidar against the original evaluation code, when available.

Each variable names a directory holding the original files at their repository paths:

* ``PANOPTIQ_SEMANTIC_KITTI_API_REPO``: PRBonn/semantic-kitti-api, ``auxiliary/eval_np.py``
  (``PanopticEval``) and ``evaluate_panoptic.py``, run as a subprocess on datasets written by
  ``make_semantic_kitti``; it needs PyYAML.
* ``PANOPTIQ_4DPLS_REPO``: MehmetAygun/4D-PLS, ``utils/eval_np.py`` (``Panoptic4DEval``, and its
  own copy of ``PanopticEval``, with an offset of 100000 and the ``np.float`` NumPy 2 removed,
  shimmed here) and ``utils/evaluate_4dpanoptic.py``, run as a subprocess (PyYAML).
* ``PANOPTIQ_NUSCENES_DEVKIT_REPO``: nutonomy/nuscenes-devkit,
  ``python-sdk/nuscenes/eval/panoptic/panoptic_seg_evaluator.py`` (semantic-kitti-api's
  ``PanopticEval`` without ``device``), fed Panoptic nuScenes labels ``category * 1000 + instance``
  as its ``evaluate.py`` feeds them.

Part (a) checks ``reference_lidar`` against them, part (b) ``panoptiq.lidar``. Counts must be
equal, sums and scores equal to rel 1e-12. The originals print; pytest captures it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from lidar_strategies import LidarCase, LidarConfig, Scan, half_iou_scans, lidar_cases, lidar_sequences, nuscenes_pairs
from reference_lidar import (
    SCORE_KEYS,
    Panoptic4DReference,
    PanopticReference,
    read_scores,
    remap,
    semantic_kitti_scores,
)

SKA = "PANOPTIQ_SEMANTIC_KITTI_API_REPO"
PLS = "PANOPTIQ_4DPLS_REPO"
NUSCENES = "PANOPTIQ_NUSCENES_DEVKIT_REPO"


def _root(env: str, relative: str, repo: str) -> Path:
    root = os.environ.get(env)
    if not root:
        pytest.skip(f"set {env} to a checkout of {repo} to run the parity check")
    if not (Path(root) / relative).is_file():
        pytest.fail(f"{env}={root} has no {relative}: it should point to a checkout of {repo}")
    return Path(root)


def _load(env: str, relative: str, name: str, repo: str) -> ModuleType:
    path = _root(env, relative, repo) / relative
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ska() -> ModuleType:
    return _load(SKA, "auxiliary/eval_np.py", "_ska_eval_np", "PRBonn/semantic-kitti-api")


@pytest.fixture(scope="module")
def pls() -> ModuleType:
    return _load(PLS, "utils/eval_np.py", "_4dpls_eval_np", "MehmetAygun/4D-PLS")


@pytest.fixture(scope="module")
def nuscenes() -> ModuleType:
    return _load(
        NUSCENES,
        "python-sdk/nuscenes/eval/panoptic/panoptic_seg_evaluator.py",
        "_nuscenes_panoptic_seg_evaluator",
        "nutonomy/nuscenes-devkit",
    )


def _needs_yaml(script: str) -> ModuleType:
    return pytest.importorskip("yaml", reason=f"{script} reads its config with PyYAML: pip install pyyaml")


@pytest.fixture(scope="module")
def ska_script() -> Path:
    root = _root(SKA, "evaluate_panoptic.py", "PRBonn/semantic-kitti-api")
    _needs_yaml("semantic-kitti-api's evaluate_panoptic.py")
    return root / "evaluate_panoptic.py"


@pytest.fixture(scope="module")
def pls_script() -> Path:
    root = _root(PLS, "utils/evaluate_4dpanoptic.py", "MehmetAygun/4D-PLS")
    _needs_yaml("4D-PLS's utils/evaluate_4dpanoptic.py")
    return root / "utils" / "evaluate_4dpanoptic.py"


def make_semantic_kitti(*args: Any, **kwargs: Any) -> Path:
    """panoptiq.lidar's writer; from the source tree when panoptiq.lidar is not built yet (it is
    pure numpy), so that part (a) runs without the package."""
    try:
        from panoptiq.lidar import make_semantic_kitti as make
    except ImportError:
        path = Path(__file__).parents[1] / "python" / "panoptiq" / "lidar" / "_synthetic.py"
        spec = importlib.util.spec_from_file_location("_panoptiq_lidar_synthetic", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        make = module.make_semantic_kitti
    return make(*args, **kwargs)


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def assert_close_all(got: Any, want: Any, what: str = "") -> None:
    got = np.atleast_1d(np.asarray(got, dtype=np.float64)).tolist()
    want = np.atleast_1d(np.asarray(want, dtype=np.float64)).tolist()
    assert len(got) == len(want), (what, got, want)
    assert all(close(a, b) for a, b in zip(got, want, strict=True)), (what, got, want)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The originals print, and divide 0 by 0 (NaN with a RuntimeWarning) on empty inputs."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def feed(evaluator: Any, case: LidarCase) -> Any:
    for scan in case.scans:
        evaluator.addBatch(*scan)
    return evaluator


def feed_4d(evaluator: Any, case: LidarCase) -> Any:
    for seq, scan in zip(case.sequences, case.scans, strict=True):
        evaluator.addBatch(seq, *scan)
    return evaluator


def reference(case: LidarCase) -> PanopticReference:
    ours = PanopticReference(case.config.n_classes, case.config.ignore, case.config.min_points)
    for scan in case.scans:
        ours.add(*scan)
    return ours


def reference_4d(case: LidarCase) -> Panoptic4DReference:
    ours = Panoptic4DReference(case.config.n_classes, case.config.ignore, case.config.min_points)
    for seq, scan in zip(case.sequences, case.scans, strict=True):
        ours.add(seq, *scan)
    return ours


def assert_panoptic_like(got: Any, want: Any) -> None:
    """Two PanopticEval-like objects (getPQ, getSemIoU, getSemAcc, getSemIoUStats) agree."""
    with quiet():
        pq_got, pq_want = got.getPQ(), want.getPQ()
        iou_got, iou_want = got.getSemIoU(), want.getSemIoU()
        acc_got, acc_want = got.getSemAcc(), want.getSemAcc()
    for name, a, b in zip(("PQ", "SQ", "RQ", "pq_all", "sq_all", "rq_all"), pq_got, pq_want, strict=True):
        assert_close_all(a, b, name)
    assert_close_all(iou_got[0], iou_want[0], "iou_mean")
    assert_close_all(iou_got[1], iou_want[1], "iou")
    assert_close_all(acc_got, acc_want, "acc")
    for a, b in zip(got.getSemIoUStats(), want.getSemIoUStats(), strict=True):
        assert np.asarray(a).tolist() == np.asarray(b).tolist()


def assert_reference_equals_original(ours: PanopticReference, theirs: Any) -> None:
    assert theirs.pan_tp.tolist() == ours.tp
    assert theirs.pan_fp.tolist() == ours.fp
    assert theirs.pan_fn.tolist() == ours.fn
    assert_close_all(theirs.pan_iou, [float(v) for v in ours.iou_sum], "iou sums")
    assert theirs.px_iou_conf_matrix.tolist() == ours.confusion.matrix().tolist()
    with quiet():
        for name, a, b in zip(("PQ", "SQ", "RQ", "pq", "sq", "rq"), theirs.getPQ(), ours.pq(), strict=True):
            assert_close_all(a, b, name)
        iou_mean, iou = theirs.getSemIoU()
        acc = theirs.getSemAcc()
    assert_close_all(iou_mean, ours.sem_iou()[0], "iou_mean")
    assert_close_all(iou, ours.sem_iou()[1], "iou")
    assert_close_all(acc, ours.sem_acc(), "acc")
    assert [np.asarray(a).tolist() for a in theirs.getSemIoUStats()] == [
        list(map(float, s)) for s in ours.sem_iou_stats()
    ]


def assert_4d_equal(got: tuple, want: tuple) -> None:
    names = ("LSTQ", "AQ_overall", "AQ", "AQ_p", "AQ_r", "iou", "iou_mean", "iou_p", "iou_r")
    assert len(got) == len(want) == 9
    for name, a, b in zip(names, got, want, strict=True):
        assert_close_all(a, b, name)


def assert_4d_tables_equal(ours: Panoptic4DReference, theirs: Any) -> None:
    """4D-PLS's accumulated tables equal ours (its intersections of ground-truth id 1, instance
    0 kept when above min_points, are never read and are left out)."""
    offset = theirs.offset
    assert list(theirs.sequences) == list(ours.sequences)
    for seq, state in ours.sequences.items():
        assert {int(k): int(v) for k, v in theirs.preds[seq].items()} == dict(state["pred"])
        for c in range(ours.n_classes):
            gts = {int(k): int(v) for k, v in theirs.gts[seq][c].items()}
            assert gts == {g: n for (cl, g), n in state["gt"].items() if cl == c}
            common = {int(k): int(v) for k, v in theirs.intersects[seq][c].items() if int(k) // offset != 1}
            assert common == {p + offset * g: n for (cl, g, p), n in state["common"].items() if cl == c}


# ---------------------------------------------------------------------------------------------
# (a) the references against the originals
# ---------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(lidar_cases())
def test_reference_equals_semantic_kitti_api(ska: ModuleType, case: LidarCase) -> None:
    cfg = case.config
    with quiet():
        theirs = feed(ska.PanopticEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
    assert_reference_equals_original(reference(case), theirs)


@settings(max_examples=40, deadline=None)
@given(half_iou_scans())
def test_reference_at_half_iou_equals_semantic_kitti_api(ska: ModuleType, drawn: tuple[LidarConfig, Scan, int]) -> None:
    cfg, scan, tp = drawn
    case = LidarCase(cfg, [scan])
    with quiet():
        theirs = feed(ska.PanopticEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
    ours = reference(case)
    assert ours.tp[1] == tp
    assert_reference_equals_original(ours, theirs)


def test_reference_ground_truth_ids_past_2_31_where_semantic_kitti_api_overflows(ska: ModuleType) -> None:
    # evaluate_panoptic.py passes the whole label as the instance: instance 2**15 of a car gives
    # (2**15 << 16 | 10) + 1 > 2**31, and 2**32 * that overflows int64.
    label = np.full(5, (2**15 << 16) | 10, dtype=np.uint32)
    x_sem = y_sem = np.ones(5, dtype=np.int64)
    with quiet():
        theirs = ska.PanopticEval(2, None, [0], min_points=1)
    with pytest.raises(KeyError):
        theirs.addBatch(x_sem, label, y_sem, label)
    ours = PanopticReference(2, [0], 1)
    ours.add(x_sem, label, y_sem, label)
    assert (ours.tp, ours.fp, ours.fn) == ([0, 1], [0, 0], [0, 0])


@settings(max_examples=60, deadline=None)
@given(nuscenes_pairs())
def test_reference_equals_nuscenes_devkit(nuscenes: ModuleType, pair: tuple[np.ndarray, np.ndarray]) -> None:
    truth, pred = pair
    # evaluate.py: the prediction's class is label // 1000, the instance the whole label.
    args = (pred // 1000, pred, truth // 1000, truth)
    theirs = nuscenes.PanopticEval(n_classes=17, ignore=[0], min_points=15)
    theirs.addBatch(*args)
    ours = PanopticReference(17, [0], 15)
    ours.add(*args)
    assert_reference_equals_original(ours, theirs)


def test_nuscenes_panoptic_npz_round_trip(tmp_path: Path) -> None:
    # <sample_data token>_panoptic.npz, key "data" (nuscenes.utils.data_io.load_bin_file).
    labels = np.array([0, 4001, 4001, 11000, 17000 - 1], dtype=np.uint16)
    np.savez_compressed(tmp_path / "token_panoptic.npz", data=labels)
    loaded = np.load(tmp_path / "token_panoptic.npz")["data"]
    assert loaded.dtype == np.uint16
    assert loaded.tolist() == labels.tolist()


@settings(max_examples=40, deadline=None)
@given(nuscenes_pairs())
def test_reference_equals_4dpls_copy_of_panoptic_eval(pls: ModuleType, pair: tuple[np.ndarray, np.ndarray]) -> None:
    # 4D-PLS's PanopticEval: offset 100000 (ids below it here) and np.float, gone in NumPy 2.
    truth, pred = pair
    args = (pred // 1000, pred, truth // 1000, truth)
    with pytest.MonkeyPatch.context() as patch, quiet():
        patch.setattr(np, "float", float, raising=False)
        theirs = pls.PanopticEval(17, None, [0], min_points=15)
        theirs.addBatch(*args)
    ours = PanopticReference(17, [0], 15)
    ours.add(*args)
    assert_reference_equals_original(ours, theirs)


@settings(max_examples=100, deadline=None)
@given(lidar_sequences())
def test_reference_4d_equals_4dpls(pls: ModuleType, case: LidarCase) -> None:
    cfg = case.config
    with quiet():
        theirs = feed_4d(pls.Panoptic4DEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
        first = theirs.getPQ4D()
    ours = reference_4d(case)
    assert_4d_tables_equal(ours, theirs)
    assert_4d_equal(ours.pq4d(), first)


def _4d_example() -> LidarCase:
    """One car (class 1) of 4 points in 2 scans, predicted as one instance, then split."""
    one = Scan(*(np.array(v, dtype=np.int64) for v in ([1, 1, 1, 1], [3, 3, 3, 3], [1, 1, 1, 1], [5, 5, 5, 5])))
    two = Scan(*(np.array(v, dtype=np.int64) for v in ([1, 1, 1, 1], [3, 3, 4, 4], [1, 1, 1, 1], [5, 5, 5, 5])))
    return LidarCase(LidarConfig(3, [0], 1), [one, two], ["08", "08"])


def test_4dpls_getpq4d_adds_its_sums_again_on_every_call(pls: ModuleType) -> None:
    case = _4d_example()
    with quiet():
        theirs = feed_4d(pls.Panoptic4DEval(3, None, [0], min_points=1), case)
        first, second = theirs.getPQ4D(), theirs.getPQ4D()
    ours = reference_4d(case)
    # Tube of 8 points; prediction 3: 6 points, all on it; 4: 2 points. 36/8/8 + 4/8/8 = 5/8.
    assert first[1] == 5 / 8
    assert second[1] == 2 * first[1]
    assert_4d_equal(ours.pq4d(), first)
    assert_4d_equal(ours.pq4d(), first)


# -- evaluate_panoptic.py and evaluate_4dpanoptic.py on datasets -------------------------------

#: name -> (make_semantic_kitti arguments, min_inst_points)
DATASETS = {
    "one-sequence": ({"sequences": ("08",), "scans": 6, "points": 1500, "seed": 0}, 50),
    "two-sequences": ({"sequences": ("08", "09"), "scans": 4, "points": 1200, "seed": 3}, 15),
    "big-minimum": ({"sequences": ("08",), "scans": 3, "points": 2500, "seed": 7}, 200),
}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lidar-datasets")
    return {name: make_semantic_kitti(root / name, **kwargs) for name, (kwargs, _) in DATASETS.items()}


def run_script(script: Path, *args: Any) -> subprocess.CompletedProcess[str]:
    # No timeout: a slow machine is not a failure.
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, check=False, cwd=script.parent
    )


def script_scores(script: Path, dataset: Path, out: Path, *extra: Any) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    done = run_script(
        script,
        "--dataset",
        dataset,
        "--predictions",
        dataset / "predictions",
        "--data_cfg",
        dataset / "semantic-kitti.yaml",
        "--output",
        out,
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return read_scores((out / "scores.txt").read_text())


def label_pairs(dataset: Path, predictions: Path, config: dict) -> Iterator[tuple[str, Path, Path]]:
    """(sequence, label file, prediction file) of the valid split, in the script's order."""
    for number in config["split"]["valid"]:
        seq = f"{int(number):02d}"
        for label in sorted((dataset / "sequences" / seq / "labels").glob("*.label")):
            yield seq, label, predictions / "sequences" / seq / "predictions" / label.name


def file_scores(dataset: Path, min_inst_points: int, limit: int | None = None) -> dict[str, float]:
    import yaml

    config = yaml.safe_load((dataset / "semantic-kitti.yaml").read_text())
    scans = [
        (np.fromfile(label, dtype=np.uint32), np.fromfile(pred, dtype=np.uint32))
        for _, label, pred in label_pairs(dataset, dataset / "predictions", config)
    ]
    return semantic_kitti_scores(scans, config, min_inst_points=min_inst_points, limit=limit)[0]


def assert_scores_equal(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(want) == set(SCORE_KEYS), (sorted(got), sorted(want))
    for key in SCORE_KEYS:
        assert close(got[key], want[key]), (key, got[key], want[key])


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_reference_scores_equal_evaluate_panoptic(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path, name: str
) -> None:
    min_inst_points = DATASETS[name][1]
    theirs = script_scores(ska_script, datasets[name], tmp_path, "--min_inst_points", min_inst_points)
    assert_scores_equal(file_scores(datasets[name], min_inst_points), theirs)


def test_evaluate_panoptic_limit_stops_with_a_name_error(ska_script: Path, datasets: dict[str, Path]) -> None:
    dataset = datasets["one-sequence"]
    done = run_script(
        ska_script, "--dataset", dataset, "--predictions", dataset / "predictions", "--data_cfg",
        dataset / "semantic-kitti.yaml", "--limit", "100",
    )  # fmt: skip
    assert done.returncode != 0
    assert "NameError" in done.stderr
    assert "u_label_sem_cat" in done.stderr


def truncated_copy(dataset: Path, into: Path, limit: int) -> Path:
    """The dataset with every label and prediction file cut to its first ``limit`` points."""
    shutil.copytree(dataset, into)
    for path in into.rglob("*.label"):
        np.fromfile(path, dtype=np.uint32)[:limit].tofile(path)
    return into


def test_reference_limit_equals_evaluate_panoptic_on_cut_files(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path
) -> None:
    cut = truncated_copy(datasets["two-sequences"], tmp_path / "cut", 700)
    theirs = script_scores(ska_script, cut, tmp_path / "out", "--min_inst_points", 15)
    assert_scores_equal(file_scores(datasets["two-sequences"], 15, limit=700), theirs)


def with_unmapped_labels(dataset: Path, into: Path) -> Path:
    """A copy where some ground-truth points have raw label 150 and some predictions 123, raw
    labels learning_map does not list (evaluate_panoptic.py maps them to class 0)."""
    shutil.copytree(dataset, into)
    for k, path in enumerate(sorted(into.rglob("*.label"))):
        label = np.fromfile(path, dtype=np.uint32)
        label[k % 7 :: 97] = (label[k % 7 :: 97] & 0xFFFF0000) | (150 if "labels" in path.parts else 123)
        label.tofile(path)
    return into


def test_reference_unmapped_raw_labels_equal_evaluate_panoptic(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path
) -> None:
    odd = with_unmapped_labels(datasets["one-sequence"], tmp_path / "odd")
    theirs = script_scores(ska_script, odd, tmp_path / "out")
    assert_scores_equal(file_scores(odd, 50), theirs)


def parse_4d_output(stdout: str) -> dict[str, float]:
    out = {}
    for line in stdout.splitlines():
        for key, prefix in (("LSTQ", "LSTQ:"), ("LAQ", "S_assoc (LAQ):"), ("LSQ", "S_cls (LSQ):")):
            if line.startswith(prefix):
                out[key] = float(line[len(prefix) :])
    assert set(out) == {"LSTQ", "LAQ", "LSQ"}, stdout
    return out


def feed_4d_files(evaluator: Any, dataset: Path) -> Any:
    """What evaluate_4dpanoptic.py feeds: the sequence folder name, classes through
    learning_map, instances ``label >> 16`` (not the whole label, unlike evaluate_panoptic.py)."""
    import yaml

    config = yaml.safe_load((dataset / "semantic-kitti.yaml").read_text())
    learning_map = {int(k): int(v) for k, v in config["learning_map"].items()}
    for seq, label_file, pred_file in label_pairs(dataset, dataset / "predictions", config):
        label = np.fromfile(label_file, dtype=np.uint32)
        pred = np.fromfile(pred_file, dtype=np.uint32)
        x_sem = np.array(remap(pred, learning_map), dtype=np.int64)
        y_sem = np.array(remap(label, learning_map), dtype=np.int64)
        if isinstance(evaluator, Panoptic4DReference):
            evaluator.add(seq, x_sem, pred >> 16, y_sem, label >> 16)
        else:
            evaluator.addBatch(seq, x_sem, pred >> 16, y_sem, label >> 16)
    return evaluator


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_reference_4d_equals_evaluate_4dpanoptic(pls_script: Path, datasets: dict[str, Path], name: str) -> None:
    dataset, min_inst_points = datasets[name], DATASETS[name][1]
    done = run_script(
        pls_script, "--dataset", dataset, "--predictions", dataset / "predictions", "--data_cfg",
        dataset / "semantic-kitti.yaml", "--min_inst_points", min_inst_points,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    theirs = parse_4d_output(done.stdout)
    ours = feed_4d_files(Panoptic4DReference(20, [0], min_inst_points), dataset).pq4d()
    assert close(ours[0], theirs["LSTQ"]), (ours[0], theirs)
    assert close(ours[1], theirs["LAQ"]), (ours[1], theirs)
    assert close(ours[6], theirs["LSQ"]), (ours[6], theirs)


# ---------------------------------------------------------------------------------------------
# (b) panoptiq.lidar against the originals
# ---------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(lidar_cases())
def test_panoptic_eval_equals_semantic_kitti_api(ska: ModuleType, case: LidarCase) -> None:
    from panoptiq.lidar import PanopticEval

    cfg = case.config
    with quiet():
        theirs = feed(ska.PanopticEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
    assert_panoptic_like(feed(PanopticEval(*cfg.args(), min_points=cfg.min_points), case), theirs)


@settings(max_examples=30, deadline=None)
@given(half_iou_scans())
def test_panoptic_eval_at_half_iou_equals_semantic_kitti_api(
    ska: ModuleType, drawn: tuple[LidarConfig, Scan, int]
) -> None:
    from panoptiq.lidar import PanopticEval

    cfg, scan, _ = drawn
    case = LidarCase(cfg, [scan])
    with quiet():
        theirs = feed(ska.PanopticEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
    assert_panoptic_like(feed(PanopticEval(*cfg.args(), min_points=cfg.min_points), case), theirs)


@settings(max_examples=40, deadline=None)
@given(nuscenes_pairs())
def test_panoptic_eval_equals_nuscenes_devkit(nuscenes: ModuleType, pair: tuple[np.ndarray, np.ndarray]) -> None:
    from panoptiq.lidar import PanopticEval

    truth, pred = pair
    args = (pred // 1000, pred, truth // 1000, truth)
    theirs = nuscenes.PanopticEval(n_classes=17, ignore=[0], min_points=15)
    theirs.addBatch(*args)
    ours = PanopticEval(17, ignore=[0], min_points=15)
    ours.addBatch(*args)
    assert_panoptic_like(ours, theirs)


@settings(max_examples=100, deadline=None)
@given(lidar_sequences())
def test_panoptic_4d_eval_equals_4dpls(pls: ModuleType, case: LidarCase) -> None:
    from panoptiq.lidar import Panoptic4DEval

    cfg = case.config
    with quiet():
        theirs = feed_4d(pls.Panoptic4DEval(cfg.n_classes, None, cfg.ignore, min_points=cfg.min_points), case)
        want = theirs.getPQ4D()
        ours = feed_4d(Panoptic4DEval(*cfg.args(), min_points=cfg.min_points), case)
        got = ours.getPQ4D()
        again = ours.getPQ4D()
    assert_4d_equal(got, want)
    assert_4d_equal(again, want)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_evaluate_semantic_kitti_equals_evaluate_panoptic(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path, name: str
) -> None:
    from panoptiq.lidar import evaluate_semantic_kitti

    dataset, min_inst_points = datasets[name], DATASETS[name][1]
    theirs = script_scores(ska_script, dataset, tmp_path / "theirs", "--min_inst_points", min_inst_points)
    result = evaluate_semantic_kitti(
        dataset,
        dataset / "predictions",
        data_cfg=dataset / "semantic-kitti.yaml",
        min_inst_points=min_inst_points,
        output=tmp_path / "ours",
    )
    assert_scores_equal({k: result[k] for k in SCORE_KEYS}, theirs)
    assert_scores_equal(read_scores((tmp_path / "ours" / "scores.txt").read_text()), theirs)


def test_evaluate_semantic_kitti_limit_equals_evaluate_panoptic_on_cut_files(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path
) -> None:
    from panoptiq.lidar import evaluate_semantic_kitti

    dataset = datasets["two-sequences"]
    cut = truncated_copy(dataset, tmp_path / "cut", 700)
    theirs = script_scores(ska_script, cut, tmp_path / "out", "--min_inst_points", 15)
    result = evaluate_semantic_kitti(
        dataset, dataset / "predictions", data_cfg=dataset / "semantic-kitti.yaml", limit=700, min_inst_points=15
    )
    assert_scores_equal({k: result[k] for k in SCORE_KEYS}, theirs)


def test_evaluate_semantic_kitti_unmapped_labels_equal_evaluate_panoptic_with_a_warning(
    ska_script: Path, datasets: dict[str, Path], tmp_path: Path
) -> None:
    from panoptiq.lidar import evaluate_semantic_kitti

    odd = with_unmapped_labels(datasets["one-sequence"], tmp_path / "odd")
    theirs = script_scores(ska_script, odd, tmp_path / "out")
    with pytest.warns(UserWarning, match="learning_map"):
        result = evaluate_semantic_kitti(odd, odd / "predictions", data_cfg=odd / "semantic-kitti.yaml")
    assert_scores_equal({k: result[k] for k in SCORE_KEYS}, theirs)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_panoptic_4d_eval_equals_evaluate_4dpanoptic(pls_script: Path, datasets: dict[str, Path], name: str) -> None:
    from panoptiq.lidar import Panoptic4DEval

    dataset, min_inst_points = datasets[name], DATASETS[name][1]
    done = run_script(
        pls_script, "--dataset", dataset, "--predictions", dataset / "predictions", "--data_cfg",
        dataset / "semantic-kitti.yaml", "--min_inst_points", min_inst_points,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    theirs = parse_4d_output(done.stdout)
    got = feed_4d_files(Panoptic4DEval(20, None, [0], min_points=min_inst_points), dataset).getPQ4D()
    assert close(got[0], theirs["LSTQ"]), (got[0], theirs)
    assert close(got[1], theirs["LAQ"]), (got[1], theirs)
    assert close(got[6], theirs["LSQ"]), (got[6], theirs)
