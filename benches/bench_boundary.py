"""Boundary PQ against mask PQ and against boundary-iou-api, timed side by side in one run.

Run: python benches/bench_boundary.py [--pairs 5000] [--cityscapes-pairs 100] [--reference-pairs 60]

Data: COCO-like 640x480 and Cityscapes-like 2048x1024 pairs, PNGs re-written by Pillow (see
pillow_data.py). Printed per dataset: panoptiq's mask PQ and Boundary PQ times (median of rounds,
alternating) and their ratio (target: Boundary PQ at most 2x mask PQ); and, where boundary-iou-api
is importable (a checkout on PYTHONPATH, with OpenCV and pycocotools), its time on the first
``--reference-pairs`` pairs beside panoptiq's on the same pairs (target: panoptiq at least 50x
faster), with the two results checked equal.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from pillow_data import dataset  # noqa: E402

from panoptiq import evaluation  # noqa: E402


def pairs_of(folder: Path, count: int | None = None):
    gt, pred = json.loads((folder / "gt.json").read_text()), json.loads((folder / "pred.json").read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]][:count]
    return pairs, {c["id"]: c for c in gt["categories"]}


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def compare_with_reference(folder: Path, count: int, rounds: int) -> None:
    try:
        from boundary_iou.coco_panoptic_api import evaluation as reference
    except ImportError as error:
        print(f"  boundary-iou-api: not measured ({error}); put a checkout on PYTHONPATH")
        return
    pairs, categories = pairs_of(folder, count)
    gt_folder, pred_folder = str(folder / "gt"), str(folder / "pred")

    def theirs():
        # Its multi-core entry point: a process per core (a pool it never closes), quiet here.
        with contextlib.redirect_stdout(io.StringIO()):
            return reference.pq_compute_multi_core(
                copy.deepcopy(pairs), gt_folder, pred_folder, categories, "boundary", 0.02
            )

    def ours():
        return evaluation.pq_compute_multi_core(pairs, gt_folder, pred_folder, categories, "boundary", verbose=False)

    times: dict[str, list[float]] = {"boundary-iou-api": [], "panoptiq": []}
    for _ in range(rounds):
        seconds, reference_stat = timed(theirs)
        times["boundary-iou-api"].append(seconds)
        seconds, stat = timed(ours)
        times["panoptiq"].append(seconds)
    for c, s in reference_stat.pq_per_cat.items():
        o = stat[c]
        assert (o.tp, o.fp, o.fn) == (s.tp, s.fp, s.fn), f"category {c} differs from boundary-iou-api"
        assert abs(o.iou - s.iou) <= 1e-9, f"category {c}'s IoU sum differs from boundary-iou-api"
    ref, mine = statistics.median(times["boundary-iou-api"]), statistics.median(times["panoptiq"])
    print(
        f"  on the first {len(pairs)} pairs: boundary-iou-api {ref:.2f} s, panoptiq {mine:.3f} s: "
        f"{ref / mine:.0f}x (target >= 50x); results equal"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000, help="COCO-like pairs")
    parser.add_argument("--cityscapes-pairs", type=int, default=100)
    parser.add_argument("--reference-pairs", type=int, default=60, help="pairs boundary-iou-api is timed on")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    args = parser.parse_args()
    cache = Path(args.cache)
    print(
        f"# Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; median of {args.rounds} rounds\n"
    )
    for name, pairs, size in (
        ("coco", args.pairs, (480, 640)),
        ("cityscapes", args.cityscapes_pairs, (1024, 2048)),
    ):
        folder = dataset(cache, pairs, size=size, name=name, archives=False)
        gt_json, pred_json = str(folder / "gt.json"), str(folder / "pred.json")
        times: dict[str, list[float]] = {"mask PQ": [], "Boundary PQ": []}
        for _ in range(args.rounds):
            for label, iou_type in (("mask PQ", "segm"), ("Boundary PQ", "boundary")):
                seconds, _ = timed(
                    lambda g=gt_json, p=pred_json, t=iou_type: evaluation.pq_compute(g, p, iou_type=t, verbose=False)
                )
                times[label].append(seconds)
        mask, boundary = (statistics.median(times[k]) for k in ("mask PQ", "Boundary PQ"))
        print(f"{name}-like, {pairs} pairs of {size[1]}x{size[0]}:")
        print(f"  panoptiq mask PQ {mask:.2f} s, Boundary PQ {boundary:.2f} s: {boundary / mask:.2f}x (target <= 2x)")
        compare_with_reference(folder, args.reference_pairs, args.rounds)


if __name__ == "__main__":
    main()
