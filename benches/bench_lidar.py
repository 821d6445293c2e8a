"""LiDAR panoptic: panoptiq's evaluate_semantic_kitti and PanopticEval against semantic-kitti-api's, side by side.

Run: python benches/bench_lidar.py [--scans 1000] [--points 120000] [--rounds 5]
     [--semantic-kitti-api DIR] [--memory-scans 100,400,1600] [--memory-points 20000] [--generator bench]
     python benches/bench_lidar.py --smoke    (CI: a few small scans, well under a minute)

Data: one synthetic SemanticKITTI-like sequence (08) of ``--scans`` scans of about ``--points``
points, 19 classes and the ignored class 0, tens of things a scan and a network's errors (see
lidar_data.py), written once and cached under ``--cache`` by lidar_data.VERSION. Every 10th scan
also carries the exact cases (IoU of exactly 0.5, segments of exactly 50 points, ignored ground
truth, the whole label as the instance...), which are also checked one at a time.
``--generator panoptiq`` runs the same on panoptiq.lidar's own ``make_semantic_kitti`` data
instead (fast enough, but with about 10 things of 4 to 500 points a scan at 120k points).

The reference is semantic-kitti-api itself (``--semantic-kitti-api``, default
$PANOPTIQ_SEMANTIC_KITTI_API_REPO; skipped, with the reason printed, when it is not there):

* the whole script against the whole function: ``python evaluate_panoptic.py --dataset D
  --predictions P --split valid --data_cfg CFG --output OUT`` run as a subprocess (wall time,
  interpreter start-up included) against ``panoptiq.lidar.evaluate_semantic_kitti(D, P, "valid",
  CFG, min_inst_points=50, output=OUT)`` called in this process (and, for a like-for-like wall
  time, ``python -m panoptiq lidar`` as a subprocess). Files are in the page cache for both.
  Checked: the script's scores.txt (YAML) against the function's dict, within 1e-12.
* the class alone: the script's ``auxiliary/eval_np.py`` ``PanopticEval.addBatch`` against
  ``panoptiq.lidar.PanopticEval.addBatch``, each fed the same arrays (the script's: int32 classes
  through its lookup table, the uint32 labels as instances), file reading and mapping not timed.
  Checked: confusion matrix and tp/fp/fn equal, IoU sums within 1e-12 (relative), every class's
  PQ/SQ/RQ/IoU and the script's scores from them within 1e-12 (and the reference class fed so
  gives the script's scores.txt bit for bit).
* peak memory: evaluate_semantic_kitti on 100, 400, 1600 scans of a smaller size, each in its own
  process (VmHWM): it must stay flat; the script's measured likewise.

Ratios are reference / panoptiq (target: at least 50x for the whole script against the
function). Exits non-zero if a result differs, after printing every difference.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import re
import resource
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import lidar_data  # noqa: E402

from panoptiq.lidar import PanopticEval, evaluate_semantic_kitti  # noqa: E402
from panoptiq.lidar._kitti import summarize  # noqa: E402

SCRIPT = "evaluate_panoptic.py"
CLASS_FILE = "auxiliary/eval_np.py"
ENV = "PANOPTIQ_SEMANTIC_KITTI_API_REPO"
N_CLASSES, IGNORE, MIN_POINTS = 20, [0], 50
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
TOLERANCE = 1e-12
#: Differences found, printed as they are found and summed up at the end.
MISMATCHES: list[str] = []


def mismatch(message: str) -> None:
    MISMATCHES.append(message)
    print(f"  MISMATCH: {message}", flush=True)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def reference_repo(option: str | None) -> Path | str:
    """The semantic-kitti-api checkout, or the reason it is not measured."""
    root = option or os.environ.get(ENV)
    if not root:
        return f"no checkout of PRBonn/semantic-kitti-api given (--semantic-kitti-api DIR or ${ENV})"
    for relative in (SCRIPT, CLASS_FILE):
        if not (Path(root) / relative).is_file():
            return f"{Path(root) / relative} does not exist: --semantic-kitti-api / ${ENV} should point to a checkout"
    return Path(root)


def reference_class(repo: Path) -> type:
    spec = importlib.util.spec_from_file_location("_bench_semantic_kitti_eval_np", repo / CLASS_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PanopticEval


def quiet_reference(cls: type) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its ignored and included classes
        return cls(N_CLASSES, None, IGNORE, min_points=MIN_POINTS)


def scan_files(folder: Path) -> list[tuple[Path, Path]]:
    labels = folder / "sequences" / lidar_data.SEQUENCE / "labels"
    preds = folder / "predictions" / "sequences" / lidar_data.SEQUENCE / "predictions"
    return [(labels / name, preds / name) for name in sorted(os.listdir(labels)) if name.endswith(".label")]


def script_arrays(label_file: Path, pred_file: Path, lut: np.ndarray) -> tuple[np.ndarray, ...]:
    """What evaluate_panoptic.py hands to addBatch for one scan: (x_sem, x_inst, y_sem, y_inst)."""
    label = np.fromfile(label_file, dtype=np.uint32)
    pred = np.fromfile(pred_file, dtype=np.uint32)
    return lut[pred & 0xFFFF], pred, lut[label & 0xFFFF], label


def summarized(evaluator: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The script's scores and per-class table of an evaluator (panoptiq's or the reference's:
    both have getPQ and getSemIoU), by the script's own rules (panoptiq.lidar's summarize)."""
    names = {raw: name for raw, (name, _) in lidar_data.RAW_LABELS.items()}
    return summarize(evaluator, lidar_data.LEARNING_MAP_INV, names, "the benchmark's config")


