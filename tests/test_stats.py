"""PQStat / PQStatCat behave as panopticapi's, and pq_average gives panopticapi's numbers."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from panopticapi.evaluation import PQStat as PanopticapiPQStat

import panoptiq

category_stats = st.tuples(
    st.floats(0, 50, allow_nan=False), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)
)


@given(
    st.dictionaries(st.integers(1, 40), category_stats, max_size=12),
    st.dictionaries(st.integers(1, 40), st.sampled_from([0, 1]), min_size=1, max_size=20),
    st.sampled_from([None, True, False]),
)
def test_pq_average_equals_panopticapi(stats: dict, isthing_of: dict, isthing: bool | None) -> None:
    categories = {c: {"id": c, "isthing": t} for c, t in isthing_of.items()}
    ours, theirs = panoptiq.PQStat(), PanopticapiPQStat()
    for category, (iou, tp, fp, fn) in stats.items():
        for stat in (ours, theirs):
            stat[category].iou, stat[category].tp, stat[category].fp, stat[category].fn = iou, tp, fp, fn
    try:
        expected = theirs.pq_average(categories, isthing)
    except ZeroDivisionError:
        with pytest.warns(RuntimeWarning, match="n = 0"):
            averages, per_class = ours.pq_average(categories, isthing)
        assert averages == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
        assert all(v == {"pq": 0.0, "sq": 0.0, "rq": 0.0} for v in per_class.values())
        return
    result = ours.pq_average(categories, isthing)
    assert result == expected
    # Same types too (panopticapi reports an integer SQ of 0 when a class has no TP).
    assert [type(v["sq"]) for v in result[1].values()] == [type(v["sq"]) for v in expected[1].values()]
    assert list(result[1]) == list(expected[1])
    assert set(ours.pq_per_cat) == set(theirs.pq_per_cat)


def test_iadd_getitem_and_pickle() -> None:
    a, b = panoptiq.PQStat(), panoptiq.PQStat()
    a[1].iou, a[1].tp = 0.75, 1
    b[1].fp, b[2].fn = 2, 3
    a += b
    assert (a[1].iou, a[1].tp, a[1].fp, a[2].fn) == (0.75, 1, 2, 3)
    restored = pickle.loads(pickle.dumps(a))
    assert {k: vars(v) for k, v in restored.pq_per_cat.items()} == {k: vars(v) for k, v in a.pq_per_cat.items()}
    cat = panoptiq.PQStatCat()
    cat += a[1]
    assert vars(cat) == {"iou": 0.75, "tp": 1, "fp": 2, "fn": 0}


def test_empty_split_warns_and_reports_zeros() -> None:
    stat = panoptiq.PQStat()
    stat[1].tp, stat[1].iou = 1, 0.9
    categories = {1: {"isthing": 1}, 2: {"isthing": 1}}
    with pytest.warns(RuntimeWarning, match="no stuff category"):
        averages, per_class = stat.pq_average(categories, isthing=False)
    assert averages == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
    assert per_class == {}


def test_equality_is_by_value_and_survives_pickling() -> None:
    a, b = panoptiq.PQStat(), panoptiq.PQStat()
    for stat in (a, b):
        stat[1].iou, stat[1].tp, stat[2].fn = 0.75, 1, 3
    assert a == b
    assert pickle.loads(pickle.dumps(a)) == a
    assert pickle.loads(pickle.dumps(a[1])) == a[1]
    _ = b[9]  # reading creates an all-zero category, which changes no value
    assert a == b
    b[9].fp = 1
    assert a != b
    b[9].fp, b[1].iou = 0, 0.7500000000000001
    assert a != b
    assert a[1] != b[1]
    assert a[2] == b[2]
    assert a != {1: a[1]}  # not a PQStat
    with pytest.raises(TypeError):
        hash(a)


def test_pq_average_takes_a_mapping_records_or_ids() -> None:
    stat = panoptiq.PQStat()
    stat[1].iou, stat[1].tp, stat[1].fp = 0.8, 1, 1
    stat[2].fn = 2
    mapping = {1: {"id": 1, "isthing": 1}, 2: {"id": 2, "isthing": 0}, 5: {"id": 5, "isthing": 0}}
    theirs = PanopticapiPQStat()
    theirs[1].iou, theirs[1].tp, theirs[1].fp, theirs[2].fn = 0.8, 1, 1, 2
    for isthing in (None, True, False):
        expected = theirs.pq_average(mapping, isthing)
        assert stat.pq_average(mapping, isthing) == expected
        assert stat.pq_average(list(mapping.values()), isthing) == expected
    assert stat.pq_average([1, 2, 5], None) == theirs.pq_average(mapping, None)
    with pytest.raises(ValueError, match=r"category 1 has no 'isthing'.*pass category records"):
        stat.pq_average([1, 2, 5], True)
    with pytest.raises(KeyError, match="has no 'id'"):
        stat.pq_average([{"isthing": 1}], None)
