"""Making ``import panopticapi`` resolve to panoptiq, for code that cannot change its imports."""

from __future__ import annotations

import sys
import types


def install_as_panopticapi() -> None:
    """Make ``panopticapi``, ``panopticapi.evaluation`` and ``panopticapi.utils`` be panoptiq's.

    Call it once, before the code that imports panopticapi runs (detectron2's and
    mmdetection's evaluators, for instance); any panopticapi already imported is replaced.

    Examples
    --------
    >>> import panoptiq
    >>> panoptiq.install_as_panopticapi()
    >>> from panopticapi.evaluation import pq_compute  # panoptiq's
    """
    from panoptiq import evaluation, utils

    package = types.ModuleType("panopticapi", "panoptiq standing in for panopticapi")
    package.__path__ = []
    package.evaluation = evaluation  # type: ignore[attr-defined]
    package.utils = utils  # type: ignore[attr-defined]
    sys.modules["panopticapi"] = package
    sys.modules["panopticapi.evaluation"] = evaluation
    sys.modules["panopticapi.utils"] = utils
