"""Exceptions panoptiq raises where panopticapi raises a bare ``Exception`` or crashes."""

from __future__ import annotations


class MissingPredictionError(ValueError):
    """A ground-truth image has no prediction (panopticapi raises a bare ``Exception``)."""
