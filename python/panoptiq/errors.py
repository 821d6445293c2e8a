"""Exceptions panoptiq raises where panopticapi raises a bare ``Exception`` or crashes."""

from __future__ import annotations

from panoptiq._core import ArchiveError

__all__ = ["ArchiveError", "ClusterError", "MissingPredictionError", "SchedulerUnreachableError"]


class MissingPredictionError(ValueError):
    """A ground-truth image has no prediction (panopticapi raises a bare ``Exception``)."""


class SchedulerUnreachableError(ConnectionError):
    """No Dask scheduler answered at the address given."""


class ClusterError(RuntimeError):
    """The cluster could not finish the evaluation (workers lost again and again, tasks cancelled)."""
