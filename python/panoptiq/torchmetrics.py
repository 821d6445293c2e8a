"""torchmetrics' ``PanopticQuality`` and ``ModifiedPanopticQuality``, computed by panoptiq.

Subclasses of ``torchmetrics.Metric`` with torchmetrics' constructor arguments, output shapes and
distributed behaviour (tensor states, summed across processes): a Lightning user changes one
import. Needs the ``torch`` extra (torch and torchmetrics); nothing else in panoptiq imports them.

Two differences, both on purpose: tensors on an accelerator are copied to the CPU, where the
engine runs; and the IoU sums are kept exactly (as 32-bit limbs of a fixed-point count in an
``int64`` state), so results do not depend on the order of updates or on the number of
processes. ``iou_sum`` is still there, in float64, for code that reads it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import torch
from torchmetrics import Metric
from torchmetrics.utilities import rank_zero_warn

import panoptiq._core as _core

# An exact IoU sum is a count of 2**-128 units below 2**256: eight 32-bit limbs. Each sits in an
# int64, so summing the states of up to 2**31 processes cannot overflow before carries settle.
_LIMBS, _LIMB_BITS = 8, 32
_UNITS = 2**128


def _parse_categories(things: Collection[int], stuffs: Collection[int]) -> tuple[set[int], set[int]]:
    """torchmetrics' checks of ``things`` and ``stuffs``, with its messages."""
    parsed = []
    for name, values in (("things", things), ("stuffs", stuffs)):
        unique = set(values)
        if len(unique) < len(values):
            rank_zero_warn(f"The provided `{name}` categories contained duplicates, which have been removed.")
        if not all(isinstance(v, int) for v in unique):
            raise TypeError(f"Expected argument `{name}` to contain `int` categories, but got {values}")
        parsed.append(unique)
    if parsed[0] & parsed[1]:
        raise ValueError(
            f"Expected arguments `things` and `stuffs` to have distinct keys, but got {things} and {stuffs}"
        )
    if not (parsed[0] | parsed[1]):
        raise ValueError("At least one of `things` and `stuffs` must be non-empty.")
    return parsed[0], parsed[1]


def _validate_inputs(preds: Any, target: Any) -> None:
    """torchmetrics' checks of ``update``'s arguments, with its messages."""
    for name, value in (("preds", preds), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"Expected argument `{name}` to be of type `torch.Tensor`, but got {type(value)}")
    if preds.shape != target.shape:
        raise ValueError(
            f"Expected argument `preds` and `target` to have the same shape, but got {preds.shape} and {target.shape}"
        )
    if preds.dim() < 3:
        raise ValueError(
            f"Expected argument `preds` to have at least one spatial dimension (B, *spatial_dims, 2), got {preds.shape}"
        )
    if preds.shape[-1] != 2:
        raise ValueError(
            "Expected argument `preds` to have exactly 2 channels in the last dimension (category, instance), "
            f"got {preds.shape} instead"
        )


def _limbs(hex_units: str) -> list[int]:
    value = int(hex_units, 16)
    return [(value >> (_LIMB_BITS * i)) & (2**_LIMB_BITS - 1) for i in range(_LIMBS)]


