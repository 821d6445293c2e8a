"""What panoptiq 0.1 stored still loads and merges bit for bit: partial results (format v1),
``PanopticQuality.state_dict()`` (v1) and pickles, committed in ``tests/data/v1`` with the small
dataset they were made from. Each is loaded with today's code, merged, and compared with today's
evaluation of the same files."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import pytest

import panoptiq
from panoptiq import evaluation, partials

V1 = Path(__file__).parent / "data" / "v1"
GT_JSON, PRED_JSON = V1 / "gt.json", V1 / "pred.json"
#: Each stored metric's settings, as they were made.
METRICS = {
    "plain": {},
    "records": {"per_image": True, "per_segment": True},
    "boundary": {"iou_type": "boundary", "dilation_ratio": 0.05},
}


def _pairs():
    gt, pred = json.loads(GT_JSON.read_text()), json.loads(PRED_JSON.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    return gt["categories"], [(a, by_id[a["image_id"]]) for a in gt["annotations"]]


def _fresh_metric(name: str, pairs) -> panoptiq.PanopticQuality:
    categories, _ = _pairs()
    metric = panoptiq.PanopticQuality(categories, **METRICS[name])
    for gt, pred in pairs:
        metric.update(
            panoptiq.read_id_map(V1 / "pred" / pred["file_name"]),
            panoptiq.read_id_map(V1 / "gt" / gt["file_name"]),
            preds_segments_info=pred["segments_info"],
            target_segments_info=gt["segments_info"],
            image_ids=gt["image_id"],
        )
    return metric


def _loads_old_pickle(data: bytes):
    # A 0.1 pickle may name a module that has since become private; it loads through its
    # deprecated re-export.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pickle.loads(data)


def test_the_stored_dataset_is_not_trivial():
    results = evaluation.pq_compute(str(GT_JSON), str(PRED_JSON), verbose=False)
    assert results["All"]["n"] > 5
    assert 0.1 < results["All"]["pq"] < 0.95


def test_v1_partials_combine_into_todays_result():
    expected = evaluation.pq_compute(str(GT_JSON), str(PRED_JSON), verbose=False, per_image=True)
    plan = partials.plan(str(GT_JSON), str(PRED_JSON), partition_size=4)
    stored = [(V1 / f"partial-{i}.json").read_bytes() for i in range(len(plan))]
    assert len(plan) == 2
    combined = plan.combine(stored)
    assert combined == {k: expected[k] for k in ("All", "per_class", "Things", "Stuff")}
    # A stored part merges with one evaluated today.
    assert plan.combine([stored[0], partials.evaluate(plan.parts[1])]) == combined
    assert plan.stat(stored) == partials.merge(stored)
    per_image, segments = plan.details((V1 / f"partial-{i}-details.json").read_bytes() for i in range(len(plan)))
    assert per_image == expected["per_image"]
    assert segments == expected["segments"]


@pytest.mark.parametrize("name", sorted(METRICS))
def test_v1_state_dicts_and_pickles_merge_into_todays_metric(name: str):
    _, pairs = _pairs()
    expected = _fresh_metric(name, pairs).compute()
    halves = {
        "state": [
            panoptiq.PanopticQuality.from_state_dict(json.loads((V1 / f"state-{name}-{h}.json").read_text()))
            for h in "ab"
        ],
        "pickle": [_loads_old_pickle((V1 / f"metric-{name}-{h}.pkl").read_bytes()) for h in "ab"],
    }
    for how, (a, b) in halves.items():
        assert (a.images, b.images) == (4, 2), how
        merged = a.merge(b).compute()
        assert merged.to_dict() == expected.to_dict(), how
        assert merged == expected, how
    # A stored half merges with a half fed today.
    stored_a = panoptiq.PanopticQuality.from_state_dict(json.loads((V1 / f"state-{name}-a.json").read_text()))
    assert stored_a.merge(_fresh_metric(name, pairs[4:])).compute().to_dict() == expected.to_dict()
    if name == "plain":
        assert expected.to_dict() == evaluation.pq_compute(str(GT_JSON), str(PRED_JSON), verbose=False)


def test_v1_pickled_result_and_stat_load_equal():
    categories, pairs = _pairs()
    result = _loads_old_pickle((V1 / "pqresult.pkl").read_bytes())
    fresh = _fresh_metric("records", pairs[:4]).compute()
    assert result == fresh
    assert result.to_dict() == fresh.to_dict()
    assert result.segments.to_pandas().equals(fresh.segments.to_pandas())
    stat = _loads_old_pickle((V1 / "pqstat.pkl").read_bytes())
    table = {c["id"]: c for c in categories}
    assert stat == evaluation.pq_compute_single_core(0, pairs, str(V1 / "gt"), str(V1 / "pred"), table, verbose=False)
    overall = evaluation.pq_compute(str(GT_JSON), str(PRED_JSON), verbose=False)["All"]
    assert stat.pq_average(table, isthing=None)[0] == overall
