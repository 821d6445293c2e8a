"""The error breakdown: what ``pq_compute(error_breakdown=True)`` adds to an evaluation.

Run: python benches/bench_breakdown.py [--pairs 5000] [--rounds 3]

Data: COCO-like 640x480 pairs, PNGs re-written by Pillow (see pillow_data.py), whose predictions
carry every kind of error (shifted masks, misses, wrong classes, splits and merges, spurious
blobs). The two configurations alternate round by round; the medians are compared. No other
tool breaks panoptic errors down (TIDE is for detection), so the reference is panoptiq's own
evaluation without the breakdown. Target: at most 30% more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from pillow_data import dataset, describe  # noqa: E402

from panoptiq import evaluation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    args = parser.parse_args()
    folder = dataset(Path(args.cache), args.pairs)
    gt_json, pred_json = str(folder / "gt.json"), str(folder / "pred.json")
    describe(args.pairs, args.rounds)
    plain = evaluation.pq_compute(gt_json, pred_json, verbose=False)
    times: dict[str, list[float]] = {"pq_compute": [], "pq_compute(error_breakdown=True)": []}
    for _ in range(args.rounds):
        for name, extra in (("pq_compute", {}), ("pq_compute(error_breakdown=True)", {"error_breakdown": True})):
            start = time.perf_counter()
            result = evaluation.pq_compute(gt_json, pred_json, verbose=False, **extra)
            times[name].append(time.perf_counter() - start)
            assert {k: v for k, v in result.items() if k != "error_breakdown"} == plain
    m = {name: statistics.median(values) for name, values in times.items()}
    for name, median in m.items():
        print(f"{name:36s} {median:7.2f}s")
    ratio = m["pq_compute(error_breakdown=True)"] / m["pq_compute"]
    print(f"the breakdown adds {100 * (ratio - 1):.0f}% (target <= 30%)")
    counts = {kind: entry["fn"] + entry["fp"] for kind, entry in result["error_breakdown"].items()}
    print("errors by cause:", ", ".join(f"{kind} {n}" for kind, n in counts.items() if kind != "mask_quality"))


if __name__ == "__main__":
    main()
