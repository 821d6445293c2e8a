"""Bootstrap confidence intervals: what ``pq_compute(bootstrap=1000)`` adds to an evaluation, and
the resampling alone against the loop users script with panopticapi's ``PQStat``.

Run: python benches/bench_bootstrap.py [--pairs 5000] [--resamples 1000] [--rounds 3]

Data: COCO-like 640x480 pairs, PNGs re-written by Pillow (see pillow_data.py), evaluated with
and without ``bootstrap=`` (configurations alternating); and, since those pairs come from two
COCO images and so hold few classes, a COCO-shaped table of per-image sums: 133 classes, 4 to 15
of them per image, for the same number of images. The scripted loop sums one panopticapi
``PQStat`` per image over each resample's draws and calls ``pq_average`` for All, Things and
Stuff; it is timed on a few resamples and scaled to ``--resamples``. Target: the intervals add
less than 1 s for 1,000 resamples over 5,000 images.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from pillow_data import dataset, describe  # noqa: E402

from panoptiq import evaluation  # noqa: E402
from panoptiq.results import Bootstrap, ImageTable  # noqa: E402
from panoptiq.results._bootstrap import intervals, resample_weights  # noqa: E402

COCO_CLASSES = 133
COCO_THINGS = 80


def coco_shaped_table(images: int, seed: int = 0) -> ImageTable:
    """Per-image sums shaped like COCO panoptic's: 4 to 15 of the 133 classes in each image."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(4, 16, size=images)
    image = np.repeat(np.arange(images, dtype=np.uint32), counts)
    category = np.concatenate([np.sort(rng.choice(COCO_CLASSES, k, replace=False)) + 1 for k in counts])
    rows = len(image)
    tp, fp, fn = (rng.integers(0, high, rows).astype(np.uint64) for high in (4, 3, 3))
    iou = tp * rng.uniform(0.5, 1.0, rows)
    return ImageTable(images, image, category.astype(np.int64), iou, tp, fp, fn)


def scripted_loop(table: ImageTable, kinds: list[tuple[int, bool]], resamples: int, seed: int) -> float:
    """Seconds per resample of the loop users write with panopticapi: a ``PQStat`` per image,
    summed over each resample's draws, then ``pq_average`` for All, Things and Stuff."""
    from panopticapi.evaluation import PQStat

    per_image = [PQStat() for _ in range(table.images)]
    for i, c, iou, tp, fp, fn in zip(table.image, table.category, table.iou, table.tp, table.fp, table.fn, strict=True):
        stat = per_image[int(i)].pq_per_cat[int(c)]
        stat.iou, stat.tp, stat.fp, stat.fn = float(iou), int(tp), int(fp), int(fn)
    categories = {c: {"id": c, "isthing": int(t)} for c, t in kinds}
    start = time.perf_counter()
    for weights in resample_weights(table.images, resamples, seed):
        for row in weights:
            total = PQStat()
            for i in np.flatnonzero(row):
                for _ in range(int(row[i])):
                    total += per_image[i]
            for isthing in (None, True, False):
                total.pq_average(categories, isthing=isthing)
    return (time.perf_counter() - start) / resamples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--loop-resamples", type=int, default=5, help="resamples the scripted loop is timed on")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    args = parser.parse_args()
    folder = dataset(Path(args.cache), args.pairs)
    gt_json, pred_json = str(folder / "gt.json"), str(folder / "pred.json")
    describe(args.pairs, args.rounds)

    plain = evaluation.pq_compute(gt_json, pred_json, verbose=False)
    configurations = {
        "pq_compute": {},
        f"pq_compute(bootstrap={args.resamples})": {"bootstrap": args.resamples},
    }
    times: dict[str, list[float]] = {name: [] for name in configurations}
    for _ in range(args.rounds):
        for name, extra in configurations.items():
            start = time.perf_counter()
            result = evaluation.pq_compute(gt_json, pred_json, verbose=False, **extra)
            times[name].append(time.perf_counter() - start)
            assert {k: v for k, v in result.items() if k != "intervals"} == plain, f"{name} gave other numbers"
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:36s} {median:7.2f}s")
    added = medians[f"pq_compute(bootstrap={args.resamples})"] - medians["pq_compute"]
    print(f"the intervals add {added:.2f} s over {args.pairs} images (target < 1 s for 1000 over 5000)\n")

    table = coco_shaped_table(args.pairs)
    kinds = [(c, c <= COCO_THINGS) for c in range(1, COCO_CLASSES + 1)]
    resampling = Bootstrap(args.resamples, seed=1)
    alone = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        intervals(table, kinds, resampling)
        alone.append(time.perf_counter() - start)
    ours = statistics.median(alone)
    print(
        f"COCO-shaped sums, {args.pairs} images x {COCO_CLASSES} classes ({len(table.image)} image-class rows): "
        f"{args.resamples} resamples in {ours:.2f} s"
    )
    try:
        per_resample = scripted_loop(table, kinds, args.loop_resamples, seed=1)
    except ImportError:
        print("panopticapi is not installed (pip install --no-deps panopticapi-lite): no scripted loop to compare")
        return
    loop = per_resample * args.resamples
    print(
        f"scripted loop over panopticapi PQStat: {per_resample * 1000:.0f} ms per resample, "
        f"{loop:.0f} s for {args.resamples} (timed on {args.loop_resamples}); panoptiq {loop / ours:.0f}x faster"
    )


if __name__ == "__main__":
    main()
