"""PanopticQuality against ``pq_compute`` (hence panopticapi) on the same data written as PNG +
JSON: bit-identical dicts, in the foreground and in the background."""

from __future__ import annotations

import contextlib
import io
import json
import math

import pytest
from panopticapi import evaluation as panopticapi

import panoptiq
from panoptiq import evaluation
from panoptiq.synthetic import make_dataset

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("metric")
    gt_json, pred_json = make_dataset(folder, 40, seed=5)
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    return gt_json, pred_json, gt["categories"], pairs


def feed(metric: panoptiq.PanopticQuality, dataset, batch: int) -> None:
    gt_json, pred_json, _, pairs = dataset
    gt_dir, pred_dir = gt_json.with_suffix(""), pred_json.with_suffix("")
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        for g, p in chunk:  # sizes differ between images: one update per image
            metric.update(
                panoptiq.read_id_map(pred_dir / p["file_name"]),
                panoptiq.read_id_map(gt_dir / g["file_name"]),
                preds_segments_info=p["segments_info"],
                target_segments_info=g["segments_info"],
                image_ids=g["image_id"],
            )


def test_metric_in_memory_equals_pq_compute_bit_for_bit(dataset) -> None:
    gt_json, pred_json, categories, _ = dataset
    expected = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    for background in (False, True):
        m = panoptiq.PanopticQuality(categories, background=background)
        feed(m, dataset, 8)
        assert m.compute().to_dict() == expected


def test_pq_compute_equals_panopticapi_on_the_same_data(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = panopticapi.pq_compute(str(gt_json), str(pred_json))
    ours = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    for name in ("All", "Things", "Stuff"):
        assert ours[name]["n"] == theirs[name]["n"]
        for key in ("pq", "sq", "rq"):
            assert math.isclose(ours[name][key], theirs[name][key], rel_tol=0, abs_tol=1e-12)


def test_metric_rows_per_image_add_up(dataset) -> None:
    _, _, categories, pairs = dataset
    m = panoptiq.PanopticQuality(categories, per_image=True)
    feed(m, dataset, 8)
    result = m.compute()
    assert [r.image_id for r in result.per_image] == [str(g["image_id"]) for g, _ in pairs]
    for field in ("tp", "fp", "fn"):
        assert sum(getattr(r, field) for r in result.per_image) == sum(
            getattr(c, field) for c in result.per_class.values()
        )
