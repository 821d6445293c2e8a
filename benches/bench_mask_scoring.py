"""Scoring predictions given as COCO masks directly, against converting them to PNGs first.

Run: python benches/bench_mask_scoring.py [--images 1000] [--rounds 3] [--cache DIR]
     python benches/bench_mask_scoring.py --smoke    (CI: a few images, a few seconds)

Data: COCO-like pairs from pillow_data.dataset (Pillow-written PNGs, 640x480, real segment
counts); each prediction's segments are cut into COCO RLE (panoptiq's panoptic→detection
converter, whose strings are pycocotools') and given two ways:

* a COCO detection JSON, as instance heads write it: ``convert_detection_to_panoptic_coco_format``
  makes the panoptic PNGs and JSON, then ``pq_compute`` evaluates them — "convert, then evaluate";
* one panoptic JSON whose segments carry the same RLE (``segmentation``) and no PNG folder:
  ``pq_compute`` paints the masks in the core — "score the masks directly".

Both give the same numbers (checked). The ratio is convert-then-evaluate / direct; target >= 2x.
Both run on all cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from pillow_data import dataset

from panoptiq import masks as mask_utils
from panoptiq import pq_compute
from panoptiq.converters import (
    convert_detection_to_panoptic_coco_format,
    convert_panoptic_to_detection_coco_format,
)


def inputs(folder: Path, work: Path) -> tuple[Path, Path, Path, Path]:
    """(gt JSON, categories file, detection JSON, panoptic JSON with masks)."""
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    categories = work / "categories.json"
    categories.write_text(json.dumps(json.loads(gt_json.read_text())["categories"]))
    detection = work / "detection.json"
    convert_panoptic_to_detection_coco_format(str(pred_json), None, str(detection), str(categories), False)
    det = json.loads(detection.read_text())
    gt = json.loads(gt_json.read_text())
    # A semantic head gives one region per stuff class and image: the synthetic predictions'
    # parts of one stuff class are merged into one annotation.
    things = {c["id"] for c in gt["categories"] if c["isthing"] == 1}
    merged: dict[tuple[Any, int], dict[str, Any]] = {}
    annotations = []
    for ann in det["annotations"]:
        key = (ann["image_id"], ann["category_id"])
        if ann["category_id"] in things:
            annotations.append(ann)
        elif key in merged:
            first = merged[key]
            union = mask_utils.merge([first["segmentation"], ann["segmentation"]])
            first["segmentation"] = {"size": union["size"], "counts": union["counts"].decode("ascii")}
        else:
            merged[key] = ann
            annotations.append(ann)
    det["annotations"] = annotations
    det["images"] = [
        {"id": a["image_id"], "file_name": a["file_name"].replace(".png", ".jpg"), "height": h, "width": w}
        for a, (h, w) in zip(gt["annotations"], sizes(folder, gt), strict=True)
    ]
    detection.write_text(json.dumps(det))
    by_image: dict[Any, list[Any]] = {}
    for ann in det["annotations"]:
        # Detection annotations are numbered from 0 (panopticapi's converter); 0 is VOID here.
        segment = {"id": ann["id"] + 1, "category_id": ann["category_id"], "segmentation": ann["segmentation"]}
        by_image.setdefault(ann["image_id"], []).append(segment)
    masks = work / "masks.json"
    masks.write_text(json.dumps({"annotations": [{"image_id": i, "segments_info": s} for i, s in by_image.items()]}))
    return gt_json, categories, detection, masks


def sizes(folder: Path, gt: dict[str, Any]) -> list[tuple[int, int]]:
    from panoptiq import read_id_map

    return [read_id_map(folder / "gt" / a["file_name"]).shape for a in gt["annotations"]]


def best(rounds: int, call: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "panoptiq-bench")
    parser.add_argument("--smoke", action="store_true", help="a few images, one round")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.rounds = 8, 1
    folder = dataset(args.cache, args.images, archives=False)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gt_json, categories, detection, masks = inputs(folder, work)

        rounds = itertools.count()

        def convert_then_evaluate() -> dict[str, Any]:
            # A new folder each round, none deleted until the end: files created just after
            # thousands were deleted are slow on ext4 (it skips recently freed inodes one by
            # one), a cost that converting into a new folder does not have.
            out = work / f"converted-{next(rounds)}.json"
            convert_detection_to_panoptic_coco_format(str(detection), None, str(out), str(categories))
            return pq_compute(str(gt_json), str(out), verbose=False)

        def direct() -> dict[str, Any]:
            return pq_compute(str(gt_json), str(masks), verbose=False)

        converted_time, converted = best(args.rounds, convert_then_evaluate)
        direct_time, scored = best(args.rounds, direct)
        same = all(converted[k] == scored[k] for k in ("All", "Things", "Stuff", "per_class"))
        print(f"{args.images} images, 640x480, {args.rounds} rounds (best of)")
        print(f"{'convert, then evaluate':<28}{converted_time:8.2f} s")
        print(f"{'score the masks directly':<28}{direct_time:8.2f} s")
        print(f"{'ratio':<28}{converted_time / direct_time:8.1f}x   (target >= 2x)")
        print(f"same numbers: {same}   PQ {scored['All']['pq']:.6f}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