def compare_floats(label: str, ours: dict[str, float], theirs: dict[str, float]) -> tuple[int, int, float]:
    """Lists every key differing by more than TOLERANCE; returns (compared, bit-equal, largest difference)."""
    worst, equal = 0.0, 0
    for key, ref in theirs.items():
        if key not in ours:
            mismatch(f"{label}: {key} missing from panoptiq's")
            continue
        diff = abs(float(ours[key]) - float(ref))
        worst = max(worst, diff)
        equal += float(ours[key]) == float(ref)
        if not diff <= TOLERANCE:
            mismatch(f"{label}: {key} {float(ours[key])!r} vs the reference's {float(ref)!r} (diff {diff:.2e})")
    return len(theirs), equal, worst


def compare_classes(label: str, ours: dict, theirs: dict) -> tuple[int, int, float]:
    flat_ours = {f"{c}.{k}": v for c, values in ours.items() for k, v in values.items()}
    flat_theirs = {f"{c}.{k}": v for c, values in theirs.items() for k, v in values.items()}
    return compare_floats(label, flat_ours, flat_theirs)


def compare_counts(label: str, ours: PanopticEval, theirs: Any) -> float:
    """Counts equal, IoU sums within TOLERANCE (relative); returns the largest relative IoU-sum difference."""
    for name in ("px_iou_conf_matrix", "pan_tp", "pan_fp", "pan_fn"):
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name))
        if a.shape != b.shape or not np.array_equal(a, b):
            where = np.argwhere(a != b) if a.shape == b.shape else []
            detail = "; ".join(f"{tuple(i.tolist())}: {a[tuple(i)]} vs {b[tuple(i)]}" for i in where[:8])
            mismatch(f"{label}: {name} differs ({len(where)} cells{': ' + detail if detail else ''})")
    a, b = np.asarray(ours.pan_iou, dtype=np.float64), np.asarray(theirs.pan_iou, dtype=np.float64)
    rel = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
    for c in np.flatnonzero(rel > TOLERANCE):
        mismatch(f"{label}: IoU sum of class {c} {a[c]!r} vs {b[c]!r}")
    return float(rel.max(initial=0.0))


def script_lut(folder: Path) -> np.ndarray:
    """The script's lookup table from the dataset's config: raw label -> class, int32, zeros past the map."""
    with open(folder / "semantic-kitti.yaml") as f:
        learning_map = yaml.safe_load(f)["learning_map"]
    lut = np.zeros(max(learning_map) + 100, dtype=np.int32)
    lut[list(learning_map)] = list(learning_map.values())
    return lut


