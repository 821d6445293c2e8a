"""The ``panoptiq`` command line: ``panoptiq eval``, ``panoptiq report`` and ``panoptiq demo`` here;
``compare``, the video, LiDAR and converter commands from their own modules."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from panoptiq import _dataset, _rules_cli
from panoptiq._mask_sides import overlap_rule
from panoptiq._options import Options
from panoptiq._progress import Progress
from panoptiq._version import __version__
from panoptiq.boundary import IOU_TYPES
from panoptiq.errors import ClusterError
from panoptiq.results import ClassResult, Evaluation, print_breakdown, print_intervals, print_sizes, print_table


class UsageError(Exception):
    """A problem with the command line itself, found before any work starts."""


def evaluate(
    dataset: _dataset.Dataset,
    options: Options,
    show_progress: bool,
    client: Any = None,
    partition_size: int | None = None,
) -> tuple[Evaluation, dict[str, Any], float]:
    progress = Progress() if show_progress else None
    options = options.but(progress=progress)
    start = time.perf_counter()
    try:
        if client is not None:
            from panoptiq.dask import evaluate_dataset

            evaluation = evaluate_dataset(client, dataset, options, partition_size)
        else:
            evaluation = dataset.evaluate(options)
    finally:
        if progress is not None:
            progress.close()
    return evaluation, evaluation.summarize(), time.perf_counter() - start


SORT_KEYS = ("id", "name", "pq")


def per_class_rows(
    evaluation: Evaluation, categories: Mapping[int, Any], *, all_classes: bool, sort: str
) -> list[ClassResult]:
    """The categories to list: by default those counted in the averages (a TP, FP or FN)."""
    rows = [c for c in evaluation.classes() if all_classes or c.tp + c.fp + c.fn > 0]
    if sort == "name":
        rows.sort(key=lambda c: (str(categories[c.category_id].get("name", c.category_id)).lower(), c.category_id))
    elif sort == "pq":
        rows.sort(key=lambda c: (-c.pq, c.category_id))
    return rows


def print_per_class(rows: list[ClassResult], categories: Mapping[int, Any], file: TextIO) -> None:
    header = f"{'id':>5s}  {'category':24s} {'kind':5s} | {'PQ':>5s}  {'SQ':>5s}  {'RQ':>5s}"
    print(f"\n{header} | {'TP':>6s} {'FP':>6s} {'FN':>6s}", file=file)
    print("-" * 84, file=file)
    for c in rows:
        info = categories[c.category_id]
        kind = "thing" if info.get("isthing") == 1 else "stuff"
        name = str(info.get("name", c.category_id))[:24]
        print(
            f"{c.category_id!s:>5s}  {name:24s} {kind:5s} | {100 * c.pq:5.1f}  {100 * c.sq:5.1f}  "
            f"{100 * c.rq:5.1f} | {c.tp:6d} {c.fp:6d} {c.fn:6d}",
            file=file,
        )


def results_json(evaluation: Evaluation, results: Mapping[str, Any], categories: Mapping[int, Any]) -> dict[str, Any]:
    """The results with per-class counts and names added, ready for json.dump."""
    per_class = {}
    for c in evaluation.classes():
        per_class[str(c.category_id)] = {
            **results["per_class"][c.category_id],
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
            "iou_sum": c.iou_sum,
            "name": categories[c.category_id].get("name"),
            "isthing": categories[c.category_id].get("isthing"),
        }
    table = {name: results[name] for name in ("All", "Things", "Stuff")} | {"per_class": per_class}
    for key in ("sizes", "intervals", "error_breakdown"):
        if key in results:
            table[key] = _string_keys(results[key])
    return table


def _string_keys(value: Any) -> Any:
    """``value`` with every dict key a string (JSON's), nested dicts too."""
    if isinstance(value, Mapping):
        return {str(k): _string_keys(v) for k, v in value.items()}
    return value


def check_output_file(path: str, option: str) -> None:
    """Fail now, not after a long evaluation, if ``path`` cannot be written ('-' is stdout)."""
    if path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{option} {path}: folder {target.parent} does not exist")
    existed = target.exists()
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise UsageError(f"{option} {path} cannot be written: {error.strerror}") from None
    if not existed:
        target.unlink()


def run_eval(args: argparse.Namespace) -> int:
    want_records = getattr(args, "per_image", None) is not None or getattr(args, "per_segment", None) is not None
    try:
        options = Options(
            getattr(args, "iou_type", "segm"),
            getattr(args, "dilation_ratio", 0.02),
            getattr(args, "reference_marker", False),
            records=want_records,
            num_threads=args.threads,
            image_stats=getattr(args, "bootstrap", 0) > 0,
            breakdown=getattr(args, "error_breakdown", False),
        )
    except ValueError as error:
        message = (
            str(error)
            .replace('iou_type="boundary"', "--iou-type boundary")
            .replace("error_breakdown", "--error-breakdown")
        )
        for name in ("iou_type", "dilation_ratio", "reference_marker"):
            message = message.replace(name, "--" + name.replace("_", "-"))
        raise UsageError(message) from None
    rules = _rules_cli.rules_of(args, UsageError)
    resampling = _rules_cli.bootstrap_of(args, UsageError)
    if args.json is not None:
        check_output_file(args.json, "--json")
    for option in ("per_image", "per_segment"):
        path = getattr(args, option, None)
        if path is not None:
            if not path.endswith((".csv", ".jsonl", ".ndjson")):
                raise UsageError(f"--{option.replace('_', '-')} {path}: give a .csv or .jsonl file")
            check_output_file(path, f"--{option.replace('_', '-')}")
    # With the JSON on stdout, everything meant for a person goes to stderr.
    out = sys.stderr if args.json == "-" else sys.stdout
    locations = storage_options(getattr(args, "storage_options", None))
    with contextlib.ExitStack() as stack:
        client = None
        if getattr(args, "scheduler", None):
            from panoptiq.dask import connect

            client = stack.enter_context(connect(args.scheduler))
        dataset = _dataset.load_dataset(
            args.gt_json,
            args.pred_json,
            args.gt_folder,
            args.pred_folder,
            num_threads=args.threads,
            storage_options=locations,
            overlap=overlap_rule(getattr(args, "overlap", "error")),
            rules=rules,
        )
        if len(dataset) == 0:
            raise UsageError(f"the ground truth {args.gt_json} has no annotations: there is nothing to evaluate")
        if client is not None:
            where = f"on the Dask cluster at {args.scheduler} ({sum(client.nthreads().values())} worker threads)"
        else:
            where = f"with {args.threads or _dataset.default_threads()} threads"
        print(f"Evaluating {len(dataset)} images {where}", file=out)
        evaluation, results, seconds = evaluate(
            dataset,
            options,
            show_progress=not args.no_progress,
            client=client,
            partition_size=getattr(args, "partition_size", None),
        )
    if resampling is not None:
        results["intervals"] = evaluation.intervals(resampling)
    if options.breakdown:
        results["error_breakdown"] = evaluation.error_breakdown()
    print_table(results, file=out)
    print_sizes(results, file=out)
    print_intervals(results, file=out)
    print_breakdown(results, file=out)
    if args.per_class or args.all_classes or args.sort:
        rows = per_class_rows(evaluation, dataset.classes, all_classes=args.all_classes, sort=args.sort or "id")
        print_per_class(rows, dataset.classes, file=out)
    print(f"Time elapsed: {seconds:0.2f} seconds ({len(dataset) / max(seconds, 1e-9):,.0f} images/s)", file=out)
    for option, records in (("per_image", evaluation.per_image), ("per_segment", evaluation.segments)):
        path = getattr(args, option, None)
        if path is not None:
            written = records()
            assert written is not None  # records were asked for
            written.write(path)
            print(f"{len(written)} {option.replace('per_', '')} records written to {path}", file=out)
    if args.json is not None:
        table = results_json(evaluation, results, dataset.classes)
        if args.json == "-":
            json.dump(table, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(table, f, indent=2)
            print(f"Results written to {args.json}", file=out)
    return 0


def storage_options(text: str | None) -> dict[str, Any]:
    """``--storage-options``: a JSON object, or ``@FILE`` holding one."""
    if text is None:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--storage-options {text}: {error.strerror}") from None
    try:
        options = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--storage-options is not valid JSON: {error}") from None
    if not isinstance(options, dict):
        raise UsageError("--storage-options must be a JSON object")
    return options


def run_report(args: argparse.Namespace) -> int:
    from panoptiq.report import write_report

    progress = None if args.no_progress else Progress()
    try:
        report = write_report(
            args.gt_json,
            args.pred_json,
            args.gt_folder,
            args.pred_folder,
            out=args.out,
            images=args.images,
            worst=args.worst,
            overwrite=args.overwrite,
            num_threads=args.threads,
            storage_options=storage_options(args.storage_options),
            progress=progress,
            command=args.command_line,
            title=args.title,
            **_rules_cli.rules_of(args, UsageError).arguments(),
            bootstrap=_rules_cli.bootstrap_of(args, UsageError),
        )
    finally:
        if progress is not None:
            progress.close()
    print_table(report.results)
    shown = len(list((report.folder / "images").iterdir()))
    print(f"Report with {shown} error images written to {report.page}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

    if args.out is not None and Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise UsageError(f"--out {args.out} exists and is not empty")
    with contextlib.ExitStack() as stack:
        folder = args.out or stack.enter_context(tempfile.TemporaryDirectory(prefix="panoptiq-demo-"))
        print(f"Writing {args.images} image pairs made from the 2 real COCO val2017 panoptic ground truths")
        print(f"shipped with panoptiq to {folder}:")
        gt_json, pred_json = make_dataset(
            folder, args.images, seed=args.seed, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
        )
        print(f"  ground truth {gt_json} + {gt_json.with_suffix('')}/: the sample, cropped, flipped, upscaled,")
        print("    with VOID bands and crowd regions")
        print(f"  predictions  {pred_json} + {pred_json.with_suffix('')}/: masks shifted by a few pixels, segments")
        print("    missed, split, merged or given the wrong class, spurious blobs, some written as RGBA PNGs")
        print("and evaluating the predictions against the ground truth, as `panoptiq eval` would:\n")
        eval_args = argparse.Namespace(
            gt_json=str(gt_json),
            pred_json=str(pred_json),
            gt_folder=None,
            pred_folder=None,
            threads=args.threads,
            json=None,
            per_class=args.per_class,
            all_classes=False,
            sort=None,
            no_progress=False,
        )
        status = run_eval(eval_args)
        print(f"\nThe data is in {folder}." if args.out else f"\n{folder} has been removed (keep it with --out DIR).")
        return status


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="panoptiq", description="Panoptic Quality (PQ) evaluation with the numbers of panopticapi."
    )
    main.add_argument("--version", action="version", version=f"panoptiq {__version__}")
    commands = main.add_subparsers(dest="command", required=True)

    ev = commands.add_parser(
        "eval",
        help="evaluate predictions against ground truth (COCO panoptic format)",
        description="Evaluate panoptic predictions against ground truth, both in COCO panoptic format "
        "(a JSON file and a folder of PNGs each), and print panopticapi's PQ / SQ / RQ table.",
    )
    ev.add_argument("gt_json", help="ground-truth JSON file (a path, a path into a zip/tar archive, or a URL)")
    ev.add_argument("pred_json", help="prediction JSON file")
    ev.add_argument(
        "--gt-folder",
        help="ground-truth PNG folder: a folder, a zip or tar archive or a folder in one, or a URL "
        "(default: GT_JSON without .json)",
    )
    ev.add_argument("--pred-folder", help="prediction PNG folder, likewise (default: PRED_JSON without .json)")
    ev.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    ev.add_argument(
        "--json",
        metavar="OUT",
        help="write the results, with per-class counts, to this JSON file ('-': standard output, and the "
        "table goes to standard error)",
    )
    ev.add_argument(
        "--per-class",
        action="store_true",
        help="print a table of the categories counted in the averages (with a TP, FP or FN)",
    )
    ev.add_argument("--all-classes", action="store_true", help="list every category in the per-class table")
    ev.add_argument(
        "--sort", choices=SORT_KEYS, help="order of the per-class table: id (default), name, or pq (best first)"
    )
    ev.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    ev.add_argument(
        "--overlap",
        choices=("error", "combine"),
        default="error",
        help="for predictions given as masks in the JSON: refuse overlapping masks, or resolve them with "
        "panopticapi's combination heuristic (default: error)",
    )
    ev.add_argument(
        "--per-image",
        metavar="FILE",
        help="write every image's PQ, SQ, RQ, TP, FP and FN to FILE (.csv or .jsonl)",
    )
    ev.add_argument(
        "--per-segment",
        metavar="FILE",
        help="write every segment's fate (tp, fn, fp, ignored, crowd), IoU and most overlapping segment of the "
        "other side to FILE (.csv or .jsonl)",
    )
    ev.add_argument(
        "--storage-options",
        metavar="JSON",
        help="fsspec options for URL inputs (s3://, gs://, https://...), as a JSON object or @FILE holding one, "
        'e.g. \'{"anon": true}\' or \'{"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}\'',
    )
    ev.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="evaluate on the Dask cluster of this scheduler (tcp://host:8786); the workers read the PNGs "
        "by the same paths or URLs",
    )
    ev.add_argument(
        "--partition-size",
        type=positive_int,
        default=None,
        help="image pairs per task on a cluster (default: four tasks per worker thread)",
    )
    ev.add_argument(
        "--iou-type",
        choices=IOU_TYPES,
        default="segm",
        help="segm: PQ (default); boundary: Boundary PQ, each pair's IoU the smaller of its mask and boundary IoU",
    )
    ev.add_argument(
        "--dilation-ratio",
        type=float,
        default=0.02,
        help="Boundary PQ's band width, a fraction of the image diagonal (default: 0.02)",
    )
    ev.add_argument(
        "--reference-marker",
        action="store_true",
        help="Boundary PQ: reproduce boundary-iou-api's numbers where a segment's id is its interior marker "
        "(largest category id + 1); by default that segment is scored as the metric defines",
    )
    _rules_cli.add_arguments(ev)
    ev.add_argument(
        "--error-breakdown",
        action="store_true",
        help="give every false negative and false positive a cause (wrong class, merge, split, poor localisation, "
        "missed, spurious) and print what fixing each kind would add to PQ",
    )
    ev.set_defaults(run=run_eval)

    rep = commands.add_parser(
        "report",
        help="write an HTML report: per-class table, worst images with error images, confusions",
        description="Evaluate as `panoptiq eval` does and write a self-contained HTML report to a new folder: "
        "the summary, a sortable per-class table, the worst images by PQ, false negatives and false positives "
        "with their error images, the most frequent category confusions, the IoUs of the true positives, and "
        "the command and versions that made it.",
    )
    rep.add_argument("gt_json", help="ground-truth JSON file (a path, a path into a zip/tar archive, or a URL)")
    rep.add_argument("pred_json", help="prediction JSON file")
    rep.add_argument("--gt-folder", help="ground-truth PNG folder (default: GT_JSON without .json)")
    rep.add_argument("--pred-folder", help="prediction PNG folder (default: PRED_JSON without .json)")
    rep.add_argument("--out", metavar="DIR", required=True, help="the report's folder, created (see --overwrite)")
    rep.add_argument(
        "--images", metavar="DIR", help="folder of the input photos (NAME.jpg for NAME.png) to draw error images over"
    )
    rep.add_argument("--worst", type=positive_int, default=10, help="images in each worst-image list (default: 10)")
    rep.add_argument("--overwrite", action="store_true", help="replace the folder --out if it exists")
    rep.add_argument("--title", help="the page's title")
    rep.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    rep.add_argument("--storage-options", metavar="JSON", help="fsspec options for URL inputs, as for eval")
    rep.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    _rules_cli.add_arguments(rep)
    rep.set_defaults(run=run_report)

    demo = commands.add_parser(
        "demo",
        help="evaluate a small dataset made from the shipped COCO sample",
        description="Write a small COCO panoptic dataset made from the two real COCO val2017 ground truths "
        "shipped with panoptiq — ground truth cropped, flipped, upscaled, with VOID and crowd regions; predictions "
        "with the mistakes of a real model — and evaluate it as `panoptiq eval` would.",
    )
    demo.add_argument("--images", type=positive_int, default=48, help="image pairs to generate (default: 48)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated dataset")
    demo.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    demo.add_argument("--per-class", action="store_true", help="print a table of every category seen")
    demo.add_argument("--out", metavar="DIR", help="write the dataset to DIR and keep it (default: a temporary folder)")
    demo.set_defaults(run=run_demo)

    from panoptiq import _compare_cli, _convert_cli, _lidar_cli, _video_cli

    _compare_cli.add_commands(
        commands, _compare_cli.Shared(positive_int, UsageError, check_output_file, storage_options)
    )
    _video_cli.add_commands(commands, positive_int)
    _lidar_cli.add_commands(commands, positive_int)
    _convert_cli.add_commands(commands)
    return main


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show warnings as one ``panoptiq: warning:`` line each, without source lines."""

    def show(message: Warning | str, *_args: object, **_kwargs: object) -> None:
        print(f"panoptiq: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.command_line = shlex.join(["panoptiq", *(sys.argv[1:] if argv is None else argv)])
    try:
        with warnings_as_lines():
            return args.run(args)
    except (UsageError, OSError, ValueError, KeyError, TypeError, ClusterError, ImportError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"panoptiq: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("panoptiq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
