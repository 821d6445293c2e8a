"""Video metrics: panoptiq's VPQ against mcahny/vps's and its STQ against deeplab2's, side by side in one run.

Run: python benches/bench_video.py [--videos 20] [--frames 30] [--size 1024x512] [--rounds 3]
     [--vps-repo DIR] [--deeplab2-repo DIR] [--memory-frames 30,120,480] [--memory-size 512x256]
     python benches/bench_video.py --smoke    (CI: a few tiny videos, well under a minute)

Data: synthetic street-scene videos drawn with Pillow in the Cityscapes-VPS layout (see
video_data.py), made once and cached. The references are the original files, imported by path:
mcahny/vps's ``tools/eval_vpq.py`` (``--vps-repo``, default $PANOPTIQ_VPS_REPO) and deeplab2's
``evaluation/numpy/segmentation_and_tracking_quality.py`` (``--deeplab2-repo``, default
$PANOPTIQ_DEEPLAB2_REPO); a reference that is not there is skipped, with the reason printed.

* VPQ: ``panoptiq.video.vpq_compute`` (JSON, PNGs, every tube length) against mcahny/vps's
  ``vpq_compute_single_core`` called per video and per tube length as its ``main()`` calls it,
  JSON loading and its PNG reading (PIL, ``np.array``) included, one video's frames held at a time.
  Left out of ``main()``, which only favours the reference: ``np.array_split`` (NumPy >= 1.24 refuses
  that ragged list) and the ``copy.deepcopy`` of every frame per tube length (nothing is mutated).
  Checked: per tube length and class, tp/fp/fn equal and IoU sums within 1e-9.
* STQ: ``panoptiq.video.STQuality`` (exact, and ``accumulate="float32"``) against deeplab2's
  numpy ``STQuality``, ``update_state`` frame by frame, on the same label maps: the updates
  (and ``result()``) alone, label maps already in memory, and then PNG reading included (the
  reference reads with PIL, panoptiq with its own decoder). Checked: float32 mode equal to
  deeplab2 bit for bit under NumPy 2 (within 1e-6 under NumPy 1), exact mode within 1e-6.
* Peak memory: ``vpq_compute`` on one video of more and more frames, each in its own process:
  its peak RSS must stay flat, while mcahny/vps holds every frame of a video (the arithmetic is
  printed, and its peak measured likewise when the reference is there).

Ratios are reference / panoptiq (target: at least 50x for both metrics). Exits non-zero if a
result differs, after printing every difference.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import video_data  # noqa: E402
from video_data import Frames, read_rgb_ids, stq_labels, stq_numbers, subset, video_dataset  # noqa: E402

from panoptiq import read_id_map  # noqa: E402
from panoptiq.video import STQuality, read_panoptic_frame, vpq_compute  # noqa: E402

TUBE_LENGTHS = (1, 2, 3, 4)
VPS_FILE = "tools/eval_vpq.py"
DEEPLAB2_FILE = "evaluation/numpy/segmentation_and_tracking_quality.py"
STQ_ARGS = (video_data.NUM_CLASSES, video_data.THINGS, video_data.IGNORE_LABEL, video_data.LABEL_BIT_SHIFT, 2**32)
NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
#: Differences found, printed as they are found and summed up at the end.
MISMATCHES: list[str] = []


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def load_reference(option: str | None, env: str, relative: str, name: str, repo: str) -> ModuleType | str:
    """The reference module, or the reason it is not measured."""
    root = option or os.environ.get(env)
    if not root:
        return f"no checkout of {repo} given (--{name}-repo DIR or ${env})"
    path = Path(root) / relative
    if not path.is_file():
        return f"{path} does not exist: --{name}-repo / ${env} should point to a checkout of {repo}"
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        return f"{path} does not import ({error})"
    module.__file__ = str(path)
    return module


def mismatch(message: str) -> None:
    MISMATCHES.append(message)
    print(f"  MISMATCH: {message}", flush=True)


# --------------------------------------------------------------------------------------------
# VPQ
# --------------------------------------------------------------------------------------------


def mcahny_vpq(vps: ModuleType, folder: Path, gt_json: Path, pred_json: Path, frames_per_video: int) -> dict:
    """mcahny/vps's evaluation as its main() runs it: per tube length, the PQStat summed over the
    videos; one video's frames (PIL + np.array) in memory at a time."""
    with open(gt_json) as f:
        gt_jsons = json.load(f)
    with open(pred_json) as f:
        pred_jsons = json.load(f)
    categories = {el["id"]: el for el in gt_jsons["categories"]}
    gt_image_jsons = gt_jsons["images"]
    gt_anns, pred_anns = gt_jsons["annotations"], pred_jsons["annotations"]
    stats = {n: vps.PQStat() for n in TUBE_LENGTHS}
    for start in range(0, len(gt_anns), frames_per_video):
        stop = start + frames_per_video
        gt_pans = [np.array(vps.Image.open(folder / "gt" / a["file_name"])) for a in gt_anns[start:stop]]
        pred_pans = [np.array(vps.Image.open(folder / "pred" / a["file_name"])) for a in pred_anns[start:stop]]
        gt_pred_set = list(
            zip(gt_anns[start:stop], pred_anns[start:stop], gt_pans, pred_pans, gt_image_jsons[start:stop], strict=True)
        )
        for n in TUBE_LENGTHS:
            stats[n] += vps.vpq_compute_single_core(gt_pred_set, categories, nframes=n)
    results = {}
    for n, stat in stats.items():
        results[n] = {"stat": stat}
        for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
            results[n][name], per_class = stat.pq_average(categories, isthing=isthing)
            if name == "All":
                results[n]["per_class"] = per_class
    return results


