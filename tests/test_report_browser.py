"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``, which ``.ci/run``
installs) opens it, and the test checks that it rendered without console errors or network
requests, that the per-class table sorts, that the worst-image tabs switch and their pictures
load, and saves a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, find_chromium
from PIL import Image

from panoptiq.report import write_report
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

CHROMIUM = find_chromium()
# .ci/run installs Chromium and sets this, so that there the test can only pass or fail.
REQUIRED = os.environ.get("PANOPTIQ_REQUIRE_CHROMIUM") == "1"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED,
    reason="no Chromium on PATH (Debian: apt-get install chromium); .ci/run installs it and runs this test",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("report-browser")
    gt_json, pred_json = make_dataset(
        folder / "data", 24, seed=5, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )
    return write_report(str(gt_json), str(pred_json), out=folder / "report", worst=4)


@pytest.fixture(scope="module")
def page(report):
    assert CHROMIUM is not None, "PANOPTIQ_REQUIRE_CHROMIUM=1 but no Chromium on PATH"
    with Browser(CHROMIUM) as browser:
        browser.open(report.page.as_uri())
        yield browser


def test_renders_without_errors_or_network(page, report) -> None:
    assert page.evaluate("document.body.dataset.ready") == "1"  # the script ran to its end
    assert page.evaluate("document.querySelector('h1').textContent").startswith("Panoptic quality of")
    assert page.problems() == []
    outside = [url for url in page.requested_urls() if not url.startswith("file://")]
    assert outside == [], "the report must not fetch anything from the network"
    summary = page.evaluate(
        "Array.from(document.querySelector('table.summary tbody').rows).map(r => r.cells[1].textContent)"
    )
    assert summary == [f"{100 * report.results[k]['pq']:.1f}" for k in ("All", "Things", "Stuff")]


def column(page, name: str) -> list[float]:
    return page.evaluate(
        f"""(() => {{
            const table = document.getElementById('per-class');
            const index = Array.from(table.tHead.rows[0].cells).findIndex(th => th.dataset.key === '{name}');
            return Array.from(table.tBodies[0].rows).map(r => Number(r.cells[index].dataset.v));
        }})()"""
    )


@pytest.mark.parametrize("key", ["pq", "sq", "rq", "fp", "fn"])
def test_per_class_table_sorts(page, report, key: str) -> None:
    click = f"document.querySelector('#per-class th[data-key={key}]').click()"
    page.evaluate(click)
    ascending = column(page, key)
    page.evaluate(click)
    descending = column(page, key)
    assert len(ascending) >= 3
    assert ascending == sorted(ascending)
    assert descending == sorted(ascending, reverse=True)
    # The rows move whole: each row's category keeps its own numbers.
    ids = page.evaluate(
        "Array.from(document.querySelectorAll('#per-class tbody tr')).map(r => Number(r.cells[0].dataset.v))"
    )
    values = dict(zip(ids, descending, strict=True))
    field = {"pq": "pq", "sq": "sq", "rq": "rq"}.get(key)
    for category_id, value in values.items():
        if field is not None:
            assert value == report.results["per_class"][category_id][field]
    assert page.problems() == []


def test_tabs_switch_and_pictures_load(page) -> None:
    visible = (
        "Array.from(document.querySelectorAll('.cards')).filter(c => !c.classList.contains('hidden')).map(c => c.id)"
    )
    assert page.evaluate(visible) == ["worst-pq"]
    page.evaluate("document.querySelector('button[data-panel=worst-fn]').click()")
    assert page.evaluate(visible) == ["worst-fn"]
    loaded = page.evaluate(
        """Promise.all(Array.from(document.querySelectorAll('#worst-fn img')).map(img => {
            img.loading = 'eager';
            return img.decode().then(() => img.naturalWidth, () => 0);
        }))"""
    )
    assert loaded
    assert all(width > 0 for width in loaded)
    page.evaluate("document.querySelector('button[data-panel=worst-pq]').click()")
    assert page.problems() == []


def test_screenshot(page, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    page.screenshot(shot)
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[1] == 1300
    assert pixels.shape[0] > 1000
    # Rendered, not blank: the page's background and ink and the error images' fate colours.
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    target = os.environ.get("PANOPTIQ_SCREENSHOT")
    if target:  # how the README's picture is made
        shutil.copy(shot, target)


def test_the_checks_see_a_broken_page(tmp_path: Path) -> None:
    # The same checks on a page with a script error, a console error and a remote request:
    # each is caught, so an empty list above means the report has none.
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'>"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        browser.open(broken.as_uri())
        problems = browser.problems()
        assert any("boom" in p for p in problems)
        assert any("undefinedFunction" in p for p in problems)
        assert "http://127.0.0.1:9/x.png" in browser.requested_urls()


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory):
    from compare_data import write_sets

    from panoptiq.report import write_comparison_report

    folder = tmp_path_factory.mktemp("comparison-browser")
    gt_json, preds = write_sets(folder / "data", images=10)
    return write_comparison_report(str(gt_json), list(map(str, preds[:3])), out=folder / "page", most=3, bootstrap=100)


def test_the_comparison_page_renders_sorts_and_switches(comparison) -> None:
    assert CHROMIUM is not None, "PANOPTIQ_REQUIRE_CHROMIUM=1 but no Chromium on PATH"
    with Browser(CHROMIUM) as page:
        page.open(comparison.page.as_uri())
        assert page.evaluate("document.body.dataset.ready") == "1"
        assert page.problems() == []
        assert [url for url in page.requested_urls() if not url.startswith("file://")] == []
        pq = page.evaluate(
            "Array.from(document.querySelectorAll('#compare-summary tbody tr')).map(r => r.cells[2].textContent)"
        )
        assert pq == [f"{100 * r['All']['pq']:.1f}" for r in comparison.results]
        # Sorting by the first set's difference orders the rows by it.
        page.evaluate("document.querySelectorAll('#compare-classes th')[6].click()")
        deltas = page.evaluate(
            "Array.from(document.querySelectorAll('#compare-classes tbody tr')).map(r => Number(r.cells[6].dataset.v))"
        )
        assert deltas == sorted(deltas)
        assert len(deltas) > 3
        visible = (
            "Array.from(document.querySelectorAll('.cards')).filter(c => !c.classList.contains('hidden'))"
            ".map(c => c.id)"
        )
        assert page.evaluate(visible) == ["differ-1"]
        page.evaluate("document.querySelector('button[data-panel=differ-2]').click()")
        assert page.evaluate(visible) == ["differ-2"]
        loaded = page.evaluate(
            """Promise.all(Array.from(document.querySelectorAll('#differ-2 img')).map(img => {
                img.loading = 'eager';
                return img.decode().then(() => img.naturalWidth, () => 0);
            }))"""
        )
        assert len(loaded) == 6
        assert all(width > 0 for width in loaded)
        assert page.problems() == []