def dataset(args: argparse.Namespace, cache: Path, scans: int, points: int, seed: int) -> Path:
    """lidar_data's dataset, or (--generator panoptiq) panoptiq.lidar's make_semantic_kitti's, cached."""
    if args.generator == "bench":
        return lidar_data.dataset(cache, scans, points, seed=seed)
    from panoptiq.lidar import _synthetic

    source = hashlib.sha256(Path(_synthetic.__file__).read_bytes()).hexdigest()[:12]
    folder = cache / f"make_semantic_kitti-{source}-{scans}x{points}-s{seed}"
    if not (folder / "done").exists():
        print(f"generating {scans} scans of ~{points} points with make_semantic_kitti in {folder}", flush=True)
        _synthetic.make_semantic_kitti(folder, ("08",), scans=scans, points=points, seed=seed)
        (folder / "done").write_text(source + "\n")
    return folder


def data_summary(folder: Path, sample: int = 20) -> str:
    """Points, things a scan and their sizes, over the first scans."""
    lut = script_lut(folder)
    points, things, cars, people, sizes = [], [], [], [], []
    for label_file, _ in scan_files(folder)[:sample]:
        label = np.fromfile(label_file, dtype=np.uint32)
        ids, counts = np.unique(label[(label >> 16) > 0], return_counts=True)
        classes = lut[ids & 0xFFFF]
        points.append(label.size)
        things.append(ids.size)
        cars.append(int((classes == 1).sum()))
        people.append(int((classes == 6).sum()))
        sizes.append(counts)
    s = np.concatenate(sizes)
    return (
        f"over the first {len(points)} scans: {np.mean(points):,.0f} points a scan, {np.mean(things):.1f} things "
        f"({np.mean(cars):.1f} cars, {np.mean(people):.1f} persons), thing sizes min/median/max "
        f"{s.min()}/{int(np.median(s))}/{s.max()} points, {100 * np.mean(s < MIN_POINTS):.0f}% under {MIN_POINTS}"
    )


# --------------------------------------------------------------------------------------------
# The whole script against the whole function
# --------------------------------------------------------------------------------------------


def script_command(repo: Path, folder: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        SCRIPT,
        "--dataset",
        str(folder),
        "--predictions",
        str(folder / "predictions"),
        "--split",
        "valid",
        "--data_cfg",
        str(folder / "semantic-kitti.yaml"),
        "--output",
        str(output),
    ]


