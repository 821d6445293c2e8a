"""The two sides of an image pair, and the one place their names are spelled."""

from __future__ import annotations

from enum import Enum


class Side(Enum):
    """Ground truth or prediction.

    Each message names a side by one of its forms: ``key`` in records and argument names
    (``gt_json_file``, ``"side": "gt"``), ``noun`` for the side itself and its JSON file
    ("ground truth JSON file"), ``adjective`` for its annotations, segments and PNGs
    ("ground-truth segment"), ``folder`` for its PNG folder ("Folder X with predicted
    segmentations", panopticapi's words).
    """

    GROUND_TRUTH = "gt"
    PREDICTION = "pred"

    @property
    def key(self) -> str:
        return self.value

    @property
    def noun(self) -> str:
        return "ground truth" if self is Side.GROUND_TRUTH else "prediction"

    @property
    def adjective(self) -> str:
        return "ground-truth" if self is Side.GROUND_TRUTH else "predicted"

    @property
    def folder(self) -> str:
        return "ground truth" if self is Side.GROUND_TRUTH else "predicted"


GT, PRED = Side.GROUND_TRUTH, Side.PREDICTION
