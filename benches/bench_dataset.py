"""End-to-end dataset evaluation: panoptiq against hotcoco and panopticapi on the same data.

Run: python benches/bench_dataset.py [--scale 1.0] [--rounds 3] [--datasets coco,cityscapes,mapillary] [--pillow]

Datasets are generated once (seeded) with panoptiq.synthetic from the real COCO sample:
COCO-like (5,000 pairs of 640x480), Cityscapes-like (500 pairs of 2048x1024) and
Mapillary-like (50 pairs of 4000x3000); --scale multiplies the pair counts; --pillow has every
PNG re-written by Pillow, as COCO's and detectron2's are (pillow_data.py). Every measurement
runs in its own process (so peak RSS is the tool's own), tools alternate within each round, and
medians over rounds are reported. The times are of the evaluation call itself, JSON parsing
included, interpreter start-up and imports excluded. "decode floor" reads and decodes every PNG
with panoptiq's decoder and nothing else.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

sys.path.insert(0, str(Path(__file__).parent))
from pillow_data import dataset as pillow_dataset

DATASETS = {
    "coco": (5000, (480, 640)),
    "cityscapes": (500, (1024, 2048)),
    "mapillary": (50, (3000, 4000)),
}
HERE = Path(__file__).parent


def dataset(cache: Path, name: str, scale: float, pillow: bool) -> tuple[Path, Path, int]:
    count, size = DATASETS[name]
    count = max(2, int(count * scale))
    if pillow:
        folder = pillow_dataset(cache, count, size=size, name=name, archives=False)
        return folder / "gt.json", folder / "pred.json", count
    folder = cache / f"{name}-{count}"
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    if not pred_json.exists():
        print(f"generating {name}-like dataset: {count} pairs of {size[1]}x{size[0]} in {folder}", flush=True)
        make_dataset(folder, count, seed=2026, size=size, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
    return gt_json, pred_json, count


def measure(tool: str, gt_json: Path, pred_json: Path, threads: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "run_tool.py"), tool, str(gt_json), str(pred_json), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of pairs (default 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasets", default="coco,cityscapes,mapillary")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    parser.add_argument("--skip", default="", help="comma-separated tools to leave out")
    parser.add_argument("--pillow", action="store_true", help="PNGs re-written by Pillow, as real datasets' are")
    args = parser.parse_args()

    cores = os.cpu_count() or 1
    tools = [
        ("panopticapi", "panopticapi", cores),
        ("hotcoco", "hotcoco", cores),
        ("hotcoco 1 thread", "hotcoco", 1),
        ("panoptiq", "panoptiq", cores),
        ("panoptiq 1 thread", "panoptiq", 1),
        ("decode floor", "decode-floor", cores),
    ]
    skip = set(filter(None, args.skip.split(",")))
    tools = [t for t in tools if t[1] not in skip and t[0] not in skip]
    print(f"# Machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    packages = ("numpy", "Pillow", "hotcoco", "panopticapi-lite")
    print("# " + ", ".join(f"{package} {_version(package)}" for package in packages))
    for name in args.datasets.split(","):
        gt_json, pred_json, count = dataset(Path(args.cache), name, args.scale, args.pillow)
        samples: dict[str, list[dict]] = {label: [] for label, _, _ in tools}
        for round_index in range(args.rounds):
            order = tools if round_index % 2 == 0 else tools[::-1]
            for label, tool, threads in order:
                samples[label].append(measure(tool, gt_json, pred_json, threads))
        seconds = {label: statistics.median(s["seconds"] for s in runs) for label, runs in samples.items()}
        rss = {label: max(max(s["rss_mb"], s["worker_rss_mb"]) for s in runs) for label, runs in samples.items()}
        pqs = {label: runs[0]["pq"] for label, runs in samples.items() if runs[0]["pq"] is not None}
        h, w = DATASETS[name][1]
        lines = [
            f"\n### {name}-like: {count} pairs of {w}x{h}{' written by Pillow' if args.pillow else ''}, "
            f"median of {args.rounds} rounds\n",
            "| tool | threads | time | ms / pair | panoptiq faster by | peak RSS (largest process) | PQ |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, _, threads in tools:
            ratio = seconds[label] / seconds["panoptiq"] if "panoptiq" in seconds else float("nan")
            pq = f"{100 * pqs[label]:.3f}" if label in pqs else "-"
            lines.append(
                f"| {label} | {threads} | {seconds[label]:.2f} s | {1000 * seconds[label] / count:.2f} | "
                f"{ratio:.2f}x | {rss[label]:.0f} MB | {pq} |"
            )
        if "decode floor" in seconds and "panoptiq" in seconds:
            lines.append(f"\npanoptiq end-to-end / decode floor: {seconds['panoptiq'] / seconds['decode floor']:.2f}x")
        if "panoptiq 1 thread" in seconds and "panoptiq" in seconds:
            lines.append(
                f"panoptiq {cores} threads vs 1: {seconds['panoptiq 1 thread'] / seconds['panoptiq']:.2f}x faster"
            )
        print("\n".join(lines), flush=True)
        # Speed means nothing if the numbers differ: panopticapi is the reference.
        if "panoptiq" in pqs and "panopticapi" in pqs and abs(pqs["panoptiq"] - pqs["panopticapi"]) > 1e-9:
            raise SystemExit(
                f"{name}: panoptiq's PQ {pqs['panoptiq']!r} differs from panopticapi's {pqs['panopticapi']!r}"
            )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
