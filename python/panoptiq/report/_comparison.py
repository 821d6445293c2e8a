"""The comparison page: several prediction sets against one ground truth — each set's scores,
its differences from the first with their paired intervals, the per-class differences, and the
images where each set differs most from the first, drawn for both sets."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from panoptiq import _dataset
from panoptiq._progress import ProgressCallback
from panoptiq.comparison import run_comparison
from panoptiq.report._analysis import differing_images
from panoptiq.report._files import check_target, require_pillow, staging, versions
from panoptiq.report._page import document, pct, picture_link, provenance, tabs
from panoptiq.report._pictures import Picture, start_drawing
from panoptiq.results import ERROR_KINDS, ERROR_LABELS, Bootstrap, Rules, bootstrap_of

#: Resamples for the differences' intervals unless told.
DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class ComparisonReport:
    """A written comparison page: its folder, the page, and each set's results (as
    :func:`panoptiq.compare` returns them, with ``per_image`` and ``segments``)."""

    folder: Path
    page: Path
    results: list[dict[str, Any]]


def write_comparison_report(
    gt_json_file: str,
    pred_json_files: Sequence[str],
    gt_folder: str | None = None,
    pred_folders: Sequence[str | None] | None = None,
    *,
    out: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    images: str | os.PathLike[str] | None = None,
    most: int = 10,
    overwrite: bool = False,
    num_threads: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    command: str | None = None,
    title: str | None = None,
    category_ids: Iterable[int] | None = None,
    class_groups: Mapping[int, int] | None = None,
    isthing_override: Mapping[int, bool] | None = None,
    iou_threshold: float | None = None,
    size_edges: Iterable[int] | str | None = None,
    bootstrap: int | Bootstrap | None = DEFAULT_RESAMPLES,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
) -> ComparisonReport:
    """Compare prediction sets in one pass (:func:`panoptiq.compare`) and write an HTML page of
    the comparison to the folder ``out`` (``index.html`` and ``images/``).

    Parameters
    ----------
    gt_json_file, pred_json_files, gt_folder, pred_folders
        As for :func:`panoptiq.compare`.
    out : str or os.PathLike
        The page's folder, created; written beside it and renamed into place when complete.
    names : sequence of str, optional
        Each set's name on the page (default: its JSON file's name).
    images : str or os.PathLike, optional
        Photos to draw the error images over, as for :func:`panoptiq.report.write_report`.
    most : int
        For each set after the first, how many of the images where its PQ differs most from the
        first set's are shown, both sets' error images side by side.
    overwrite, num_threads, storage_options, progress, command, title
        As for :func:`panoptiq.report.write_report`.
    category_ids, class_groups, isthing_override, iou_threshold, size_edges, bootstrap, bootstrap_seed, confidence
        As for :func:`panoptiq.compare`.

    Returns
    -------
    ComparisonReport
    """
    if most < 0:
        raise ValueError(f"most must be >= 0, got {most}")
    rules = Rules.of(category_ids, class_groups, isthing_override, iou_threshold, size_edges)
    resampling = bootstrap_of(bootstrap, bootstrap_seed, confidence)
    pred_json_files = [os.fspath(p) for p in pred_json_files]
    shown_names = [Path(p).name for p in pred_json_files] if names is None else [str(n) for n in names]
    if len(shown_names) != len(pred_json_files):
        raise ValueError(f"names has {len(shown_names)} names for {len(pred_json_files)} prediction sets")
    require_pillow()
    target = Path(os.fspath(out)).absolute()
    check_target(target, overwrite)
    with staging(target, overwrite) as temporary:
        started, created = time.perf_counter(), datetime.now(timezone.utc)
        comparison = run_comparison(
            gt_json_file,
            pred_json_files,
            gt_folder,
            pred_folders,
            num_threads=num_threads,
            progress=progress,
            storage_options=storage_options,
            per_image=True,
            rules=rules,
            bootstrap=resampling,
            level=confidence,
            error_breakdown=True,
        )
        results = comparison.results
        per_image = [list(r["per_image"]) for r in results]
        differing = {k: differing_images(per_image[0], per_image[k], most) for k in range(1, len(results))}
        photos = None if images is None else os.fspath(images)
        wanted = {0: sorted({i for found in differing.values() for i, _ in found})}
        for k, found in differing.items():
            wanted[k] = sorted(i for i, _ in found)
        with ThreadPoolExecutor(max_workers=num_threads or _dataset.default_threads()) as pool:
            drawing = {
                k: start_drawing(pool, comparison.datasets[k], positions, temporary / "images", photos, f"set{k}-")
                for k, positions in wanted.items()
            }
            pictures = {
                (k, position): future.result()
                for k, futures in drawing.items()
                for position, future in zip(wanted[k], futures, strict=True)
            }
        classes = comparison.datasets[0].classes
        seen = {c.category_id for e in comparison.evaluations for c in e.classes() if c.tp + c.fp + c.fn}
        page = _Page(
            title=title or f"Comparison of {len(results)} prediction sets",
            names=shown_names,
            results=results,
            images=per_image,
            differing=differing,
            pictures=pictures,
            classes={
                c: (str(r.get("name", c)), "thing" if r.get("isthing") == 1 else "stuff") for c, r in classes.items()
            },
            counted=[c for c in results[0]["per_class"] if c in seen],
            command=command
            or f"write_comparison_report({gt_json_file!r}, {pred_json_files!r}, out={os.fspath(out)!r})",
            versions=versions(),
            created=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            elapsed=time.perf_counter() - started,
            inputs={
                "ground truth": f"{gt_json_file} ({comparison.datasets[0].gt_folder})",
                **{
                    f"set {k}: {name}": f"{p} ({d.pred_folder})"
                    for k, (name, p, d) in enumerate(
                        zip(shown_names, pred_json_files, comparison.datasets, strict=True)
                    )
                },
                "photos": photos or "none",
                **({} if rules.is_default else {"options": rules.describe()}),
            },
        )
        (temporary / "index.html").write_text(_render(page), encoding="utf-8")
    return ComparisonReport(target, target / "index.html", results)


@dataclass
class _Page:
    title: str
    names: Sequence[str]
    results: Sequence[Mapping[str, Any]]
    images: Sequence[Sequence[Mapping[str, Any]]]
    differing: Mapping[int, Sequence[tuple[int, float]]]
    pictures: Mapping[tuple[int, int], Picture]
    #: class id to (name, "thing" / "stuff").
    classes: Mapping[int, tuple[str, str]]
    #: The classes some set counts (a TP, FP or FN), in the classes' order.
    counted: Sequence[int]
    command: str
    versions: Mapping[str, str]
    created: str
    elapsed: float
    inputs: Mapping[str, str]


def _render(page: _Page) -> str:
    images = len(page.images[0]) if page.images else 0
    return document(
        page.title,
        [
            f'<p class="sub">{len(page.names)} prediction sets, {images} images, evaluated in one pass in '
            f"{page.elapsed:.2f} s, {escape(page.created)}</p>",
            _summary(page),
            _breakdown(page),
            _classes(page),
            _differing(page),
            provenance(page.command, page.inputs, page.versions),
        ],
    )


def _signed(value: float) -> str:
    return f"{100 * value:+.1f}"


def _interval(interval: Sequence[float] | None) -> str:
    return "&ndash;" if interval is None else f"{_signed(interval[0])} to {_signed(interval[1])}"


def _probability(value: float | None) -> str:
    return "&ndash;" if value is None else f"{value:.3f}"


def _summary(page: _Page) -> str:
    level = next((r["intervals"]["level"] for r in page.results if "intervals" in r), None)
    shown = "" if level is None else f"{100 * level:g}% "
    rows = []
    for k, (name, r) in enumerate(zip(page.names, page.results, strict=True)):
        cells = "".join(f"<td>{pct(r['All'][m])}</td>" for m in ("pq", "sq", "rq"))
        cells += f"<td>{pct(r['Things']['pq'])}</td><td>{pct(r['Stuff']['pq'])}</td>"
        if k == 0:
            cells += '<td class="l" colspan="3">baseline</td>'
        else:
            pq = r["comparison"]["All"]["pq"]
            cells += f"<td>{_signed(pq['delta'])}</td><td>{_interval(pq['interval'])}</td>"
            cells += f"<td>{_probability(pq['p_improvement'])}</td>"
        rows.append(f'<tr><td class="l">{k}</td><td class="l">{escape(name)}</td>{cells}</tr>')
    note = (
        "No resampling: differences without intervals."
        if level is None
        else "Intervals: paired bootstrap over the images (every set resampled with the same draws); "
        "P(better): the share of resamples in which the set's PQ is above the baseline's."
    )
    return (
        '<h2 id="summary">Summary</h2><table id="compare-summary" class="summary"><thead><tr><th class="l">set</th>'
        '<th class="l">name</th><th>PQ</th><th>SQ</th><th>RQ</th><th>PQ things</th><th>PQ stuff</th>'
        f"<th>&Delta;PQ</th><th>&Delta;PQ {shown}interval</th><th>P(better)</th></tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table><p class="sub">{note}</p>'
    )


def _breakdown(page: _Page) -> str:
    head = "".join(f"<th>FN+FP {k}</th><th>&Delta;PQ {k}</th>" for k in range(len(page.results)))
    rows = []
    for kind in ERROR_KINDS:
        cells = ""
        for r in page.results:
            entry = r["error_breakdown"][kind]
            count = "&ndash;" if kind == "mask_quality" else str(entry["fn"] + entry["fp"])
            cells += f"<td>{count}</td><td>{_signed(entry['All'])}</td>"
        rows.append(f'<tr><td class="l">{escape(ERROR_LABELS[kind])}</td>{cells}</tr>')
    return (
        '<h3 id="breakdown">Error breakdown</h3><p class="sub">Each set\'s errors by cause and what fixing each '
        'kind would add to its PQ (<a href="#summary">sets numbered as above</a>).</p>'
        f'<table id="compare-breakdown" class="summary"><thead><tr><th class="l">error</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _classes(page: _Page) -> str:
    head = (
        '<tr><th class="sortable" data-type="num">id</th><th class="sortable l" data-type="text">class</th>'
        '<th class="sortable l" data-type="text">kind</th>'
    )
    head += "".join(f'<th class="sortable" data-type="num">PQ {k}</th>' for k in range(len(page.results)))
    head += "".join(
        f'<th class="sortable" data-type="num">&Delta;PQ {k}</th>'
        f'<th class="sortable" data-type="num">P(better) {k}</th>'
        for k in range(1, len(page.results))
    )
    body = []
    for c in page.counted:
        name, kind = page.classes.get(c, (str(c), ""))
        cells = "".join(
            f'<td data-v="{r["per_class"][c]["pq"]!r}">{pct(r["per_class"][c]["pq"])}</td>' for r in page.results
        )
        for r in page.results[1:]:
            entry = r["comparison"]["per_class"].get(c, {}).get("pq")
            if entry is None:
                cells += '<td data-v="0">&ndash;</td><td data-v="-1">&ndash;</td>'
                continue
            p = entry["p_improvement"]
            title = "" if entry["interval"] is None else f' title="interval {_interval(entry["interval"])}"'
            cells += f'<td data-v="{entry["delta"]!r}"{title}>{_signed(entry["delta"])}</td>'
            cells += f'<td data-v="{-1 if p is None else p!r}">{_probability(p)}</td>'
        body.append(
            f'<tr><td data-v="{c}">{c}</td><td class="l" data-v="{escape(name)}">{escape(name)}</td>'
            f'<td class="l" data-v="{kind}">{kind}</td>{cells}</tr>'
        )
    return (
        '<h2 id="classes">Per class</h2><p class="sub">PQ of each set (numbered as in the summary) and each '
        "later set's difference from the baseline; hover a difference for its interval, click a column to "
        "sort.</p>"
        f'<table id="compare-classes" class="sortable"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    )


def _differing(page: _Page) -> str:
    if len(page.results) < 2:
        return ""
    panels = [
        (
            f"differ-{k}",
            f"set {k} against set 0",
            [_card(page, k, position, difference) for position, difference in page.differing.get(k, [])],
        )
        for k in range(1, len(page.results))
    ]
    return (
        '<h2 id="differ">Where the sets differ most</h2><p class="sub">The images whose PQ differs most between '
        "a set and the baseline (an image with nothing to score counts as 1). Each card: the baseline's error "
        "image above, the set's below; in each, ground truth left and prediction right, green matched, red "
        "missed, orange false positive.</p>" + tabs(panels, "Every image scores the same in both sets.")
    )


def _card(page: _Page, k: int, position: int, difference: float) -> str:
    base, other = page.images[0][position], page.images[k][position]
    meta = (
        f"image <b>{escape(str(base['image_id']))}</b> &middot; PQ {pct(base['pq'])} &rarr; {pct(other['pq'])} "
        f"({_signed(difference)}) &middot; FN {base['fn']} &rarr; {other['fn']}, FP {base['fp']} &rarr; {other['fp']}"
    )
    pictures = []
    for s in (0, k):
        picture = page.pictures.get((s, position))
        if picture is not None:
            pictures.append(picture_link(picture, f"error image of image {base['image_id']} in set {s}"))
    return f'<div class="card">{"".join(pictures)}<div class="meta">{meta}</div></div>'
