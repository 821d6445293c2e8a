"""The ``fastpq`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from fastpq.image import evaluate_image
from fastpq.png import read_id_map
from fastpq.stats import PQStat
from fastpq.synthetic import perturb


def sample_dir() -> Path:
    """The real COCO panoptic sample shipped inside the package."""
    return Path(str(resources.files("fastpq") / "data" / "coco_sample"))


def print_table(rows: list[tuple[str, dict]]) -> None:
    print("{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"))
    print("-" * (10 + 7 * 4))
    for name, r in rows:
        print(f"{name:10s}| {100 * r['pq']:5.1f}  {100 * r['sq']:5.1f}  {100 * r['rq']:5.1f} {r['n']:5d}")


def demo(args: argparse.Namespace) -> int:
    folder = sample_dir()
    dataset = json.loads((folder / "panoptic_examples.json").read_text())
    categories = {c["id"]: c for c in dataset["categories"]}
    rng = np.random.default_rng(args.seed)
    total = PQStat()
    for ann in dataset["annotations"]:
        gt_ids = read_id_map(folder / "panoptic_examples" / ann["file_name"])
        pred_ids, pred_segments = perturb(gt_ids, ann["segments_info"], categories, rng)
        stat = evaluate_image(
            gt_ids, ann["segments_info"], pred_ids, pred_segments, categories, image_id=ann["image_id"]
        )
        image_all, _ = stat.pq_average(categories, None)
        print(f"image {ann['image_id']} ({gt_ids.shape[1]}x{gt_ids.shape[0]}): PQ {100 * image_all['pq']:.1f}")
        total += stat
    print(f"\nSample of {len(dataset['annotations'])} COCO val2017 images against perturbed predictions:")
    print_table(
        [
            (name, total.pq_average(categories, isthing)[0])
            for name, isthing in (("All", None), ("Things", True), ("Stuff", False))
        ]
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastpq", description="Panoptic Quality evaluation, equal to panopticapi.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="evaluate perturbed predictions of the shipped COCO sample")
    demo_parser.add_argument("--seed", type=int, default=0, help="seed of the perturbations")
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError, KeyError) as error:
        print(f"fastpq: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
