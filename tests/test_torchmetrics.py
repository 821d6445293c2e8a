"""Against torchmetrics itself (where torch and torchmetrics are installed): ``rules="torchmetrics"``
gives its counts and sums, and ``panoptiq.torchmetrics`` is a drop-in for its two metrics —
same outputs, shapes and errors, and the same result when states are summed across processes."""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import panoptiq
from metric_data import STUFFS, THINGS, pair_batches

torch = pytest.importorskip("torch", reason="torch is not installed: the torchmetrics parity tests need it")
detection = pytest.importorskip(
    "torchmetrics.detection", reason="torchmetrics is not installed: its own numbers are the reference here"
)
from panoptiq import torchmetrics as dropin  # noqa: E402 - needs torch, checked above

ORDER = [*THINGS, *STUFFS]  # torchmetrics' continuous ids: things then stuffs, each sorted


@settings(max_examples=60)
@given(st.lists(pair_batches(unknown=True), min_size=1, max_size=3), st.booleans())
def test_torchmetrics_rules_equal_torchmetrics_itself(batches, modified: bool) -> None:
    cls = detection.ModifiedPanopticQuality if modified else detection.PanopticQuality
    theirs = cls(things=set(THINGS), stuffs=set(STUFFS), allow_unknown_preds_category=True)
    ours = panoptiq.PanopticQuality(
        things=THINGS, stuffs=STUFFS, rules="torchmetrics", modified=modified, allow_unknown_preds_category=True
    )
    for p, t in batches:
        theirs.update(torch.from_numpy(p), torch.from_numpy(t))
        ours.update(torch.from_numpy(p), torch.from_numpy(t))  # CPU tensors, read through DLPack
    result = ours.compute()
    order = [*THINGS, *STUFFS]  # torchmetrics' continuous ids: things then stuffs, each sorted
    assert [result.per_class[c].tp for c in order] == theirs.true_positives.tolist()
    assert [result.per_class[c].fp for c in order] == theirs.false_positives.tolist()
    assert [result.per_class[c].fn for c in order] == theirs.false_negatives.tolist()
    for c, iou in zip(order, theirs.iou_sum.tolist(), strict=True):
        assert math.isclose(result.per_class[c].iou_sum, iou, rel_tol=1e-12, abs_tol=1e-12)
    expected = float(theirs.compute())
    if math.isnan(expected):  # torchmetrics' mean over no category
        assert result.all.n == 0
    else:
        # torchmetrics' RQ is a float32 quotient; PanopticQuality averages in float64.
        assert math.isclose(result.pq, expected, rel_tol=1e-6, abs_tol=1e-7)


def test_tensors_and_arrays_give_the_same_result() -> None:
    rng = np.random.default_rng(3)
    p = np.stack([rng.integers(1, 5, (2, 16, 16)), rng.integers(0, 3, (2, 16, 16))], axis=-1)
    t = np.stack([rng.integers(1, 5, (2, 16, 16)), rng.integers(0, 3, (2, 16, 16))], axis=-1)
    a = panoptiq.PanopticQuality(things=THINGS, stuffs=STUFFS, rules="torchmetrics")
    b = panoptiq.PanopticQuality(things=THINGS, stuffs=STUFFS, rules="torchmetrics")
    a.update(p, t)
    b.update(torch.from_numpy(p).to(torch.int32), torch.from_numpy(t).to(torch.int32))
    assert a.compute() == b.compute()


def assert_tensors_close(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-12, equal_nan=True)


