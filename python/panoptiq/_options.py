"""One options value for an evaluation: which IoU, whether per-image and per-segment records
are kept, how many threads, who hears of progress. Checked once, where the user gives it; the
core receives its projection (:class:`panoptiq._core.Options`), which parts sent to a cluster
carry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import panoptiq._core as _core
from panoptiq._progress import ProgressCallback
from panoptiq.boundary import BoundaryOptions, boundary_options


def check_threads(num_threads: Any) -> None:
    """``num_threads`` must be None or a positive integer."""
    if num_threads is not None and (
        not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1
    ):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")


@dataclass(frozen=True)
class Options:
    """How to evaluate.

    Parameters
    ----------
    iou_type, dilation_ratio, reference_marker
        Mask IoU (``"segm"``) or Boundary PQ's (``"boundary"``, see :mod:`panoptiq.boundary`).
    records : bool
        Keep every image's scores and every segment's record besides the totals.
    image_stats : bool
        Keep every image's per-class sums besides the totals (what a bootstrap resamples).
    breakdown : bool
        Give every error a cause and keep the totals with each kind fixed (mask IoU only).
    num_threads : int, optional
        Worker threads; all cores by default.
    progress : callable, optional
        Called with (images done, images in all) as evaluation goes on.
    """

    iou_type: str = "segm"
    dilation_ratio: float = 0.02
    reference_marker: bool = False
    records: bool = False
    num_threads: int | None = None
    progress: ProgressCallback | None = None
    image_stats: bool = False
    breakdown: bool = False

    def __post_init__(self) -> None:
        # The checks (and their messages) of panoptiq's public arguments, before any work.
        boundary = boundary_options(self.iou_type, self.dilation_ratio, self.reference_marker)
        check_threads(self.num_threads)
        if self.breakdown and boundary is not None:
            raise ValueError('error_breakdown is defined for mask IoU only, not iou_type="boundary"')
        object.__setattr__(self, "dilation_ratio", 0.02 if boundary is None else boundary.dilation_ratio)

    @cached_property
    def boundary(self) -> BoundaryOptions | None:
        """Boundary PQ's options, None under mask IoU."""
        return boundary_options(self.iou_type, self.dilation_ratio, self.reference_marker)

    @cached_property
    def core(self) -> _core.Options:
        """What the core needs of these options (picklable: parts carry it)."""
        return _core.Options(
            self.iou_type,
            self.dilation_ratio,
            self.reference_marker,
            self.records,
            self.num_threads,
            self.image_stats,
            self.breakdown,
        )

    def but(self, **changes: Any) -> Options:
        """These options with ``changes``."""
        return replace(self, **changes)

    @classmethod
    def of_core(cls, core: _core.Options, **more: Any) -> Options:
        """The options a core projection was made from (without progress)."""
        ratio = core.dilation_ratio
        return cls(
            core.iou_type,
            0.02 if ratio is None else ratio,
            core.reference_marker,
            core.records,
            core.threads,
            image_stats=core.image_stats,
            breakdown=core.breakdown,
            **more,
        )
