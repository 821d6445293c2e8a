"""PanopticQuality.update() per image pair, against evaluate_image and torchmetrics, same run.

Run: python benches/bench_metric.py [--pairs 16] [--torchmetrics-pairs 2] [--updates 100000]

Data: realistic COCO-like pairs made from the real COCO sample (panoptiq.synthetic), at 640x480
and at 2048x1024 (Cityscapes' size), read back from their PNGs; the (category, instance) form
gives every thing segment its own instance id and stuff instance 0, VOID category 0. Prints,
per size: milliseconds per pair of evaluate_image, of update() in each input form under both
rules, of a batch of 16 against 16 single updates, of torchmetrics 1.9's PanopticQuality and of
panoptiq.torchmetrics' drop-in (where torch is installed), with the ratios. Then the peak RSS of
one metric over --updates updates (no per-image rows), sampled as it goes: it must stay flat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import panoptiq
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

SIZES = {"640x480": (480, 640), "2048x1024": (1024, 2048)}


def load(cache: Path, name: str, pairs: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``pairs`` image pairs as id maps with segments, and the categories."""
    folder = cache / f"{name}-{pairs}-v3"
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    if not pred_json.exists():
        print(f"generating {pairs} COCO-like pairs of {name} in {folder}", flush=True)
        # Not "crop" nor "upscaled": every pair has the size named, and batches stack them.
        gt_kinds = [k for k in REALISTIC_GT_KINDS if k not in ("crop", "upscaled")]
        make_dataset(folder, pairs, seed=3, size=SIZES[name], gt_kinds=gt_kinds, pred_kinds=REALISTIC_PRED_KINDS)
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    out = []
    for g in gt["annotations"]:
        p = by_id[g["image_id"]]
        out.append(
            {
                "gt": panoptiq.read_id_map(folder / "gt" / g["file_name"]),
                "pred": panoptiq.read_id_map(folder / "pred" / p["file_name"]),
                "gt_info": g["segments_info"],
                "pred_info": p["segments_info"],
            }
        )
    return out, gt["categories"]


def pair_form(ids: np.ndarray, info: list[dict[str, Any]], isthing: dict[int, bool]) -> np.ndarray:
    """``(H, W, 2)`` (category, instance): things numbered per image, stuff 0, VOID category 0."""
    lookup_ids = np.array([0] + [s["id"] for s in info], dtype=np.int64)
    categories = np.array([0] + [s["category_id"] for s in info], dtype=np.int64)
    instances = np.array([0] + [i + 1 if isthing[s["category_id"]] else 0 for i, s in enumerate(info)])
    order = np.argsort(lookup_ids)
    index = order[np.searchsorted(lookup_ids, ids, sorter=order)]
    return np.stack([categories[index], instances[index]], axis=-1)