@settings(max_examples=60)
@given(st.lists(pair_batches(unknown=True), min_size=1, max_size=3), st.booleans(), st.booleans())
def test_dropin_equals_torchmetrics(batches, sq_and_rq: bool, per_class: bool) -> None:
    kwargs = {"allow_unknown_preds_category": True, "return_sq_and_rq": sq_and_rq, "return_per_class": per_class}
    theirs = detection.PanopticQuality(things=set(THINGS), stuffs=set(STUFFS), **kwargs)
    ours = dropin.PanopticQuality(things=set(THINGS), stuffs=set(STUFFS), **kwargs)
    theirs_mod = detection.ModifiedPanopticQuality(set(THINGS), set(STUFFS), allow_unknown_preds_category=True)
    ours_mod = dropin.ModifiedPanopticQuality(set(THINGS), set(STUFFS), allow_unknown_preds_category=True)
    for p, t in batches:
        for metric in (theirs, ours, theirs_mod, ours_mod):
            metric.update(torch.from_numpy(p), torch.from_numpy(t))
    for name in ("true_positives", "false_positives", "false_negatives"):
        assert torch.equal(getattr(ours, name), getattr(theirs, name))
    assert_tensors_close(ours.compute(), theirs.compute())
    assert_tensors_close(ours_mod.compute(), theirs_mod.compute())


def test_dropin_refuses_what_torchmetrics_refuses() -> None:
    ours = dropin.PanopticQuality(things={1}, stuffs={2})
    theirs = detection.PanopticQuality(things={1}, stuffs={2})
    bad = [
        (np.zeros((1, 4, 2)), torch.zeros((1, 4, 2), dtype=torch.long)),  # not a tensor
        (torch.zeros((1, 4, 2), dtype=torch.long), torch.zeros((1, 5, 2), dtype=torch.long)),  # shapes
        (torch.zeros((4, 2), dtype=torch.long), torch.zeros((4, 2), dtype=torch.long)),  # no spatial axis
        (torch.zeros((1, 4, 3), dtype=torch.long), torch.zeros((1, 4, 3), dtype=torch.long)),  # 3 channels
        (torch.full((1, 4, 2), 7), torch.ones((1, 4, 2), dtype=torch.long)),  # unknown predicted category
    ]
    for p, t in bad:
        with pytest.raises((TypeError, ValueError)) as theirs_error:
            theirs.update(p, t)
        with pytest.raises(type(theirs_error.value)):
            ours.update(p, t)
    for things, stuffs in (({1}, {1}), (set(), set()), ({1.5}, {2})):
        with pytest.raises((TypeError, ValueError)) as theirs_error:
            detection.PanopticQuality(things=things, stuffs=stuffs)
        with pytest.raises(type(theirs_error.value)):
            dropin.PanopticQuality(things=things, stuffs=stuffs)


def _ddp_worker(rank: int, port: int, batches, out: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    metric = dropin.PanopticQuality(things=set(THINGS), stuffs=set(STUFFS), return_sq_and_rq=True)
    for p, t in batches[rank::2]:
        metric.update(torch.from_numpy(p), torch.from_numpy(t))
    result = metric.compute()  # synchronises the states: a sum over both processes
    torch.save(result, f"{out}.{rank}")
    torch.distributed.destroy_process_group()


def test_states_summed_across_processes_equal_one_process(tmp_path) -> None:
    """Two real processes (torch.distributed, gloo backend) split the batches."""
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(6):
        p = np.stack([rng.choice(ORDER, (2, 12, 12)), rng.integers(0, 3, (2, 12, 12))], axis=-1)
        t = np.stack([rng.choice(ORDER, (2, 12, 12)), rng.integers(0, 3, (2, 12, 12))], axis=-1)
        t[:, :6] = p[:, :6]  # enough overlap for true positives
        batches.append((p, t))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "result")
    torch.multiprocessing.spawn(_ddp_worker, args=(port, batches, out), nprocs=2, join=True)
    single = dropin.PanopticQuality(things=set(THINGS), stuffs=set(STUFFS), return_sq_and_rq=True)
    reference = detection.PanopticQuality(things=set(THINGS), stuffs=set(STUFFS), return_sq_and_rq=True)
    for p, t in batches:
        single.update(torch.from_numpy(p), torch.from_numpy(t))
        reference.update(torch.from_numpy(p), torch.from_numpy(t))
    for rank in (0, 1):
        assert torch.equal(torch.load(f"{out}.{rank}"), single.compute())
    assert_tensors_close(single.compute(), reference.compute())