def check_vpq(ours: dict, theirs: dict, categories: list[dict]) -> None:
    worst = 0.0
    compared = 0
    for n in TUBE_LENGTHS:
        stat = theirs[n]["stat"]
        for category in categories:
            c = category["id"]
            mine = ours[n]["per_class"].get(c, {"iou": 0.0, "tp": 0, "fp": 0, "fn": 0})
            ref = stat.pq_per_cat.get(c)
            ref_counts = (ref.tp, ref.fp, ref.fn) if ref else (0, 0, 0)
            ref_iou = ref.iou if ref else 0.0
            compared += 1
            if tuple(int(mine[k]) for k in ("tp", "fp", "fn")) != tuple(int(x) for x in ref_counts):
                mismatch(
                    f"VPQ n={n} class {c} ({category['name']}): panoptiq tp/fp/fn "
                    f"{mine['tp']}/{mine['fp']}/{mine['fn']}, mcahny/vps {'/'.join(map(str, ref_counts))}"
                )
            worst = max(worst, abs(float(mine["iou"]) - float(ref_iou)))
            if abs(float(mine["iou"]) - float(ref_iou)) > 1e-9:
                mismatch(f"VPQ n={n} class {c} ({category['name']}): IoU sum {mine['iou']!r} vs mcahny/vps {ref_iou!r}")
        for name in ("All", "Things", "Stuff"):
            a, b = ours[n][name]["pq"], theirs[n][name]["pq"]
            if abs(a - b) > 1e-9 or ours[n][name]["n"] != theirs[n][name]["n"]:
                mismatch(f"VPQ n={n} {name}: PQ {a!r} (n={ours[n][name]['n']}) vs {b!r} (n={theirs[n][name]['n']})")
    print(
        f"  check: {compared} (tube length, class) cells: tp/fp/fn "
        f"{'equal' if not any(m.startswith('VPQ') for m in MISMATCHES) else 'DIFFER (above)'}, "
        f"largest IoU-sum difference {worst:.2e} (limit 1e-9)"
    )
    vpq_mine = [ours[n]["All"]["pq"] for n in TUBE_LENGTHS]
    vpq_ref = [theirs[n]["All"]["pq"] for n in TUBE_LENGTHS]
    print(
        "  VPQ All per tube length (k = 0, 5, 10, 15): panoptiq "
        + ", ".join(f"{100 * x:.4f}" for x in vpq_mine)
        + "; mcahny/vps "
        + ", ".join(f"{100 * x:.4f}" for x in vpq_ref)
    )


