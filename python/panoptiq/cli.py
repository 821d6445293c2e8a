"""The ``panoptiq`` command line: ``panoptiq eval`` and ``panoptiq demo``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

from panoptiq.dataset import Dataset, default_threads, load_dataset
from panoptiq.evaluation import print_table, summarize
from panoptiq.progress import Progress
from panoptiq.stats import PQStat


def evaluate(dataset: Dataset, threads: int | None, show_progress: bool) -> tuple[PQStat, dict[str, Any], float]:
    progress = Progress() if show_progress else None
    start = time.perf_counter()
    try:
        stat = dataset.evaluate(num_threads=threads, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    return stat, summarize(stat, dataset.categories), time.perf_counter() - start


def print_per_class(stat: PQStat, results: Mapping[str, Any], categories: Mapping[int, Any]) -> None:
    header = f"{'id':>5s}  {'category':24s} {'kind':5s} | {'PQ':>5s}  {'SQ':>5s}  {'RQ':>5s}"
    print(f"\n{header} | {'TP':>6s} {'FP':>6s} {'FN':>6s}")
    print("-" * 84)
    for category_id, scores in results["per_class"].items():
        info, s = categories[category_id], stat[category_id]
        kind = "thing" if info.get("isthing") == 1 else "stuff"
        name = str(info.get("name", category_id))[:24]
        print(
            f"{category_id!s:>5s}  {name:24s} {kind:5s} | {100 * scores['pq']:5.1f}  {100 * scores['sq']:5.1f}  "
            f"{100 * scores['rq']:5.1f} | {s.tp:6d} {s.fp:6d} {s.fn:6d}"
        )


def results_json(stat: PQStat, results: Mapping[str, Any], categories: Mapping[int, Any]) -> dict[str, Any]:
    """The results with per-class counts and names added, ready for json.dump."""
    per_class = {}
    for category_id, scores in results["per_class"].items():
        s = stat[category_id]
        per_class[str(category_id)] = {
            **scores,
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
            "iou_sum": s.iou,
            "name": categories[category_id].get("name"),
            "isthing": categories[category_id].get("isthing"),
        }
    return {name: results[name] for name in ("All", "Things", "Stuff")} | {"per_class": per_class}


def run_eval(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.gt_json, args.pred_json, args.gt_folder, args.pred_folder, num_threads=args.threads)
    threads = args.threads or default_threads()
    print(f"Evaluating {len(dataset)} images with {threads} threads")
    stat, results, seconds = evaluate(dataset, args.threads, show_progress=not args.no_progress)
    print_table(results)
    if args.per_class:
        print_per_class(stat, results, dataset.categories)
    print(f"Time elapsed: {seconds:0.2f} seconds ({len(dataset) / max(seconds, 1e-9):,.0f} images/s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results_json(stat, results, dataset.categories), f, indent=2)
        print(f"Results written to {args.json}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

    with tempfile.TemporaryDirectory(prefix="panoptiq-demo-") as folder:
        print(f"Writing a {args.images}-image dataset made from the COCO sample shipped with panoptiq ...")
        gt_json, pred_json = make_dataset(
            folder, args.images, seed=args.seed, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
        )
        eval_args = argparse.Namespace(
            gt_json=str(gt_json),
            pred_json=str(pred_json),
            gt_folder=None,
            pred_folder=None,
            threads=args.threads,
            json=None,
            per_class=args.per_class,
            no_progress=False,
        )
        return run_eval(eval_args)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="panoptiq", description="Panoptic Quality evaluation, equal to panopticapi.")
    commands = main.add_subparsers(dest="command", required=True)

    ev = commands.add_parser("eval", help="evaluate predictions against ground truth (COCO panoptic format)")
    ev.add_argument("gt_json", help="ground-truth JSON file")
    ev.add_argument("pred_json", help="prediction JSON file")
    ev.add_argument("--gt-folder", help="ground-truth PNG folder (default: GT_JSON without .json)")
    ev.add_argument("--pred-folder", help="prediction PNG folder (default: PRED_JSON without .json)")
    ev.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    ev.add_argument("--json", metavar="OUT", help="write the results, with per-class counts, to this JSON file")
    ev.add_argument("--per-class", action="store_true", help="print a table of every category")
    ev.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    ev.set_defaults(run=run_eval)

    demo = commands.add_parser("demo", help="evaluate a small dataset made from the shipped COCO sample")
    demo.add_argument("--images", type=int, default=48, help="image pairs to generate (default: 48)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated dataset")
    demo.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    demo.add_argument("--per-class", action="store_true", help="print a table of every category")
    demo.set_defaults(run=run_demo)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "threads", None) is not None and args.threads < 1:
        parser().error("--threads must be at least 1")
    try:
        return args.run(args)
    except (OSError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"panoptiq: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("panoptiq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