def run_script(repo: Path, folder: Path, output: Path) -> tuple[float, dict[str, float], float | None]:
    output.mkdir(parents=True, exist_ok=True)
    (output / "scores.txt").unlink(missing_ok=True)
    seconds, done = timed(
        lambda: subprocess.run(script_command(repo, folder, output), cwd=repo, capture_output=True, text=True)
    )
    if done.returncode != 0:
        raise SystemExit(f"{SCRIPT} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    own = re.search(r"Completed in ([0-9.eE+-]+) s", done.stdout)
    with open(output / "scores.txt") as f:
        return seconds, yaml.safe_load(f), float(own.group(1)) if own else None


def cli_command(folder: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "panoptiq",
        "lidar",
        "--dataset",
        str(folder),
        "--predictions",
        str(folder / "predictions"),
        "--split",
        "valid",
        "--data_cfg",
        str(folder / "semantic-kitti.yaml"),
        "--output",
        str(output),
    ]


def read_floor(folder: Path) -> float:
    """Reading every label file (both sides) into one reused buffer, 1 thread, nothing else."""
    files = [path for pair in scan_files(folder) for path in pair]
    buffer = bytearray(max(path.stat().st_size for path in files))
    start = time.perf_counter()
    for path in files:
        with open(path, "rb", buffering=0) as f:
            f.readinto(buffer)
    return time.perf_counter() - start


def function(folder: Path, output: Path | None, threads: int | None = None) -> dict[str, Any]:
    return evaluate_semantic_kitti(
        folder,
        folder / "predictions",
        "valid",
        folder / "semantic-kitti.yaml",
        min_inst_points=MIN_POINTS,
        output=output,
        num_threads=threads,
    )


def bench_whole(args: argparse.Namespace, folder: Path, repo: Path | str, work: Path) -> tuple[float | None, dict]:
    scans = len(scan_files(folder))
    cores = os.cpu_count() or 1
    function(folder, None)  # the files into the page cache, and the allocator warm
    times: dict[str, list[float]] = {"function": [], "function 1 thread": [], "cli": [], "floor": []}
    outputs: dict[str, Any] = {}
    for r in range(args.rounds):
        order = [
            ("function", lambda: function(folder, work / "panoptiq-out")),
            ("function 1 thread", lambda: function(folder, work / "panoptiq-out-1", 1)),
            ("cli", lambda: subprocess.run(cli_command(folder, work / "cli-out"), capture_output=True, check=True)),
            ("floor", lambda: None),
        ]
        for label, call in order if r % 2 == 0 else order[::-1]:
            seconds, outputs[label] = timed(call)
            times[label].append(read_floor(folder) if label == "floor" else seconds)
    result = outputs["function"]
    if outputs["function 1 thread"] != result:
        mismatch("evaluate_semantic_kitti: the results on 1 thread and on all differ")
    with open(work / "cli-out" / "scores.txt") as f:
        compare_floats(
            "python -m panoptiq lidar's scores.txt vs the function's",
            yaml.safe_load(f),
            {k: result[k] for k in SCORE_KEYS},
        )
    median = {label: statistics.median(s) for label, s in times.items()}

    print(f"\n### The whole script vs the whole function: {scans:,} scans of ~{args.points:,} points\n")
    print("| tool | time | ms / scan | reference / panoptiq |\n|---|---:|---:|---:|")
    rows = [
        (f"panoptiq evaluate_semantic_kitti (in process), {cores} threads", median["function"]),
        ("panoptiq evaluate_semantic_kitti (in process), 1 thread", median["function 1 thread"]),
        (f"python -m panoptiq lidar (subprocess: start-up and imports included), {cores} threads", median["cli"]),
        ("floor: reading the label files alone into one reused buffer, 1 thread", median["floor"]),
    ]
    ref_seconds = None
    if isinstance(repo, Path):
        runs = [run_script(repo, folder, work / "script-out") for _ in range(args.reference_rounds)]
        ref_seconds = statistics.median(r[0] for r in runs)
        own = [r[2] for r in runs if r[2] is not None]
        theirs = runs[0][1]
        rows.append((f"semantic-kitti-api {SCRIPT} (subprocess, 1 process)", ref_seconds))
    for label, seconds in rows:
        ratio = f"{ref_seconds / seconds:.1f}x" if ref_seconds else "-"
        print(f"| {label} | {seconds:.2f} s | {1000 * seconds / scans:.2f} | {ratio} |")
    print(f"\n  (median of {args.rounds} rounds for panoptiq, {args.reference_rounds} for the reference)")
    print(f"  panoptiq {cores} threads vs 1: {median['function 1 thread'] / median['function']:.2f}x")
    if not isinstance(repo, Path):
        print(f"  semantic-kitti-api: not measured: {repo}")
        return None, result
    assert ref_seconds is not None
    if own:
        print(f"  the script's own 'Completed in' (its loop, after imports): {statistics.median(own):.2f} s")
    print(
        f"  whole script / whole function: {ref_seconds / median['function']:.1f}x (target >= 50x); "
        f"script / python -m panoptiq lidar, both subprocesses: {ref_seconds / median['cli']:.1f}x; "
        f"script / the reading floor: {ref_seconds / median['floor']:.1f}x (the most any 1-thread reader could reach)"
    )
    compared, equal, worst = compare_floats("the script's scores.txt vs evaluate_semantic_kitti", result, theirs)
    print(
        f"  check: the script's scores.txt vs the function's dict: {compared} scores, {equal} bit for bit equal, "
        f"largest difference {worst:.1e} (limit {TOLERANCE:.0e})"
    )
    print("  " + ", ".join(f"{k} {100 * theirs[k]:.4f}" for k in ("pq_mean", "pq_dagger", "iou_mean", "pq_things")))
    return ref_seconds / median["function"], result


# --------------------------------------------------------------------------------------------
# The class alone
# --------------------------------------------------------------------------------------------


def bench_class(folder: Path, ref_cls: type | None, function_result: dict, script_scores_: dict | None) -> float | None:
    files = scan_files(folder)
    lut = script_lut(folder)
    ours = PanopticEval(N_CLASSES, None, IGNORE, min_points=MIN_POINTS)
    theirs = quiet_reference(ref_cls) if ref_cls else None
    spent = {"panoptiq": 0.0, "reference": 0.0}
    for index, (label_file, pred_file) in enumerate(files):
        arrays = script_arrays(label_file, pred_file, lut)
        order = [("panoptiq", ours), ("reference", theirs)]
        for name, evaluator in order if index % 2 == 0 else order[::-1]:
            if evaluator is not None:
                start = time.perf_counter()
                evaluator.addBatch(*arrays)
                spent[name] += time.perf_counter() - start
    scans = len(files)
    print(f"\n### The class alone: addBatch on the script's arrays, {scans:,} scans (reading and mapping not timed)\n")
    print("| tool | time | ms / scan | reference / panoptiq |\n|---|---:|---:|---:|")
    ratio = spent["reference"] / spent["panoptiq"] if theirs is not None else None
    print(
        f"| panoptiq.lidar.PanopticEval.addBatch | {spent['panoptiq']:.2f} s | "
        f"{1000 * spent['panoptiq'] / scans:.2f} | {f'{ratio:.1f}x' if ratio else '-'} |"
    )
    mine_classes = summarized(ours)[1]
    # panoptiq's class and its function count the same: their per-class scores are the same.
    compare_classes("PanopticEval vs evaluate_semantic_kitti, per class", mine_classes, function_result["classes"])
    if theirs is None:
        print("\n  semantic-kitti-api: not measured (see above)")
        return None
    print(
        f"| semantic-kitti-api PanopticEval.addBatch | {spent['reference']:.2f} s | "
        f"{1000 * spent['reference'] / scans:.2f} | 1.0x |"
    )
    print(f"\n  class alone, semantic-kitti-api / panoptiq: {ratio:.1f}x")
    before = len(MISMATCHES)
    worst_sum = compare_counts("PanopticEval counts", ours, theirs)
    counts_equal = len(MISMATCHES) == before
    ref_scores, ref_classes = summarized(theirs)
    compared, equal, worst = compare_classes("PanopticEval per class", mine_classes, ref_classes)
    _, equal_f, worst_f = compare_classes("evaluate_semantic_kitti per class", function_result["classes"], ref_classes)
    print(
        f"  check: confusion matrix and tp/fp/fn {'equal' if counts_equal else 'DIFFER (above)'}; "
        f"IoU sums: largest relative difference {worst_sum:.1e}; {compared} class scores: PanopticEval "
        f"{equal} bit for bit, largest difference {worst:.1e}; evaluate_semantic_kitti {equal_f} bit for bit, "
        f"largest {worst_f:.1e} (limit {TOLERANCE:.0e})"
    )
    if script_scores_ is not None:
        # The reference class fed these arrays must give the script's own scores, or the
        # feeding differs from the script's.
        fed = ref_scores
        same = all(fed[k] == float(script_scores_[k]) for k in SCORE_KEYS)
        if not same:
            mismatch("the reference class fed here does not give the script's scores.txt: the feeding differs")
        print(f"  the reference class fed so gives the script's scores.txt {'bit for bit' if same else 'NOT'}")
    return ratio


def bench_exact(ref_cls: type | None) -> None:
    lut = lidar_data.class_lut()
    cases = lidar_data.exact_cases()
    print(f"\n### Exact cases, one scan each ({len(cases)}): tp / fp / fn of the class named\n")
    print("| case | class | expected | semantic-kitti-api | panoptiq |\n|---|---|---:|---:|---:|")
    for name, (cls, *expected), gt, pred in cases:
        arrays = (lut[pred & 0xFFFF], pred, lut[gt & 0xFFFF], gt)
        ours = PanopticEval(N_CLASSES, None, IGNORE, min_points=MIN_POINTS)
        ours.addBatch(*arrays)
        mine = [int(ours.pan_tp[cls]), int(ours.pan_fp[cls]), int(ours.pan_fn[cls])]
        ref_text = "-"
        if ref_cls is not None:
            theirs = quiet_reference(ref_cls)
            theirs.addBatch(*arrays)
            ref = [int(theirs.pan_tp[cls]), int(theirs.pan_fp[cls]), int(theirs.pan_fn[cls])]
            ref_text = "/".join(map(str, ref))
            if ref != expected:
                mismatch(
                    f"exact case '{name}': semantic-kitti-api gives {ref_text}, the case expects "
                    f"{'/'.join(map(str, expected))} (the case is wrong)"
                )
            compare_counts(f"exact case '{name}'", ours, theirs)
        elif mine != expected:
            mismatch(f"exact case '{name}': panoptiq gives {mine}, the rules give {expected}")
        print(
            f"| {name} | {lidar_data.CLASS_NAMES[cls]} | {'/'.join(map(str, expected))} | {ref_text} | "
            f"{'/'.join(map(str, mine))} |"
        )


# --------------------------------------------------------------------------------------------
# Peak memory
# --------------------------------------------------------------------------------------------


def own_peak_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def child(argv: list[str]) -> None:
    """In a fresh process: one evaluation, then its time, peak RSS and PQ as JSON."""
    tool, folder = argv[0], Path(argv[1])
    time.sleep(0.3)  # numpy's OpenBLAS threads settle first
    out = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    if tool == "panoptiq":
        pq = function(folder, None)["pq_mean"]
    else:
        repo = Path(argv[2])
        sys.path.insert(0, str(repo))
        sys.argv = script_command(repo, folder, out)[1:]
        os.chdir(repo)
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(repo / SCRIPT), run_name="__main__")
        with open(out / "scores.txt") as f:
            pq = yaml.safe_load(f)["pq_mean"]
    seconds = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "ru_maxrss_mb": maxrss, "vmhwm_mb": own_peak_mb(), "pq": pq}))


