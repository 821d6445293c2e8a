"""The HTML report against plain evaluation: ``panoptiq report`` (the evaluation with per-image
and per-segment results, error images of the worst pairs, the page) timed beside
``pq_compute`` on the same data in one run.

Run: python benches/bench_report.py [--pairs 5000] [--pictures 50] [--rounds 3]

Data: COCO-like 640x480 pairs, PNGs re-written by Pillow (see pillow_data.py). The worst-image
lists are made just long enough for ``--pictures`` error images. Printed: median times of plain
``pq_compute``, ``pq_compute(per_image=True)`` and the report (configurations alternating), the
report's ratio to plain evaluation (target: at most 2x), and the time per error image.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from pillow_data import dataset, describe  # noqa: E402

from panoptiq import evaluation  # noqa: E402
from panoptiq.report import _analysis as analysis  # noqa: E402
from panoptiq.report import write_report  # noqa: E402


def worst_for(per_image: list, pictures: int) -> tuple[int, int]:
    """The shortest worst-image lists that show at least ``pictures`` images, and how many."""
    shown = 0
    for worst in range(1, len(per_image) + 1):
        lists = analysis.worst_images(per_image, worst)
        shown = len({p for positions in lists.values() for p in positions})
        if shown >= pictures:
            return worst, shown
    return len(per_image), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--pictures", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    args = parser.parse_args()
    folder = dataset(Path(args.cache), args.pairs)
    gt_json, pred_json = str(folder / "gt.json"), str(folder / "pred.json")
    describe(args.pairs, args.rounds)

    plain = evaluation.pq_compute(gt_json, pred_json, verbose=False)
    detailed = evaluation.pq_compute(gt_json, pred_json, verbose=False, per_image=True)
    worst, shown = worst_for(detailed["per_image"], args.pictures)
    out = Path(tempfile.mkdtemp(prefix="panoptiq-bench-report-")) / "report"
    configurations: dict[str, Callable[[], dict]] = {
        "pq_compute": lambda: evaluation.pq_compute(gt_json, pred_json, verbose=False),
        "pq_compute(per_image=True)": lambda: evaluation.pq_compute(gt_json, pred_json, verbose=False, per_image=True),
        f"panoptiq report, {shown} error images": lambda: (
            write_report(gt_json, pred_json, out=out, worst=worst, overwrite=True).results
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in configurations}
    for _ in range(args.rounds):
        for name, call in configurations.items():
            start = time.perf_counter()
            result = call()
            times[name].append(time.perf_counter() - start)
            summary = {k: v for k, v in result.items() if k not in ("per_image", "segments", "error_breakdown")}
            assert summary == plain, f"{name} gave other numbers"
    base = statistics.median(times["pq_compute"])
    print(f"{'configuration':42s} {'time':>8s} {'/ pq_compute':>13s}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:42s} {median:7.2f}s {median / base:12.2f}x")
    report = statistics.median(times[f"panoptiq report, {shown} error images"])
    per_image = statistics.median(times["pq_compute(per_image=True)"])
    print(f"\nreport / pq_compute: {report / base:.2f}x (target <= 2x)")
    print(
        f"beyond the evaluation with per-image results: {report - per_image:.2f} s, "
        f"{1000 * (report - per_image) / max(shown, 1):.1f} ms per error image (2 threads)"
    )
    print(f"report written to {out}")


if __name__ == "__main__":
    main()
