"""The command line's ``panoptiq lidar``: semantic-kitti-api's ``evaluate_panoptic.py``, its flags
and its ``scores.txt``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from panoptiq.lidar import evaluate_semantic_kitti
from panoptiq.lidar._kitti import SPLITS, STUFF, THINGS


def run_lidar(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    results = evaluate_semantic_kitti(
        args.dataset,
        args.predictions,
        args.split,
        args.data_cfg,
        args.limit,
        args.min_inst_points,
        args.output,
        strict=args.strict,
        num_threads=args.threads,
    )
    seconds = time.perf_counter() - started
    classes = results["classes"]
    print(f"{'class':15s} {'PQ':>7s} {'SQ':>7s} {'RQ':>7s} {'IoU':>7s}")
    for name in (*THINGS, *STUFF):
        c = classes[name]
        print(f"{name:15s} {c['PQ']:7.3f} {c['SQ']:7.3f} {c['RQ']:7.3f} {c['IoU']:7.3f}")
    for key in ("pq_mean", "pq_dagger", "sq_mean", "rq_mean", "iou_mean", "pq_things", "pq_stuff"):
        print(f"{key}: {results[key]:.6f}")
    print(f"Completed in {seconds:.2f} s")
    if args.output is not None:
        print(f"scores.txt and detailed_results.html written to {args.output}")
    return 0


def add_commands(commands: Any, positive_int: Any) -> None:
    lidar = commands.add_parser(
        "lidar",
        help="LiDAR panoptic scores of a SemanticKITTI split, as semantic-kitti-api computes them",
        description="Panoptic quality of point clouds: a SemanticKITTI folder's .label files against predictions, "
        "with semantic-kitti-api's rules, flags and scores.txt.",
    )
    lidar.add_argument("--dataset", "-d", required=True, help="the dataset folder (sequences/SS/labels/*.label)")
    lidar.add_argument(
        "--predictions", "-p", help="the predictions folder (sequences/SS/predictions/*.label); default: --dataset"
    )
    lidar.add_argument("--split", "-s", choices=SPLITS, default="valid", help="default: valid")
    lidar.add_argument(
        "--data_cfg",
        "-dc",
        default="config/semantic-kitti.yaml",
        help="the dataset config (default: config/semantic-kitti.yaml)",
    )
    lidar.add_argument("--limit", "-l", type=positive_int, help="only the first LIMIT points of each scan")
    lidar.add_argument(
        "--min_inst_points", type=int, default=50, help="smallest unmatched segment counted (default: 50)"
    )
    lidar.add_argument("--output", help="folder for scores.txt and detailed_results.html")
    lidar.add_argument("--strict", action="store_true", help="raw labels missing from learning_map are an error")
    lidar.add_argument("--threads", type=positive_int, help="worker threads (default: all cores)")
    lidar.set_defaults(run=run_lidar)