def measure(tool: str, folder: Path, repo: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(folder), repo], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(args: argparse.Namespace, cache: Path, repo: Path | str) -> None:
    counts = sorted(map(int, args.memory_scans.split(",")))
    base = dataset(args, cache, counts[-1], args.memory_points, args.seed + 1)
    print(
        f"\n### Peak memory: evaluate_semantic_kitti on more and more scans of ~{args.memory_points:,} points, "
        "each run in its own process\n"
    )
    print(
        "| scans | label files (both) | panoptiq peak RSS (VmHWM) | time | semantic-kitti-api peak RSS (VmHWM) | time |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    peaks, ref_peaks = [], []
    for count in counts:
        folder = lidar_data.subset(base, count)
        size = sum(a.stat().st_size + b.stat().st_size for a, b in scan_files(folder))
        ours = measure("panoptiq", folder, "")
        peaks.append(ours["vmhwm_mb"])
        theirs = "- | -"
        if isinstance(repo, Path) and count <= args.memory_reference_max:
            ref = measure("script", folder, str(repo))
            ref_peaks.append(ref["vmhwm_mb"])
            theirs = f"{ref['vmhwm_mb']:.0f} MB | {ref['seconds']:.2f} s"
            if abs(ref["pq"] - ours["pq"]) > TOLERANCE:
                mismatch(f"memory run, {count} scans: pq_mean {ours['pq']!r} vs the script's {ref['pq']!r}")
        print(f"| {count:,} | {size / 2**20:.1f} MB | {ours['vmhwm_mb']:.0f} MB | {ours['seconds']:.2f} s | {theirs} |")
    print(
        f"\n  panoptiq: peak RSS {peaks[0]:.0f} MB at {counts[0]} scans, {peaks[-1]:.0f} MB at {counts[-1]} "
        f"({peaks[-1] / peaks[0]:.2f}x for {counts[-1] / counts[0]:.0f}x the scans). VmHWM is the child's own "
        "(ru_maxrss would start from this process's peak)."
    )
    print(
        "  semantic-kitti-api's script reads one scan at a time too, so its peak is flat in the number of scans as "
        + (f"well ({ref_peaks[0]:.0f} MB to {ref_peaks[-1]:.0f} MB here)" if ref_peaks else "well (not measured here)")
        + ": one scan's arrays (both label files, int32 classes, int64 copies and masks, each class's np.unique)."
    )
    if peaks[-1] > 1.5 * peaks[0] + 50:
        mismatch(f"panoptiq's peak RSS grew from {peaks[0]:.0f} MB to {peaks[-1]:.0f} MB with the scans")


# --------------------------------------------------------------------------------------------


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=1000, help="scans in the sequence (default 1000)")
    parser.add_argument("--points", type=int, default=120_000, help="about how many points a scan (default 120000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of panoptiq's measurements (median)")
    parser.add_argument("--reference-rounds", type=int, default=1, help="rounds of the script's (median)")
    parser.add_argument("--semantic-kitti-api", default=None, help=f"checkout of PRBonn/semantic-kitti-api (${ENV})")
    parser.add_argument("--memory-scans", default="100,400,1600", help="scans of the memory runs")
    parser.add_argument("--memory-points", type=int, default=20_000, help="about how many points a scan there")
    parser.add_argument("--memory-reference-max", type=int, default=1600, help="run the script up to this many scans")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: whole, class, exact, memory")
    parser.add_argument(
        "--generator",
        choices=("bench", "panoptiq"),
        default="bench",
        help="bench: lidar_data.py (default); panoptiq: panoptiq.lidar._synthetic.make_semantic_kitti",
    )
    parser.add_argument("--seed", type=int, default=2026, help="of the generated scans")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    parser.add_argument("--smoke", action="store_true", help="small sizes, one round: a quick run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.scans, args.points, args.rounds, args.reference_rounds = 20, 5000, 1, 1
        args.memory_scans, args.memory_points = "10,40", 2000
    skip = set(filter(None, args.skip.split(",")))
    cache = Path(args.cache)
    repo = reference_repo(args.semantic_kitti_api)
    ref_cls = reference_class(repo) if isinstance(repo, Path) else None

    cores = os.cpu_count() or 1
    print(f"# Machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print("# " + ", ".join(f"{p} {_version(p)}" for p in ("panoptiq", "numpy", "PyYAML")))
    print(f"# semantic-kitti-api: {repo if isinstance(repo, Path) else 'not measured: ' + repo}")
    folder = dataset(args, cache, args.scans, args.points, args.seed)
    print(f"# data: {folder}: {args.scans:,} scans of ~{args.points:,} points")
    print(f"#   {data_summary(folder)}")
    work = Path(tempfile.mkdtemp(prefix="bench-lidar-"))
    if isinstance(repo, Path):
        print(f"# the script: (cd {repo} && {' '.join(script_command(repo, folder, work / 'script-out'))})")
    print(f"# the function: {' '.join(cli_command(folder, work / 'cli-out'))} (and the same call in process)")

    print(f"# load average before: {load()} (other processes on the machine skew the times)")
    if "memory" not in skip:  # first: this process is still small
        bench_memory(args, cache, repo)
    ratios: dict[str, float | None] = {}
    if "exact" not in skip:
        bench_exact(ref_cls)
    if "whole" not in skip:
        ratios["whole script vs function"], result = bench_whole(args, folder, repo, work)
        theirs = None
        if isinstance(repo, Path) and (work / "script-out" / "scores.txt").exists():
            with open(work / "script-out" / "scores.txt") as f:
                theirs = yaml.safe_load(f)
    else:
        result, theirs = function(folder, None), None
    if "class" not in skip:
        ratios["PanopticEval.addBatch alone"] = bench_class(folder, ref_cls, result, theirs)
    print(f"\n# load average after: {load()}")
    measured = {k: v for k, v in ratios.items() if v is not None}
    if measured:
        print(
            "\n## semantic-kitti-api / panoptiq: "
            + ", ".join(f"{k} {v:.1f}x" for k, v in measured.items())
            + " (target >= 50x for the whole script vs the function"
            + ("" if (measured.get("whole script vs function") or 0) >= 50 else ": NOT met")
            + ")"
        )
    if MISMATCHES:
        print(f"\n{len(MISMATCHES)} difference(s) from the reference:\n" + "\n".join(f"- {m}" for m in MISMATCHES))
        raise SystemExit(1)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