def bench_vpq(args: argparse.Namespace, folder: Path, vps: ModuleType | str) -> float | None:
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    frames = args.videos * args.frames

    def ours(threads: int | None = None) -> dict:
        return vpq_compute(
            gt_json,
            pred_json,
            folder / "gt",
            folder / "pred",
            frames_per_video=args.frames,
            tube_lengths=TUBE_LENGTHS,
            num_threads=threads,
        )

    ours()  # warm the page cache and the allocator
    times: dict[str, list[float]] = {"panoptiq": [], "panoptiq 1 thread": []}
    outputs = {}
    for round_index in range(args.rounds):
        order = [("panoptiq", None), ("panoptiq 1 thread", 1)]
        for label, threads in order if round_index % 2 == 0 else order[::-1]:
            seconds, outputs[label] = timed(lambda t=threads: ours(t))
            times[label].append(seconds)
    result = outputs["panoptiq"]
    if outputs["panoptiq 1 thread"] != result:
        mismatch("VPQ: panoptiq's results on 1 thread and on all differ")
    mine = statistics.median(times["panoptiq"])
    one = statistics.median(times["panoptiq 1 thread"])
    print(f"\n### VPQ: {args.videos} videos x {args.frames} frames, tube lengths {TUBE_LENGTHS}\n")
    print("| tool | time | ms / frame | reference / panoptiq |\n|---|---:|---:|---:|")
    rows = [(f"panoptiq vpq_compute, {os.cpu_count()} threads", mine), ("panoptiq vpq_compute, 1 thread", one)]
    ref_seconds = None
    if isinstance(vps, ModuleType):
        theirs_times = []
        for _ in range(args.reference_rounds):
            seconds, theirs = timed(lambda: mcahny_vpq(vps, folder, gt_json, pred_json, args.frames))
            theirs_times.append(seconds)
        ref_seconds = statistics.median(theirs_times)
        rows.append(("mcahny/vps vpq_compute_single_core (1 process)", ref_seconds))
    for label, seconds in rows:
        ratio = f"{ref_seconds / seconds:.1f}x" if ref_seconds else "-"
        print(f"| {label} | {seconds:.2f} s | {1000 * seconds / frames:.2f} | {ratio} |")
    print(f"\n  (median of {args.rounds} rounds for panoptiq, {args.reference_rounds} for the reference)")
    if isinstance(vps, ModuleType):
        print(f"  VPQ, mcahny/vps / panoptiq: {ref_seconds / mine:.1f}x (target >= 50x)")
        check_vpq(result, theirs, video_data.CATEGORIES)
    else:
        print(f"  mcahny/vps: not measured: {vps}")
    return ref_seconds / mine if ref_seconds else None


# --------------------------------------------------------------------------------------------
# STQ
# --------------------------------------------------------------------------------------------


