"""The report's HTML: one self-contained page (styles and script inline, pictures beside it in
``images/``), written from the numbers a :class:`Page` holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from importlib.resources import files
from typing import Any

from panoptiq.report._analysis import IOU_EDGES, Confusion
from panoptiq.report._pictures import Picture
from panoptiq.results import ERROR_LABELS as LABELS

#: The scores an interval is shown for, in the summary's order.
METRICS = ("pq", "sq", "rq")

#: The worst-image lists, in the order the page shows them.
WORST_LISTS = (("pq", "lowest PQ"), ("fn", "most false negatives"), ("fp", "most false positives"))


@dataclass
class Page:
    """Everything the page shows."""

    title: str
    results: Mapping[str, Any]
    #: (category id, name, "thing"/"stuff", pq, sq, rq, tp, fp, fn) of each counted category.
    classes: Sequence[tuple[int, str, str, float, float, float, int, int, int]]
    images: Sequence[Mapping[str, Any]]
    worst: Mapping[str, Sequence[int]]
    pictures: Mapping[int, Picture]
    confusions: Sequence[Confusion]
    names: Mapping[int, str]
    iou_counts: Sequence[int]
    iou_mean: float | None
    command: str
    versions: Mapping[str, str]
    created: str
    elapsed: float
    inputs: Mapping[str, str] = field(default_factory=dict)


def render(page: Page) -> str:
    return document(
        page.title,
        [
            f'<p class="sub">{len(page.images)} images, evaluated in {page.elapsed:.2f} s, {escape(page.created)}</p>',
            _summary(page),
            _breakdown(page),
            _classes(page),
            _worst(page),
            _confusions(page),
            _ious(page),
            provenance(page.command, page.inputs, page.versions),
        ],
    )


def document(title: str, sections: Sequence[str]) -> str:
    """A whole page: ``title`` and ``sections``, with the styles and script inline."""
    assets = files("panoptiq.report") / "assets"
    css = (assets / "report.css").read_text(encoding="utf-8")
    script = (assets / "report.js").read_text(encoding="utf-8")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{css}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        *sections,
        f"</main><script>{script}</script></body></html>",
    ]
    return "\n".join(parts)


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _interval(interval: Sequence[float] | None) -> str:
    return "&ndash;" if interval is None else f"{pct(interval[0])}&ndash;{pct(interval[1])}"


def _summary(page: Page) -> str:
    intervals = page.results.get("intervals")
    rows = []
    for name in ("All", "Things", "Stuff"):
        r = page.results[name]
        spread = "" if intervals is None else "".join(f"<td>{_interval(intervals[name][m])}</td>" for m in METRICS)
        rows.append(
            f'<tr><td class="l">{name}</td><td>{pct(r["pq"])}</td><td>{pct(r["sq"])}</td>'
            f"<td>{pct(r['rq'])}</td><td>{r['n']}</td>{spread}</tr>"
        )
    tp = sum(c[6] for c in page.classes)
    fp = sum(c[7] for c in page.classes)
    fn = sum(c[8] for c in page.classes)
    level = "" if intervals is None else f"{100 * intervals['level']:g}% "
    heads = "" if intervals is None else "".join(f"<th>{m.upper()} {level}interval</th>" for m in METRICS)
    note = (
        ""
        if intervals is None
        else f" Intervals: bootstrap over the images, {intervals['resamples']} resamples (seed {intervals['seed']})."
    )
    return (
        '<h2 id="summary">Summary</h2><table class="summary"><thead><tr><th class="l"></th><th>PQ</th>'
        f"<th>SQ</th><th>RQ</th><th>N</th>{heads}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f'<p class="sub">{tp} true positives, {fp} false positives, {fn} false negatives.{note}</p>' + _sizes(page)
    )


def _sizes(page: Page) -> str:
    sizes = page.results.get("sizes")
    if not sizes:
        return ""
    rows = []
    for name, slice_ in sizes.items():
        low, high = slice_["range"]
        area = f"{low} &le; area" + ("" if high is None else f" &lt; {high}")
        cells = "".join(
            f"<td>{pct(slice_[split]['pq'])}</td><td>{slice_[split]['n']}</td>" for split in ("All", "Things", "Stuff")
        )
        rows.append(f'<tr><td class="l">{escape(str(name))}</td><td class="l">{area}</td>{cells}</tr>')
    return (
        '<h3 id="sizes">By object size</h3><p class="sub">A match counts in its ground-truth segment\'s slice, '
        "a false positive in its own (by its pixels), a false negative in its own (by its JSON area).</p>"
        '<table id="size-table" class="summary"><thead><tr><th class="l">slice</th><th class="l">area (pixels)</th>'
        "<th>PQ</th><th>N</th><th>PQ things</th><th>N</th><th>PQ stuff</th><th>N</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _breakdown(page: Page) -> str:
    breakdown = page.results.get("error_breakdown")
    if not breakdown:
        return ""
    top = max((abs(e["All"]) for e in breakdown.values()), default=0.0) or 1.0
    rows = []
    for kind, entry in breakdown.items():
        counts = (
            "<td>&ndash;</td><td>&ndash;</td>"
            if kind == "mask_quality"
            else f"<td>{entry['fn']}</td><td>{entry['fp']}</td>"
        )
        width = 100 * max(0.0, entry["All"]) / top
        rows.append(
            f'<tr><td class="l">{escape(LABELS.get(kind, kind))}</td>{counts}'
            f'<td class="bar" data-v="{entry["All"]!r}"><span class="fill" style="width:{width:.1f}%"></span>'
            f'<span class="v">{100 * entry["All"]:+.1f}</span></td>'
            f"<td>{100 * entry['Things']:+.1f}</td><td>{100 * entry['Stuff']:+.1f}</td></tr>"
        )
    return (
        '<h3 id="breakdown">Error breakdown</h3><p class="sub">Every false negative and false positive has one '
        "cause, taken in this order; &Delta;PQ is the PQ with every error of that kind fixed minus the PQ (they do "
        "not add up: errors interact). Mask quality credits every match with IoU 1.</p>"
        '<table id="breakdown-table" class="summary"><thead><tr><th class="l">error</th><th>FN</th><th>FP</th>'
        "<th>&Delta;PQ</th><th>&Delta;PQ things</th><th>&Delta;PQ stuff</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _bar(value: float) -> str:
    width = max(0.0, min(100.0, 100 * value))
    return (
        f'<td class="bar" data-v="{value!r}"><span class="fill" style="width:{width:.1f}%"></span>'
        f'<span class="v">{pct(value)}</span></td>'
    )


def _classes(page: Page) -> str:
    head = (
        '<tr><th class="sortable" data-type="num">id</th><th class="sortable l" data-type="text">category</th>'
        '<th class="sortable l" data-type="text">kind</th><th class="sortable" data-type="num" data-key="pq">PQ</th>'
        '<th class="sortable" data-type="num" data-key="sq">SQ</th>'
        '<th class="sortable" data-type="num" data-key="rq">RQ</th>'
        '<th class="sortable" data-type="num" data-key="tp">TP</th>'
        '<th class="sortable" data-type="num" data-key="fp">FP</th>'
        '<th class="sortable" data-type="num" data-key="fn">FN</th>'
    )
    intervals = page.results.get("intervals")
    if intervals is not None:
        head += f'<th class="sortable" data-type="num">PQ {100 * intervals["level"]:g}% interval</th>'
    head += "</tr>"
    body = []
    for cid, name, kind, pq, sq, rq, tp, fp, fn in page.classes:
        spread = ""
        if intervals is not None:
            interval = intervals["per_class"].get(cid, {}).get("pq")
            spread = f'<td data-v="{-1 if interval is None else interval[0]!r}">{_interval(interval)}</td>'
        body.append(
            f'<tr><td data-v="{cid}">{cid}</td><td class="l" data-v="{escape(name)}">{escape(name)}</td>'
            f'<td class="l" data-v="{kind}">{kind}</td>{_bar(pq)}{_bar(sq)}{_bar(rq)}'
            f'<td data-v="{tp}">{tp}</td><td data-v="{fp}">{fp}</td><td data-v="{fn}">{fn}</td>{spread}</tr>'
        )
    return (
        '<h2 id="classes">Per class</h2><p class="sub">Categories with a true positive, false positive or '
        "false negative; click a column to sort. The bars show PQ, SQ and RQ.</p>"
        f'<table id="per-class" class="sortable"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    )


def _worst(page: Page) -> str:
    panels = [
        (f"worst-{key}", label, [_card(page, position) for position in page.worst.get(key, [])])
        for key, label in WORST_LISTS
    ]
    return (
        '<h2 id="worst">Worst images</h2><p class="sub">Ground truth left, prediction right: '
        "green matched, red missed, orange false positive, grey crowd, light blue not counted, "
        "dark VOID. Labels give the category and IoU.</p>" + tabs(panels, "No image to show.")
    )


def tabs(panels: Sequence[tuple[str, str, Sequence[str]]], empty: str) -> str:
    """Tabs of card panels, each ``(id, button label, cards)``, the first shown (``empty`` said in
    a panel without cards); the page's script switches them."""
    buttons, shown = [], []
    for k, (panel, label, cards) in enumerate(panels):
        state = ' class="on"' if k == 0 else ""
        buttons.append(f'<button data-panel="{panel}"{state}>{escape(label)}</button>')
        inner = "".join(cards) if cards else f'<p class="sub">{escape(empty)}</p>'
        shown.append(f'<div id="{panel}" class="cards{"" if k == 0 else " hidden"}">{inner}</div>')
    return f'<div class="tabs">{"".join(buttons)}</div>{"".join(shown)}'