def per_pair_ms(call, items: list[Any], rounds: int) -> float:
    """Median over rounds of the mean time per item, in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            call(item)
        times.append((time.perf_counter() - start) / len(items))
    return 1000 * statistics.median(times)


def bench_size(name: str, data: list[dict[str, Any]], categories: list[dict[str, Any]], args) -> None:
    isthing = {c["id"]: c["isthing"] == 1 for c in categories}
    things = [c for c, t in isthing.items() if t]
    stuffs = [c for c, t in isthing.items() if not t]
    for item in data:
        item["pred_pairs"] = pair_form(item["pred"], item["pred_info"], isthing)
        item["gt_pairs"] = pair_form(item["gt"], item["gt_info"], isthing)
    rounds = args.rounds
    rows: list[tuple[str, float]] = []

    def add(label: str, ms: float) -> None:
        rows.append((label, ms))
        print(f"  {label:58s} {ms:9.3f} ms/pair", flush=True)

    print(f"\n{name}: {len(data)} pairs, {data[0]['gt'].size:,} pixels each")
    add(
        "evaluate_image (id maps + segments_info)",
        per_pair_ms(
            lambda d: panoptiq.evaluate_image(d["gt"], d["gt_info"], d["pred"], d["pred_info"], categories),
            data,
            rounds,
        ),
    )
    for rules in ("panopticapi", "torchmetrics"):
        m = panoptiq.PanopticQuality(categories, rules=rules, void=0, allow_unknown_preds_category=True)

        def id_maps(d: dict[str, Any], m: panoptiq.PanopticQuality = m) -> None:
            m.update(d["pred"], d["gt"], preds_segments_info=d["pred_info"], target_segments_info=d["gt_info"])

        add(f"update, {rules} rules, id maps + segments_info", per_pair_ms(id_maps, data, rounds))

        def pairs(d: dict[str, Any], m: panoptiq.PanopticQuality = m) -> None:
            m.update(d["pred_pairs"][None], d["gt_pairs"][None])

        add(f"update, {rules} rules, (B, H, W, 2) pairs, B = 1", per_pair_ms(pairs, data, rounds))
    m = panoptiq.PanopticQuality(categories, void=0)
    # Pairs of the common shape (some ground-truth kinds flip the image) stacked into one batch.
    shape = statistics.mode(d["gt_pairs"].shape for d in data)
    same = [d for d in data if d["gt_pairs"].shape == shape][:16]
    stacked = [(np.stack([d["pred_pairs"] for d in same]), np.stack([d["gt_pairs"] for d in same]))]
    batch = per_pair_ms(lambda b: m.update(*b), stacked, rounds) / len(same)
    add(f"update, panopticapi rules, one batch of {len(same)}", batch)

    table = dict(rows)
    base = table["evaluate_image (id maps + segments_info)"]
    single = table["update, panopticapi rules, (B, H, W, 2) pairs, B = 1"]
    id_maps_ms = table["update, panopticapi rules, id maps + segments_info"]
    print(f"  update (id maps) / evaluate_image: {id_maps_ms / base:.2f}x")
    print(f"  update (pairs) / evaluate_image: {single / base:.2f}x")
    print(f"  {len(same)} single updates / one batch of {len(same)}: {single / batch:.2f}x")

    try:
        import torch
        from torchmetrics.detection import PanopticQuality as TorchmetricsPQ

        from panoptiq.torchmetrics import PanopticQuality as DropIn
    except ImportError as error:
        print(f"  torchmetrics not measured: {error}")
        return
    torch.set_num_threads(os.cpu_count() or 1)
    few = data[: args.torchmetrics_pairs]
    tensors = [(torch.from_numpy(d["pred_pairs"][None]), torch.from_numpy(d["gt_pairs"][None])) for d in few]
    theirs = TorchmetricsPQ(things=set(things), stuffs=set(stuffs), allow_unknown_preds_category=True)
    ours = DropIn(things=set(things), stuffs=set(stuffs), allow_unknown_preds_category=True)
    theirs_ms = per_pair_ms(lambda t: theirs.update(*t), tensors, 1)
    add("torchmetrics PanopticQuality.update", theirs_ms)
    dropin_ms = per_pair_ms(lambda t: ours.update(*t), tensors, rounds)
    add("panoptiq.torchmetrics.PanopticQuality.update (drop-in)", dropin_ms)
    tm_rules_ms = table["update, torchmetrics rules, (B, H, W, 2) pairs, B = 1"]
    print(f"  torchmetrics / update (torchmetrics rules, pairs): {theirs_ms / tm_rules_ms:,.0f}x")
    print(f"  torchmetrics / drop-in: {theirs_ms / dropin_ms:,.0f}x")
    agree = abs(float(theirs.compute()) - float(ours.compute()))
    print(f"  |torchmetrics PQ - drop-in PQ| on these pairs: {agree:.1e}")


def rss_child(updates: int) -> None:
    """Feed one metric ``updates`` small COCO-like crops; print RSS samples as JSON."""
    cache = Path(sys.argv[sys.argv.index("--cache") + 1])
    data, categories = load(cache, "640x480", 16)
    crops = [(d["pred"][:120, :160], d["gt"][:120, :160], d["pred_info"], d["gt_info"]) for d in data]
    # Only segments present in a crop may be listed for the prediction.
    pairs = []
    for p, g, pi, gi in crops:
        present = set(np.unique(p).tolist())
        pairs.append((np.ascontiguousarray(p), np.ascontiguousarray(g), [s for s in pi if s["id"] in present], gi))
    m = panoptiq.PanopticQuality(categories)
    samples = {}
    marks = {updates // 100, updates // 10, updates // 2, updates}
    for i in range(1, updates + 1):
        p, g, pi, gi = pairs[i % len(pairs)]
        m.update(p, g, preds_segments_info=pi, target_segments_info=gi)
        if i in marks:
            status = Path("/proc/self/status").read_text()
            rss = {
                k: int(line.split()[1]) / 1024
                for line in status.splitlines()
                for k in ("VmRSS", "VmHWM")
                if line.startswith(k + ":")
            }
            samples[i] = rss
    print(json.dumps(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--torchmetrics-pairs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--sizes", default="640x480,2048x1024")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench-metric"))
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    cache = Path(args.cache)
    for name in args.sizes.split(","):
        data, categories = load(cache, name, args.pairs)
        bench_size(name, data, categories, args)
    load(cache, "640x480", 16)
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(args.updates), "--cache", str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    samples = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nRSS of one metric over {args.updates:,} updates of 160x120 COCO-like crops (no per-image rows):")
    for count, rss in samples.items():
        print(f"  after {int(count):>9,} updates: RSS {rss['VmRSS']:.1f} MB, peak {rss['VmHWM']:.1f} MB")
    values = list(samples.values())
    first, last = values[0], values[-1]
    print(f"  peak growth from the first sample to the last: {last['VmHWM'] - first['VmHWM']:+.1f} MB")


if __name__ == "__main__":
    main()
