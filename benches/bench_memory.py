"""Peak memory of pq_compute as the dataset grows: 1,000 against 20,000 COCO-like pairs.

Run: python benches/bench_memory.py [--pairs 1000,20000] [--cache DIR]

Writes 1,000 realistic COCO-like pairs (640x480, Pillow-free panoptiq encoder) once, then JSON
files of N pairs whose annotations cycle over those PNG files under distinct image ids: the
JSON tables grow with N exactly as a real dataset's would, the images in flight do not. Each
size is evaluated in its own process (run_tool.py); its peak RSS (VmHWM) is printed beside the
size of its two JSON files. Evaluation must not hold more than the JSON tables per image.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

HERE = Path(__file__).parent
BASE_PAIRS = 1000


def base(cache: Path) -> tuple[Path, Path]:
    folder = cache / f"coco-{BASE_PAIRS}"
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    if not pred_json.exists():
        print(f"generating {BASE_PAIRS} COCO-like pairs in {folder}", flush=True)
        make_dataset(
            folder, BASE_PAIRS, seed=7, size=(480, 640), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
        )
    return gt_json, pred_json


def scaled(cache: Path, pairs: int) -> tuple[Path, Path]:
    gt_json, pred_json = base(cache)
    if pairs == BASE_PAIRS:
        return gt_json, pred_json
    folder = cache / f"coco-{pairs}"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in (gt_json, pred_json):
        target = folder / path.name
        if not target.exists():
            body = json.loads(path.read_text())
            annotations = body["annotations"]
            body["annotations"] = [{**annotations[i % len(annotations)], "image_id": i + 1} for i in range(pairs)]
            target.write_text(json.dumps(body))
            (folder / path.stem).symlink_to(path.with_suffix("").resolve())
        out.append(target)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="1000,20000")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench-memory"))
    args = parser.parse_args()
    cache = Path(args.cache)
    rows = []
    for pairs in map(int, args.pairs.split(",")):
        gt_json, pred_json = scaled(cache, pairs)
        threads = str(os.cpu_count() or 1)
        done = subprocess.run(
            [sys.executable, str(HERE / "run_tool.py"), "panoptiq", str(gt_json), str(pred_json), threads],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        json_mb = (gt_json.stat().st_size + pred_json.stat().st_size) / 2**20
        rows.append((pairs, json_mb, result["rss_mb"], result["seconds"]))
    print("\n| pairs | JSON (both files) | peak RSS | time |\n|---:|---:|---:|---:|")
    for pairs, json_mb, rss, seconds in rows:
        print(f"| {pairs:,} | {json_mb:.1f} MB | {rss:.0f} MB | {seconds:.2f} s |")
    (small, small_json, small_rss, _), (large, large_json, large_rss, _) = rows[0], rows[-1]
    per_pair = (large_rss - small_rss) * 2**20 / (large - small)
    json_per_pair = (large_json - small_json) * 2**20 / (large - small)
    print(
        f"\npeak RSS grows by {per_pair / 1024:.1f} KB per pair, against {json_per_pair / 1024:.1f} KB of JSON "
        f"per pair ({per_pair / json_per_pair:.2f}x the JSON text)"
    )


if __name__ == "__main__":
    main()