def picture_link(picture: Picture, alt: str) -> str:
    """An error image on a card, linked to itself at full size."""
    src = f"images/{escape(picture.file)}"
    return f'<a href="{src}"><img src="{src}" alt="{escape(alt)}" loading="lazy"></a>'


def _card(page: Page, position: int) -> str:
    image = page.images[position]
    picture = page.pictures.get(position)
    meta = (
        f"image <b>{escape(str(image['image_id']))}</b> &middot; PQ {pct(image['pq'])} &middot; "
        f"TP {image['tp']}, FP {image['fp']}, FN {image['fn']}"
    )
    img, note = "", ""
    if picture is not None:
        img = picture_link(picture, f"error image of image {image['image_id']}")
        if picture.photo_note:
            note = f'<div class="note">{escape(picture.photo_note)}</div>'
    return f'<div class="card">{img}<div class="meta">{meta}</div>{note}</div>'


def _confusions(page: Page) -> str:
    if not page.confusions:
        return '<h2 id="confusions">Confusions</h2><p class="sub">No missed segment overlaps another class most.</p>'
    rows = "".join(
        f'<tr><td class="l">{escape(page.names.get(c.gt_category, str(c.gt_category)))}</td>'
        f'<td class="l">{escape(page.names.get(c.pred_category, str(c.pred_category)))}</td>'
        f"<td>{c.count}</td><td>{c.mean_iou:.2f}</td></tr>"
        for c in page.confusions
    )
    return (
        '<h2 id="confusions">Confusions</h2><p class="sub">Ground-truth segments no prediction matched, '
        "counted by their category and the category of the predicted segment that overlaps them most.</p>"
        '<table id="confusion-table"><thead><tr><th class="l">ground truth</th><th class="l">predicted as</th>'
        f"<th>segments</th><th>mean IoU</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _ious(page: Page) -> str:
    counts = page.iou_counts
    total = sum(counts)
    if total == 0:
        return '<h2 id="ious">IoU of true positives</h2><p class="sub">No true positive.</p>'
    width, height, pad = 560, 200, 30
    bar = (width - 2 * pad) / len(counts)
    top = max(counts)
    shapes = []
    for k, n in enumerate(counts):
        h = (height - 2 * pad) * n / top
        x = pad + k * bar
        shapes.append(
            f'<rect x="{x + 1:.1f}" y="{height - pad - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
            f'fill="#2ca02c"><title>{IOU_EDGES[k]:.2f}-{IOU_EDGES[k + 1]:.2f}: {n}</title></rect>'
        )
        shapes.append(f'<text x="{x + bar / 2:.1f}" y="{height - pad - h - 3:.1f}" text-anchor="middle">{n}</text>')
    for k, edge in enumerate(IOU_EDGES):
        if k % 2 == 0:
            x = pad + k * bar
            shapes.append(f'<text x="{x:.1f}" y="{height - pad + 14}" text-anchor="middle">{edge:.1f}</text>')
    mean = "" if page.iou_mean is None else f", mean {page.iou_mean:.3f}"
    return (
        f'<h2 id="ious">IoU of true positives</h2><p class="sub">{total} matched pairs{mean}.</p>'
        f'<svg width="{width}" height="{height}" role="img" aria-label="histogram of true-positive IoUs">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
        f"{''.join(shapes)}</svg>"
    )


def provenance(command: str, inputs: Mapping[str, str], versions: Mapping[str, str]) -> str:
    """The section naming the command, the inputs and the versions that made a page."""
    rows = "".join(
        f'<tr><td class="l">{escape(k)}</td><td class="l">{escape(v)}</td></tr>'
        for k, v in [*inputs.items(), *versions.items()]
    )
    return (
        '<h2 id="provenance">How this report was made</h2>'
        f'<pre id="command">{escape(command)}</pre>'
        f"<table><tbody>{rows}</tbody></table>"
    )
