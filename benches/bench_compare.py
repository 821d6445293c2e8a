"""Comparing prediction sets: ``panoptiq.compare`` of 4 sets against one ground truth, in one
pass, against 4 separate ``pq_compute`` calls, and panopticapi's 4 evaluations.

Run: python benches/bench_compare.py [--pairs 1000] [--sets 4] [--rounds 3] [--no-panopticapi]

Data: COCO-like 640x480 pairs, PNGs re-written by Pillow (see pillow_data.py): the ground truth,
its prediction set, and 3 more sets perturbed from the ground truth with other seeds (shifts,
misses, wrong classes, splits and merges, spurious blobs), also written by Pillow. Both panoptiq
ways run with the same bootstrap (``--resamples``, 0 for none) and give the same numbers
(checked). The ground truth's share of one evaluation is the time of reading and decoding its
PNGs alone over the time of one ``pq_compute``. Target: one pass at most 0.75x the 4 separate
evaluations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from pillow_data import dataset, describe  # noqa: E402

import panoptiq  # noqa: E402
import panoptiq._core as _core  # noqa: E402
from panoptiq import evaluation  # noqa: E402
from panoptiq._ids import id2rgb, rgb2id  # noqa: E402
from panoptiq.synthetic import perturb  # noqa: E402

SETTINGS = [
    {"shift": 2, "drop": 0.05, "relabel": 0.05, "split": 0.05, "merge": 0.05, "blobs": 1},
    {"shift": 5, "drop": 0.15, "relabel": 0.15, "split": 0.2, "merge": 0.2, "blobs": 3},
    {"shift": 8, "drop": 0.3, "relabel": 0.25, "split": 0.1, "merge": 0.1, "blobs": 6},
]


def prediction_sets(folder: Path, sets: int) -> list[Path]:
    """The dataset's own prediction JSON and ``sets - 1`` more, made once and cached."""
    gt = json.loads((folder / "gt.json").read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    found = [folder / "pred.json"]
    for k in range(sets - 1):
        target = folder / f"set{k}.json"
        if not target.exists():
            print(f"writing prediction set {k + 1} in {folder / f'set{k}'}", flush=True)
            rng = np.random.default_rng(1000 + k)
            (folder / f"set{k}").mkdir(exist_ok=True)
            annotations = []
            for a in gt["annotations"]:
                with Image.open(folder / "gt" / a["file_name"]) as image:
                    ids = rgb2id(np.asarray(image.convert("RGB")))
                pred, segments = perturb(ids, a["segments_info"], categories, rng, **SETTINGS[k % len(SETTINGS)])
                Image.fromarray(id2rgb(pred)).save(folder / f"set{k}" / a["file_name"])
                annotations.append({"image_id": a["image_id"], "file_name": a["file_name"], "segments_info": segments})
            target.write_text(json.dumps({"annotations": annotations}))
        found.append(target)
    return found


def panopticapi_time(gt_json: str, pred_json: str) -> float | None:
    try:
        from panopticapi.evaluation import pq_compute as reference
    except ImportError:
        return None
    import contextlib
    import io

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        reference(gt_json, pred_json)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--sets", type=int, default=4)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-panopticapi", action="store_true", help="do not time panopticapi (minutes)")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    args = parser.parse_args()
    folder = dataset(Path(args.cache), args.pairs, archives=False)
    preds = [str(p) for p in prediction_sets(folder, args.sets)]
    gt_json = str(folder / "gt.json")
    gt_pngs = sorted(str(p) for p in (folder / "gt").iterdir())
    describe(args.pairs, args.rounds, f"{args.sets} prediction sets, bootstrap {args.resamples}, ")
    bootstrap = args.resamples or None
    times: dict[str, list[float]] = {"compare": [], "separate": [], "one": [], "gt_decode": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        compared = panoptiq.compare(gt_json, preds, bootstrap=bootstrap)
        times["compare"].append(time.perf_counter() - start)
        start = time.perf_counter()
        separate = [evaluation.pq_compute(gt_json, p, verbose=False, bootstrap=bootstrap) for p in preds]
        times["separate"].append(time.perf_counter() - start)
        start = time.perf_counter()
        evaluation.pq_compute(gt_json, preds[0], verbose=False)
        times["one"].append(time.perf_counter() - start)
        start = time.perf_counter()
        _core.decode_files(gt_pngs, None)
        times["gt_decode"].append(time.perf_counter() - start)
        for a, b in zip(compared, separate, strict=True):
            assert {k: v for k, v in a.items() if k != "comparison"} == b, "compare gave other numbers"
    m = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'panoptiq.compare, one pass':40s} {m['compare']:7.2f}s")
    print(f"{f'{args.sets} separate pq_compute':40s} {m['separate']:7.2f}s")
    print(f"one pass / separate: {m['compare'] / m['separate']:.2f}x (target <= 0.75x)")
    print(
        f"ground truth's share of one evaluation: {m['gt_decode']:.2f} s of {m['one']:.2f} s "
        f"({100 * m['gt_decode'] / m['one']:.0f}%)"
    )
    if not args.no_panopticapi:
        one = panopticapi_time(gt_json, preds[0])
        if one is None:
            print("panopticapi is not installed (pip install --no-deps panopticapi-lite): no reference timing")
        else:
            print(
                f"panopticapi, one evaluation: {one:.1f} s; {args.sets} evaluations ~{args.sets * one:.0f} s; "
                f"panoptiq.compare {args.sets * one / m['compare']:.0f}x faster"
            )


if __name__ == "__main__":
    main()