def pil_read(folder: Path, g: dict, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """The reference's reading: PIL + np.array, then the label-map conversion."""
    return (
        stq_labels(read_rgb_ids(folder / "gt" / g["file_name"]), g["segments_info"]),
        stq_labels(read_rgb_ids(folder / "pred" / p["file_name"]), p["segments_info"]),
    )


def panoptiq_read(folder: Path, g: dict, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """panoptiq's decoder, then the same conversion."""
    return (
        stq_labels(read_id_map(folder / "gt" / g["file_name"]), g["segments_info"]),
        stq_labels(read_id_map(folder / "pred" / p["file_name"]), p["segments_info"]),
    )


def panoptiq_reader(folder: Path, g: dict, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """panoptiq's public reader of COCO-panoptic-style frames, decoding and converting."""
    return (
        read_panoptic_frame(folder / "gt" / g["file_name"], g["segments_info"], stq_numbers(g["segments_info"])),
        read_panoptic_frame(folder / "pred" / p["file_name"], p["segments_info"], stq_numbers(p["segments_info"])),
    )


def check_stq(label: str, ours: dict, theirs: dict, exact: bool) -> float:
    """Compares two result dicts; returns the largest relative difference."""
    worst = 0.0
    for key in ("STQ", "AQ", "IoU", "STQ_per_seq", "AQ_per_seq", "IoU_per_seq"):
        a = np.asarray(ours[key], dtype=np.float64)
        b = np.asarray(theirs[key], dtype=np.float64)
        if a.shape != b.shape:
            mismatch(f"STQ {label}: {key} has shape {a.shape}, deeplab2's {b.shape}")
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(a == b, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
        worst = max(worst, float(np.max(rel)) if rel.size else 0.0)
        if exact and not np.array_equal(a, b, equal_nan=True):
            where = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            mismatch(
                f"STQ {label}: {key} not bit for bit equal ({where.size} values; e.g. "
                f"{a.reshape(-1)[where[0]]!r} vs {b.reshape(-1)[where[0]]!r})"
            )
        elif not exact and float(np.max(rel, initial=0.0)) > 1e-6:
            mismatch(f"STQ {label}: {key} differs by rel {float(np.max(rel)):.2e} > 1e-6")
    if list(ours["Length_per_seq"]) != list(theirs["Length_per_seq"]) or list(ours["ID_per_seq"]) != list(
        theirs["ID_per_seq"]
    ):
        mismatch(f"STQ {label}: sequence ids or lengths differ")
    return worst


def bench_stq(args: argparse.Namespace, folder: Path, deeplab2: ModuleType | str) -> tuple[float | None, float | None]:
    data = Frames.load(folder, args.frames)
    videos = list(data.videos())
    frames = sum(len(v) for v in videos)
    have_ref = isinstance(deeplab2, ModuleType)
    cores = os.cpu_count() or 1
    # Every reader gives the same label maps (checked on each video's first frame).
    for video in videos:
        g, p = video[0]
        reference = pil_read(folder, g, p)
        for name, read in (("read_id_map + stq_labels", panoptiq_read), ("read_panoptic_frame", panoptiq_reader)):
            if not all(np.array_equal(a, b) for a, b in zip(read(folder, g, p), reference, strict=True)):
                mismatch(f"STQ: {name} and the Pillow reader give different label maps for {g['file_name']}")

    def fresh(tool: str) -> Any:
        if tool == "deeplab2":
            return deeplab2.STQuality(*STQ_ARGS)
        return STQuality(*STQ_ARGS, accumulate="float32" if tool == "float32" else "exact")

    # 1. Updates alone: each video's label maps read first (not timed), then fed to every tool,
    # tools alternating from video to video; result() timed too.
    tools = ["exact", "float32"] + (["deeplab2"] if have_ref else [])
    rounds = {t: args.reference_rounds if t == "deeplab2" else args.rounds for t in tools}
    seconds = {t: [0.0] * rounds[t] for t in tools}
    metrics = {t: [fresh(t) for _ in range(rounds[t])] for t in tools}
    for index, video in enumerate(videos):
        maps = data.stq_video(video)
        for tool in tools if index % 2 == 0 else tools[::-1]:
            for r, metric in enumerate(metrics[tool]):
                start = time.perf_counter()
                for y_true, y_pred in maps:
                    metric.update_state(y_true, y_pred, index)
                seconds[tool][r] += time.perf_counter() - start
        del maps
    results = {}
    for tool in tools:
        for r, metric in enumerate(metrics[tool]):
            start = time.perf_counter()
            results[tool] = metric.result()
            seconds[tool][r] += time.perf_counter() - start
    updates = {t: statistics.median(s) for t, s in seconds.items()}

    # 2. PNG reading included: decoding (PIL for the reference, panoptiq's decoder for panoptiq),
    # the same conversion to label maps, the updates and result().
    tasks = [(index, g, p) for index, video in enumerate(videos) for g, p in video]

    def run(tool: str, read: Callable, threads: int = 0) -> tuple[float, dict]:
        metric = fresh(tool)
        start = time.perf_counter()
        if threads:
            with ThreadPoolExecutor(threads) as pool:
                maps = pool.map(lambda t: read(folder, t[1], t[2]), tasks)
                for (index, _, _), (y_true, y_pred) in zip(tasks, maps, strict=True):
                    metric.update_state(y_true, y_pred, index)
        else:
            for index, g, p in tasks:
                y_true, y_pred = read(folder, g, p)
                metric.update_state(y_true, y_pred, index)
        result = metric.result()
        return time.perf_counter() - start, result

    ways = {
        "exact": ("exact", panoptiq_read, 0),
        "threads": ("exact", panoptiq_read, cores),
        "reader": ("exact", panoptiq_reader, 0),
    }
    if have_ref:
        ways["deeplab2"] = ("deeplab2", pil_read, 0)
    reading: dict[str, list[float]] = {w: [] for w in ways}
    read_results = {}
    for r in range(max(args.rounds, args.reference_rounds)):
        for way, (tool, read, threads) in ways.items():
            if r < rounds[tool]:
                seconds_taken, read_results[way] = run(tool, read, threads)
                reading[way].append(seconds_taken)
    with_reading = {w: statistics.median(s) for w, s in reading.items()}

    print(f"\n### STQ: {len(videos)} videos x {args.frames} frames, update_state frame by frame\n")
    print("| tool | updates + result() | ms / frame | PNG reading included | ms / frame |\n|---|---:|---:|---:|---:|")
    rows = [
        ('panoptiq STQuality (accumulate="exact"); PNGs: panoptiq.read_id_map + stq_labels', "exact", "exact"),
        (f"the same, PNGs read ahead on {cores} threads", None, "threads"),
        ("the same, PNGs read by panoptiq.video.read_panoptic_frame", None, "reader"),
        ('panoptiq STQuality (accumulate="float32")', "float32", None),
        ("deeplab2 numpy STQuality; PNGs: PIL + np.array + stq_labels", "deeplab2", "deeplab2"),
    ]
    for label, tool, way in rows:
        if (tool or way) == "deeplab2" and not have_ref:
            continue
        u = f"{updates[tool]:.2f} s | {1000 * updates[tool] / frames:.2f}" if tool else "- | -"
        w = f"{with_reading[way]:.2f} s | {1000 * with_reading[way] / frames:.2f}" if way else "- | -"
        print(f"| {label} | {u} | {w} |")
    print(f"\n  (median of {args.rounds} rounds for panoptiq, {args.reference_rounds} for the reference)")
    print(
        f"  reading and converting alone (the difference of the two columns): panoptiq's decoder "
        f"{1000 * (with_reading['exact'] - updates['exact']) / frames:.1f} ms / frame"
        + (
            f", PIL {1000 * (with_reading['deeplab2'] - updates['deeplab2']) / frames:.1f} ms / frame"
            if have_ref
            else ""
        )
    )
    # A label map read back by each way is the same, so each way's result must be the same too.
    check_stq("panoptiq, PNGs read vs label maps in memory", read_results["exact"], results["exact"], exact=True)
    check_stq("panoptiq, read on threads vs in memory", read_results["threads"], results["exact"], exact=True)
    check_stq("panoptiq, read_panoptic_frame vs in memory", read_results["reader"], results["exact"], exact=True)
    if not have_ref:
        print(f"  deeplab2: not measured: {deeplab2}")
        return None, None
    ratio_updates = updates["deeplab2"] / updates["exact"]
    ratio_reading = with_reading["deeplab2"] / with_reading["exact"]
    print(
        f"  STQ, deeplab2 / panoptiq: updates {ratio_updates:.1f}x (float32 mode "
        f"{updates['deeplab2'] / updates['float32']:.1f}x); PNG reading included {ratio_reading:.1f}x "
        f"(panoptiq reading on {cores} threads {with_reading['deeplab2'] / with_reading['threads']:.1f}x, "
        f"through read_panoptic_frame {with_reading['deeplab2'] / with_reading['reader']:.1f}x); target >= 50x"
    )
    ref = results["deeplab2"]
    check_stq("deeplab2, PNGs read vs label maps in memory", read_results["deeplab2"], ref, exact=True)
    worst32 = check_stq('accumulate="float32" vs deeplab2', results["float32"], ref, exact=NUMPY_2)
    worst = check_stq('accumulate="exact" vs deeplab2', results["exact"], ref, exact=False)
    print(
        f"  check (NumPy {np.__version__}): float32 mode vs deeplab2 "
        f"{'bit for bit' if NUMPY_2 else 'within 1e-6'}: "
        f"{'equal' if worst32 == 0 else f'largest rel difference {worst32:.1e}'}; "
        f"exact mode vs deeplab2: largest rel difference {worst:.1e} (limit 1e-6)"
    )
    print(
        f"  deeplab2: STQ {float(ref['STQ'])!r}, AQ {float(ref['AQ'])!r}, IoU {float(ref['IoU'])!r}; "
        f"panoptiq exact: STQ {float(results['exact']['STQ'])!r}, AQ {float(results['exact']['AQ'])!r}, "
        f"IoU {float(results['exact']['IoU'])!r}"
    )
    return ratio_updates, ratio_reading


# --------------------------------------------------------------------------------------------
# Peak memory
# --------------------------------------------------------------------------------------------


def child(argv: list[str]) -> None:
    """In a fresh process: one evaluation, then its time and peak RSS as JSON."""
    tool, gt_json, pred_json, folder, frames = argv[0], argv[1], argv[2], Path(argv[3]), int(argv[4])
    if tool == "panoptiq":

        def call() -> Any:
            return vpq_compute(
                gt_json, pred_json, folder / "gt", folder / "pred", frames_per_video=frames, tube_lengths=TUBE_LENGTHS
            )
    else:
        vps = load_reference(argv[5], "PANOPTIQ_VPS_REPO", VPS_FILE, "vps", "mcahny/vps")
        assert isinstance(vps, ModuleType), vps

        def call() -> Any:
            return mcahny_vpq(vps, folder, Path(gt_json), Path(pred_json), frames)

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = call()
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "vmhwm_mb": own_peak_mb(),
                "vpq": result["vpq"]["All"]
                if "vpq" in result
                else statistics.mean(result[n]["All"]["pq"] for n in TUBE_LENGTHS),
            }
        )
    )


def own_peak_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def measure(tool: str, gt_json: Path, pred_json: Path, folder: Path, frames: int, vps_repo: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(gt_json), str(pred_json), str(folder), str(frames), vps_repo],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(args: argparse.Namespace, cache: Path, vps: ModuleType | str) -> None:
    counts = sorted(map(int, args.memory_frames.split(",")))
    w, h = args.memory_size
    folder = video_dataset(cache, 1, counts[-1], size=(h, w), seed=7)
    frame_mb = 2 * h * w * 3 / 2**20  # one frame's two RGB uint8 arrays, as PIL + np.array give them
    vps_repo = str(Path(vps.__file__).parents[1]) if isinstance(vps, ModuleType) else ""
    print(f"\n### Peak memory: vpq_compute on one video of {w}x{h} frames, each run in its own process\n")
    print(
        "| frames in the video | panoptiq peak RSS (ru_maxrss / VmHWM) | time | "
        "mcahny/vps: frames held (arithmetic) | mcahny/vps peak RSS (ru_maxrss / VmHWM) | time |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    peaks = []
    for count in counts:
        gt_json, pred_json = subset(folder, count)
        ours = measure("panoptiq", gt_json, pred_json, folder, count, vps_repo)
        peaks.append(ours["vmhwm_mb"])
        held = count * frame_mb
        theirs = "- | -"
        if isinstance(vps, ModuleType) and count <= args.memory_reference_max:
            ref = measure("mcahny", gt_json, pred_json, folder, count, vps_repo)
            theirs = f"{ref['ru_maxrss_mb']:.0f} / {ref['vmhwm_mb']:.0f} MB | {ref['seconds']:.1f} s"
            if abs(ref["vpq"] - ours["vpq"]) > 1e-9:
                mismatch(f"memory run, {count} frames: VPQ {ours['vpq']!r} vs mcahny/vps {ref['vpq']!r}")
        print(
            f"| {count} | {ours['ru_maxrss_mb']:.0f} / {ours['vmhwm_mb']:.0f} MB | {ours['seconds']:.2f} s | "
            f"{held:.1f} MB | {theirs} |"
        )
    print(
        f"\n  panoptiq: peak RSS (VmHWM) {peaks[0]:.0f} MB at {counts[0]} frames, {peaks[-1]:.0f} MB at "
        f"{counts[-1]} ({peaks[-1] / peaks[0]:.2f}x for {counts[-1] / counts[0]:.0f}x the frames). On Linux "
        f"ru_maxrss keeps, across exec, the peak of the process that started the child (this one, "
        f"{own_peak_mb():.0f} MB): it is a floor here; VmHWM is the child's own."
    )
    big_w, big_h = args.size
    frame = 2 * big_w * big_h * 3  # bytes of one frame's two RGB arrays at the benchmark's size
    print(
        f"  mcahny/vps holds every frame of a video as PIL gives it, 2 x H x W x 3 bytes a frame: "
        f"{size_text(frame_mb * 2**20)} at {w}x{h}, so {size_text(counts[-1] * frame_mb * 2**20)} for "
        f"{counts[-1]} frames here; {size_text(frame)} at {big_w}x{big_h}, so {size_text(args.frames * frame)} "
        f"for a {args.frames}-frame video and {size_text(counts[-1] * frame)} for {counts[-1]} frames. On top, "
        "each n-frame window makes n frames' uint32 RGB copies (2 x 12 B/pixel) and id maps (2 x 4 B), "
        "stacks those (2 x 4 B) and forms the uint64 pair map that np.unique sorts (8 B, plus its sorted copy): "
        f"about 56 B/pixel/frame, {size_text(4 * 56 * big_w * big_h)} for n = 4 at {big_w}x{big_h}. Its main() "
        f"reads every frame of the dataset first ({size_text(args.videos * args.frames * frame)} for this "
        "benchmark's) and deep-copies them all for each tube length (twice that)."
    )
    if peaks[-1] > 1.5 * peaks[0] + 50:
        mismatch(f"panoptiq's VPQ peak RSS grew from {peaks[0]:.0f} MB to {peaks[-1]:.0f} MB with the frames")


# --------------------------------------------------------------------------------------------


def size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--frames", type=int, default=30, help="frames per video")
    parser.add_argument("--size", type=size, default=(1024, 512), help="WxH of a frame (default 1024x512)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of panoptiq's measurements (median)")
    parser.add_argument("--reference-rounds", type=int, default=1, help="rounds of the references' (median)")
    parser.add_argument("--vps-repo", default=None, help="checkout of mcahny/vps (default $PANOPTIQ_VPS_REPO)")
    parser.add_argument(
        "--deeplab2-repo", default=None, help="checkout of google-research/deeplab2 (default $PANOPTIQ_DEEPLAB2_REPO)"
    )
    parser.add_argument("--memory-frames", default="30,120,480", help="frames of the one video of the memory runs")
    parser.add_argument("--memory-size", type=size, default=(512, 256), help="WxH of the memory runs' frames")
    parser.add_argument(
        "--memory-reference-max", type=int, default=480, help="measure mcahny/vps's peak up to this many frames"
    )
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: vpq, stq, memory")
    parser.add_argument("--seed", type=int, default=2026, help="of the generated videos")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: a quick run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.videos, args.frames, args.size, args.rounds, args.reference_rounds = 2, 6, (256, 128), 1, 1
        args.memory_frames, args.memory_size = "6,24", (128, 64)
    skip = set(filter(None, args.skip.split(",")))
    cache = Path(args.cache)

    vps = load_reference(args.vps_repo, "PANOPTIQ_VPS_REPO", VPS_FILE, "vps", "mcahny/vps")
    deeplab2 = load_reference(
        args.deeplab2_repo, "PANOPTIQ_DEEPLAB2_REPO", DEEPLAB2_FILE, "deeplab2", "google-research/deeplab2"
    )
    cores = os.cpu_count() or 1
    print(f"# Machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print("# " + ", ".join(f"{p} {_version(p)}" for p in ("panoptiq", "numpy", "Pillow")))
    for label, ref in (("mcahny/vps", vps), ("deeplab2", deeplab2)):
        print(f"# {label}: {ref.__file__ if isinstance(ref, ModuleType) else 'not measured: ' + ref}")
    w, h = args.size
    folder = video_dataset(cache, args.videos, args.frames, size=(h, w), seed=args.seed)
    print(f"# data: {folder} ({args.videos} videos x {args.frames} frames of {w}x{h})")

    print(f"# load average before: {load()} (other processes on the machine skew the times)")
    if "memory" not in skip:  # first: the parent is still small, and ru_maxrss counts it before exec
        bench_memory(args, cache, vps)
    ratios = {}
    if "vpq" not in skip:
        ratios["VPQ"] = bench_vpq(args, folder, vps)
    if "stq" not in skip:
        ratios["STQ updates"], ratios["STQ with PNG reading"] = bench_stq(args, folder, deeplab2)
    print(f"\n# load average after: {load()}")
    measured = {k: v for k, v in ratios.items() if v is not None}
    if measured:
        print(
            "\n## reference / panoptiq: "
            + ", ".join(f"{k} {v:.1f}x{'' if v >= 50 else ' (below the 50x target)'}" for k, v in measured.items())
        )
    if MISMATCHES:
        print(f"\n{len(MISMATCHES)} difference(s) from the references:\n" + "\n".join(f"- {m}" for m in MISMATCHES))
        raise SystemExit(1)


def size_text(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
