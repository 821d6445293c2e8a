"""The command line's video commands: ``panoptiq vpq`` (mcahny/vps's ``eval_vpq.py`` and VIPSeg's
``eval_vpq_vspw.py``, with their ``vpq-k.txt`` files) and ``panoptiq stq`` (VIPSeg's
``eval_stq_vspw.py`` and KITTI-STEP's folders)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from panoptiq.results import print_table
from panoptiq.video import stq_compute, stq_kitti_step, vpq_compute
from panoptiq.video._files import LAYOUTS, PAIRINGS


def tube_lengths(text: str) -> tuple[int, ...]:
    try:
        lengths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected frame counts separated by commas, e.g. 1,2,3,4, got {text!r}"
        ) from None
    if not lengths or min(lengths) < 1:
        raise argparse.ArgumentTypeError(f"tube lengths must be at least 1 frame, got {text!r}")
    return lengths


def k_of(n: int) -> int:
    """mcahny/vps's name of an n-frame tube: k = 5 (n - 1), the annotated frames being 5 apart."""
    return (n - 1) * 5


def write_vps_files(results: Mapping[Any, Any], lengths: Sequence[int], folder: Path) -> None:
    """mcahny/vps's output files: ``vpq-<k>.txt`` per tube length and ``vpq-final.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in lengths:
        r = results[n]
        lines = [
            "================================================",
            "{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"),
        ]
        lines.append("-" * (10 + 7 * 4))
        for name in ("All", "Things", "Stuff"):
            s = r[name]
            lines.append(f"{name:10s}| {100 * s['pq']:5.1f}  {100 * s['sq']:5.1f}  {100 * s['rq']:5.1f} {s['n']:5d}")
        lines.append(
            "{:4s}| {:>5s} {:>5s} {:>5s} {:>6s} {:>7s} {:>7s} {:>7s}".format(
                "IDX", "PQ", "SQ", "RQ", "IoU", "TP", "FP", "FN"
            )
        )
        for c, pc in r["per_class"].items():
            lines.append(
                f"{c:4d} | {100 * pc['pq']:5.1f} {100 * pc['sq']:5.1f} {100 * pc['rq']:5.1f} {pc['iou']:6.1f} "
                f"{pc['tp']:7d} {pc['fp']:7d} {pc['fn']:7d}"
            )
        (folder / f"vpq-{k_of(n)}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    means = results["vpq"]
    (folder / "vpq-final.txt").write_text(
        "".join(
            f"vpq_{key}:{100 * means[name]:.4f}\n"
            for key, name in (("all", "All"), ("thing", "Things"), ("stuff", "Stuff"))
        ),
        encoding="utf-8",
    )


def run_vpq(args: argparse.Namespace) -> int:
    out: TextIO = sys.stderr if args.json == "-" else sys.stdout
    started = time.perf_counter()
    results = vpq_compute(
        args.gt_json,
        args.pred_json,
        args.gt_folder,
        args.pred_folder,
        frames_per_video=args.frames_per_video,
        tube_lengths=args.tube_lengths,
        layout=args.layout,
        pairing=args.pairing,
        strict=not args.loose,
        num_threads=args.threads,
    )
    seconds = time.perf_counter() - started
    lengths = [key for key in results if isinstance(key, int)]
    for n in lengths:
        print(f"==> {n}-frame tubes (k = {k_of(n)}):", file=out)
        print_table(results[n], file=out)
    means = results["vpq"]
    print(
        f"VPQ over tube lengths {', '.join(map(str, lengths))}: All {100 * means['All']:.4f}  "
        f"Things {100 * means['Things']:.4f}  Stuff {100 * means['Stuff']:.4f}",
        file=out,
    )
    print(f"Time elapsed: {seconds:0.2f} seconds", file=out)
    if args.output_dir is not None:
        write_vps_files(results, lengths, Path(args.output_dir))
        print(f"mcahny/vps's vpq-<k>.txt and vpq-final.txt written to {args.output_dir}", file=out)
    if args.json is not None:
        table = {str(key): value for key, value in results.items()}
        text = json.dumps(table, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


def run_stq(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    common = {"ignore_label": args.ignore_label, "label_bit_shift": args.label_bit_shift, "num_threads": args.threads}
    common["accumulate"] = args.accumulate
    if args.layout == "vipseg":
        if args.pred_json is None or args.gt_json is None:
            raise ValueError("--layout vipseg needs GT_JSON and --pred-json")
        result = stq_compute(
            args.gt_json,
            args.pred_json,
            args.gt_folder,
            args.pred_folder,
            num_classes=args.num_classes or 124,
            **common,
        )
    else:
        things = args.things if args.things is not None else (11, 13)
        result = stq_kitti_step(
            args.gt_folder, args.pred_folder, num_classes=args.num_classes or 19, things_list=things, **common
        )
    seconds = time.perf_counter() - started
    print(f"STQ: {float(result['STQ']):.6f}  AQ: {float(result['AQ']):.6f}  IoU: {float(result['IoU']):.6f}")
    for seq, stq, aq, iou, n in zip(
        result["ID_per_seq"],
        result["STQ_per_seq"],
        result["AQ_per_seq"],
        result["IoU_per_seq"],
        result["Length_per_seq"],
        strict=True,
    ):
        print(f"  sequence {seq}: STQ {float(stq):.6f}  AQ {float(aq):.6f}  IoU {float(iou):.6f}  ({n} frames)")
    print(f"Time elapsed: {seconds:0.2f} seconds")
    return 0


def things(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected class ids separated by commas, got {text!r}") from None


def add_commands(commands: Any, positive_int: Any) -> None:
    vpq = commands.add_parser(
        "vpq",
        help="Video Panoptic Quality of a video dataset (Cityscapes-VPS or VIPSeg layout), as mcahny/vps computes it",
        description="Video Panoptic Quality: for each tube length, every window of that many consecutive frames "
        "of every video matched as one image, as mcahny/vps's eval_vpq.py (and VIPSeg's eval_vpq_vspw.py) compute it.",
    )
    vpq.add_argument("gt_json", help="ground-truth JSON file")
    vpq.add_argument("pred_json", help="prediction JSON file")
    vpq.add_argument("--gt-folder", help="ground-truth PNG folder (default: GT_JSON without .json)")
    vpq.add_argument("--pred-folder", help="prediction PNG folder (default: PRED_JSON without .json)")
    vpq.add_argument(
        "--layout", choices=LAYOUTS, default="cityscapes-vps", help="the JSON layout (default: cityscapes-vps)"
    )
    vpq.add_argument("--frames-per-video", type=positive_int, help="cityscapes-vps: frames per video (default: 6)")
    vpq.add_argument("--tube-lengths", type=tube_lengths, help="e.g. 1,2,3,4 (default: 1,2,3,4; VIPSeg 1,2,4,6,8)")
    vpq.add_argument(
        "--pairing",
        choices=PAIRINGS,
        default="position",
        help="how predictions pair with frames (default: position, mcahny/vps's)",
    )
    vpq.add_argument(
        "--loose",
        action="store_true",
        help="allow an id to change category inside a video (each window takes its first frame's)",
    )
    vpq.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    vpq.add_argument(
        "--output-dir", metavar="DIR", help="also write mcahny/vps's vpq-<k>.txt and vpq-final.txt files to DIR"
    )
    vpq.add_argument("--json", metavar="OUT", help="write the results to this JSON file ('-': standard output)")
    vpq.set_defaults(run=run_vpq)

    stq = commands.add_parser(
        "stq",
        help="Segmentation and Tracking Quality of VIPSeg or KITTI-STEP, as deeplab2's STQuality computes it",
        description="Segmentation and Tracking Quality (STQ = sqrt(AQ x IoU)): VIPSeg's JSON and PNG folders "
        "converted as its eval_stq_vspw.py does, or KITTI-STEP's per-sequence PNG folders.",
    )
    stq.add_argument("gt_json", nargs="?", help="vipseg: the ground-truth JSON file")
    stq.add_argument("--pred-json", help="vipseg: the prediction JSON file")
    stq.add_argument("--gt-folder", required=True, help="ground-truth PNG folder (one sub-folder per video)")
    stq.add_argument("--pred-folder", required=True, help="prediction PNG folder, likewise")
    stq.add_argument("--layout", choices=("vipseg", "kitti-step"), default="vipseg", help="default: vipseg")
    stq.add_argument("--num-classes", type=positive_int, help="default: 124 (vipseg), 19 (kitti-step)")
    stq.add_argument("--things", type=things, help="kitti-step: tracked classes (default: 11,13)")
    stq.add_argument("--ignore-label", type=int, default=255, help="default: 255")
    stq.add_argument("--label-bit-shift", type=positive_int, default=16, help="default: 16")
    stq.add_argument(
        "--accumulate", choices=("exact", "float32"), default="exact", help="float32: deeplab2's bits under NumPy 2"
    )
    stq.add_argument("--threads", type=positive_int, default=None, help="PNG reading threads")
    stq.set_defaults(run=run_stq)