class _PanopticBase(Metric):
    is_differentiable: bool = False
    higher_is_better: bool = True
    full_state_update: bool = False
    plot_lower_bound: float = 0.0
    plot_upper_bound: float = 1.0

    iou_sum: torch.Tensor
    iou_exact: torch.Tensor
    true_positives: torch.Tensor
    false_positives: torch.Tensor
    false_negatives: torch.Tensor

    def _setup(self, things: Collection[int], stuffs: Collection[int], allow_unknown: bool, modified: bool) -> None:
        self.things, self.stuffs = _parse_categories(things, stuffs)
        self.allow_unknown_preds_category = allow_unknown
        order = [(c, True) for c in sorted(self.things)] + [(c, False) for c in sorted(self.stuffs)]
        self.cat_id_to_continuous_id = {c: i for i, (c, _) in enumerate(order)}
        self.void_color = (1 + max([0, *self.things, *self.stuffs]), 0)
        self._evaluator = _core.Evaluator(_core.Categories(order), "torchmetrics", modified, None, allow_unknown)
        n = len(order)
        self.add_state("iou_sum", default=torch.zeros(n, dtype=torch.double), dist_reduce_fx="sum")
        self.add_state("iou_exact", default=torch.zeros((n, _LIMBS), dtype=torch.int64), dist_reduce_fx="sum")
        for name in ("true_positives", "false_positives", "false_negatives"):
            self.add_state(name, default=torch.zeros(n, dtype=torch.int), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of ``(B, *spatial, 2)`` (category, instance) tensors."""
        _validate_inputs(preds, target)
        p = preds.detach().cpu().reshape(len(preds), -1, 2).contiguous()
        t = target.detach().cpu().reshape(len(target), -1, 2).contiguous()
        if p.dtype != t.dtype or p.dtype not in (torch.int64, torch.int32, torch.uint8):
            p, t = p.to(torch.int64), t.to(torch.int64)
        keys = [str(i) for i in range(len(p))]
        totals, _, _ = self._evaluator.update_pairs((p.numpy(), t.numpy()), _core.Batch(keys))
        rows = totals.exact_rows()
        if not rows:
            return
        index = torch.tensor([self.cat_id_to_continuous_id[row[0]] for row in rows])
        counts = torch.tensor([row[2:] for row in rows], dtype=torch.int)
        limbs = torch.tensor([_limbs(row[1]) for row in rows], dtype=torch.int64)
        floats = torch.tensor([row[1] for row in totals.rows()], dtype=torch.double)
        for state, values in (
            (self.true_positives, counts[:, 0]),
            (self.false_positives, counts[:, 1]),
            (self.false_negatives, counts[:, 2]),
            (self.iou_exact, limbs),
            (self.iou_sum, floats),
        ):
            state.index_add_(0, index.to(state.device), values.to(state.device))

    def _exact_iou_sum(self) -> torch.Tensor:
        """The IoU sums, each the exact total rounded once to float64."""
        rows = self.iou_exact.cpu().tolist()
        sums = [sum(limb << (_LIMB_BITS * i) for i, limb in enumerate(row)) / _UNITS for row in rows]
        return torch.tensor(sums, dtype=torch.double, device=self.iou_sum.device)

    def _scores(self) -> tuple[torch.Tensor, ...]:
        # torchmetrics' formulas and dtypes (its denominator is float32), on the exact sums.
        iou_sum, tp = self._exact_iou_sum(), self.true_positives
        sq = torch.where(tp > 0.0, iou_sum / tp, 0.0)
        denominator = tp + 0.5 * self.false_positives + 0.5 * self.false_negatives
        rq = torch.where(denominator > 0.0, tp / denominator, 0.0)
        pq = sq * rq
        seen = denominator > 0
        return pq, sq, rq, torch.mean(pq[seen]), torch.mean(sq[seen]), torch.mean(rq[seen])


class PanopticQuality(_PanopticBase):
    """torchmetrics' ``PanopticQuality`` (its arguments, outputs and rules), computed by panoptiq.

    Parameters
    ----------
    things, stuffs : collection of int
        Disjoint category ids of countable things and amorphous stuff.
    allow_unknown_preds_category : bool
        Predicted pixels of other categories become VOID instead of raising.
    return_sq_and_rq : bool
        Return PQ, SQ and RQ, not PQ alone.
    return_per_class : bool
        Return per-class values (things first, then stuffs, each in ascending id order).
    **kwargs
        ``torchmetrics.Metric``'s keyword arguments.
    """

    def __init__(
        self,
        things: Collection[int],
        stuffs: Collection[int],
        allow_unknown_preds_category: bool = False,
        return_sq_and_rq: bool = False,
        return_per_class: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.return_sq_and_rq = return_sq_and_rq
        self.return_per_class = return_per_class
        self._setup(things, stuffs, allow_unknown_preds_category, modified=False)

    def compute(self) -> torch.Tensor:
        """PQ (and SQ, RQ when asked), averaged or per class, as torchmetrics returns them."""
        pq, sq, rq, pq_avg, sq_avg, rq_avg = self._scores()
        if self.return_per_class:
            if self.return_sq_and_rq:
                return torch.stack((pq, sq, rq), dim=-1)
            return pq.view(1, -1)
        if self.return_sq_and_rq:
            return torch.stack((pq_avg, sq_avg, rq_avg), dim=0)
        return pq_avg


class ModifiedPanopticQuality(_PanopticBase):
    """torchmetrics' ``ModifiedPanopticQuality`` (PQ†, Porzi et al. 2019), computed by panoptiq.

    Parameters
    ----------
    things, stuffs : collection of int
        Disjoint category ids of countable things and amorphous stuff.
    allow_unknown_preds_category : bool
        Predicted pixels of other categories become VOID instead of raising.
    **kwargs
        ``torchmetrics.Metric``'s keyword arguments.
    """

    def __init__(
        self,
        things: Collection[int],
        stuffs: Collection[int],
        allow_unknown_preds_category: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._setup(things, stuffs, allow_unknown_preds_category, modified=True)

    def compute(self) -> torch.Tensor:
        """PQ† averaged over the categories seen."""
        return self._scores()[3]


__all__ = ["ModifiedPanopticQuality", "PanopticQuality"]
