"""Per-image speed: rgb2id and one-pair evaluation, panoptiq against panopticapi and hotcoco.

Run: python benches/bench_image.py [--rounds N]

Every tool runs on the same data in the same process, alternating, and medians are reported.
The pair is a real COCO val2017 ground truth from the shipped sample (640x427) and a perturbed
prediction made from it, written as PNGs so that every tool reads the same files.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import panoptiq
from panoptiq.synthetic import perturb, sample_dir


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        fn()
    return time.perf_counter() - start


def bench(tools: dict[str, Callable[[], object]], rounds: int, inner: int) -> dict[str, float]:
    """Median seconds per call of each tool, tools alternating within every round."""
    samples: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(rounds):
        for name, fn in tools.items():
            samples[name].append(timed(lambda fn=fn: [fn() for _ in range(inner)]) / inner)
    return {name: statistics.median(s) for name, s in samples.items()}


def report(title: str, medians: dict[str, float], reference: str, nbytes: int | None = None) -> None:
    print(f"\n### {title}\n")
    print("| tool | median | vs " + reference + (" | throughput |" if nbytes else " |"))
    print("|---|---:|---:" + ("|---:|" if nbytes else "|"))
    for name, seconds in medians.items():
        ratio = medians[reference] / seconds
        row = f"| {name} | {seconds * 1e3:.3f} ms | {ratio:.1f}x |"
        if nbytes:
            row += f" {nbytes / seconds / 1e9:.2f} GB/s |"
        print(row)


def bench_rgb2id(rounds: int) -> None:
    from panopticapi.utils import rgb2id as panopticapi_rgb2id

    rng = np.random.default_rng(0)
    for h, w in ((480, 640), (2000, 3000)):
        color = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        as_uint32 = color.astype(np.uint32)  # what panopticapi's evaluation passes in
        inner = 20 if h < 1000 else 2
        medians = bench(
            {
                "panoptiq uint8": lambda c=color: panoptiq.rgb2id(c),
                "panopticapi uint8": lambda c=color: panopticapi_rgb2id(c),
                "panoptiq uint32": lambda c=as_uint32: panoptiq.rgb2id(c),
                "panopticapi uint32": lambda c=as_uint32: panopticapi_rgb2id(c),
            },
            rounds,
            inner,
        )
        report(
            f"rgb2id, {w}x{h} (throughput in input bytes of uint8)",
            medians,
            "panopticapi uint8",
            color.nbytes,
        )


def make_pair(folder: Path) -> tuple[dict, dict, dict]:
    data = json.loads((sample_dir() / "panoptic_examples.json").read_text())
    categories = {c["id"]: c for c in data["categories"]}
    ann = data["annotations"][0]
    gt_ids = panoptiq.read_id_map(sample_dir() / "panoptic_examples" / ann["file_name"])
    pred_ids, pred_segments = perturb(gt_ids, ann["segments_info"], categories, np.random.default_rng(0))
    for side, ids in (("gt", gt_ids), ("pred", pred_ids)):
        (folder / side).mkdir()
        Image.fromarray(panoptiq.id2rgb(ids)).save(folder / side / ann["file_name"])
    gt_ann = {**ann, "segments_info": ann["segments_info"]}
    pred_ann = {"image_id": ann["image_id"], "file_name": ann["file_name"], "segments_info": pred_segments}
    for side, annotation in (("gt", gt_ann), ("pred", pred_ann)):
        body = {"annotations": [annotation], "categories": data["categories"], "images": data["images"][:1]}
        (folder / f"{side}.json").write_text(json.dumps(body))
    return gt_ann, pred_ann, categories


def bench_image(rounds: int) -> None:
    from hotcoco.panoptic import pq_compute as hotcoco_pq_compute
    from panopticapi.evaluation import pq_compute_single_core

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gt_ann, pred_ann, categories = make_pair(folder)
        gt_png, pred_png = folder / "gt" / gt_ann["file_name"], folder / "pred" / pred_ann["file_name"]
        gt_ids, pred_ids = panoptiq.read_id_map(gt_png), panoptiq.read_id_map(pred_png)
        h, w = gt_ids.shape

        def panoptiq_in_memory() -> object:
            return panoptiq.evaluate_image(
                gt_ids, gt_ann["segments_info"], pred_ids, pred_ann["segments_info"], categories
            )

        def panoptiq_files() -> object:
            return panoptiq.evaluate_image(
                panoptiq.read_id_map(gt_png),
                gt_ann["segments_info"],
                panoptiq.read_id_map(pred_png),
                pred_ann["segments_info"],
                categories,
            )

        def panopticapi_files() -> object:
            pred_copy = {**pred_ann, "segments_info": [dict(s) for s in pred_ann["segments_info"]]}
            return pq_compute_single_core(0, [(gt_ann, pred_copy)], folder / "gt", folder / "pred", categories)

        def hotcoco_files() -> object:
            return hotcoco_pq_compute(
                str(folder / "gt.json"), str(folder / "pred.json"), str(folder / "gt"), str(folder / "pred")
            )

        medians = bench(
            {
                "panopticapi (PNG files)": panopticapi_files,
                "hotcoco (PNG files, 1-image dataset)": hotcoco_files,
                "panoptiq (PNG files)": panoptiq_files,
                "panoptiq (in-memory id maps)": panoptiq_in_memory,
            },
            rounds,
            10,
        )
        report(f"one image pair, {w}x{h}, COCO val2017 ground truth", medians, "panopticapi (PNG files)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"panoptiq {panoptiq.__version__}; medians of {args.rounds} rounds")
    bench_rgb2id(args.rounds)
    bench_image(args.rounds)


if __name__ == "__main__":
    main()
