"""``panoptiq compare``: several prediction sets against one ground truth, in one pass."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from panoptiq import _rules_cli
from panoptiq._progress import Progress
from panoptiq.comparison import compare


@dataclass(frozen=True)
class Shared:
    """What ``panoptiq compare`` shares with the other commands (which live above it)."""

    positive_int: Callable[[str], int]
    usage_error: type[Exception]
    check_output_file: Callable[[str, str], None]
    storage_options: Callable[[str | None], dict[str, Any]]


def add_commands(commands: Any, shared: Shared) -> None:
    """Add ``compare`` to the ``panoptiq`` command line."""
    positive_int = shared.positive_int
    cmp = commands.add_parser(
        "compare",
        help="compare prediction sets against one ground truth, with paired-bootstrap intervals",
        description="Evaluate several prediction sets against one ground truth in one pass (each ground-truth "
        "PNG decoded once) and print each set's PQ / SQ / RQ and its PQ difference from the first set, with the "
        "difference's paired-bootstrap interval and the probability that it is an improvement.",
    )
    cmp.add_argument("gt_json", help="ground-truth JSON file (a path, a path into a zip/tar archive, or a URL)")
    cmp.add_argument("pred_json", nargs="+", help="prediction JSON files, one per set; the first is the baseline")
    cmp.add_argument("--gt-folder", help="ground-truth PNG folder (default: GT_JSON without .json)")
    cmp.add_argument(
        "--pred-folder",
        action="append",
        metavar="DIR",
        help="a prediction set's PNG folder, once per set in the sets' order (default: each PRED_JSON without .json)",
    )
    cmp.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    cmp.add_argument(
        "--json",
        metavar="OUT",
        help="write every set's results and differences to this JSON file ('-': standard output)",
    )
    cmp.add_argument(
        "--report",
        metavar="DIR",
        help="also write an HTML page of the comparison to DIR: the sets' scores and differences, the per-class "
        "differences, and the images where each set differs most from the first, with error images",
    )
    cmp.add_argument("--overwrite", action="store_true", help="replace the folder --report if it exists")
    cmp.add_argument("--images", metavar="DIR", help="photos to draw the report's error images over (NAME.jpg)")
    cmp.add_argument("--most", type=positive_int, default=10, help="images shown per set in the report (default: 10)")
    cmp.add_argument("--storage-options", metavar="JSON", help="fsspec options for URL inputs, as for eval")
    cmp.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    _rules_cli.add_arguments(cmp)
    cmp.add_argument(
        "--error-breakdown",
        action="store_true",
        help="also give each set's error breakdown (in --json; the --report page always shows it)",
    )
    # A comparison is mostly its intervals: resampled unless told not to (--bootstrap 0).
    cmp.set_defaults(bootstrap=1000, run=lambda args: run_compare(args, shared))


def run_compare(args: argparse.Namespace, shared: Shared) -> int:
    usage_error = shared.usage_error
    if args.json is not None:
        shared.check_output_file(args.json, "--json")
    if args.pred_folder is not None and len(args.pred_folder) != len(args.pred_json):
        raise usage_error(
            f"--pred-folder given {len(args.pred_folder)} times for {len(args.pred_json)} prediction sets: "
            "give it once per set, or not at all"
        )
    resampling = _rules_cli.bootstrap_of(args, usage_error)
    progress = None if args.no_progress else Progress()
    inputs = {
        "num_threads": args.threads,
        "progress": progress,
        "storage_options": shared.storage_options(args.storage_options),
        **_rules_cli.rules_of(args, usage_error).arguments(),
        "bootstrap": resampling,
    }
    if args.report is None:
        inputs["error_breakdown"] = args.error_breakdown
    page = None
    try:
        if args.report is None:
            results = compare(args.gt_json, args.pred_json, args.gt_folder, args.pred_folder, **inputs)
        else:
            from panoptiq.report import write_comparison_report

            report = write_comparison_report(
                args.gt_json,
                args.pred_json,
                args.gt_folder,
                args.pred_folder,
                out=args.report,
                images=args.images,
                most=args.most,
                overwrite=args.overwrite,
                command=args.command_line,
                **inputs,
            )
            results, page = report.results, report.page
    finally:
        if progress is not None:
            progress.close()
    from panoptiq.results import print_comparison

    to_stdout = args.json == "-"
    print_comparison(results, list(args.pred_json), file=sys.stderr if to_stdout else None)
    if page is not None:
        print(f"Comparison page written to {page}", file=sys.stderr if to_stdout else None)
    if args.json is not None:
        kept = ("per_image", "segments")
        table = [
            {"pred_json": name, **_jsonable({k: v for k, v in r.items() if k not in kept})}
            for name, r in zip(args.pred_json, results, strict=True)
        ]
        if to_stdout:
            json.dump(table, sys.stdout, indent=1)
            print()
        else:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(table, out, indent=1)
    return 0


def _jsonable(value: Any) -> Any:
    """``value`` with every key a string and tuples as lists, for json.dump."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
