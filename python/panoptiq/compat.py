"""Making ``import panopticapi`` resolve to panoptiq, for code that cannot change its imports."""

from __future__ import annotations

import os
import sys
import types

#: Set by :func:`install_as_panopticapi`; Python processes started with it set (spawned and
#: forkserver workers, subprocesses) install the shim at start-up, through the
#: ``panoptiq-as-panopticapi.pth`` file that panoptiq's wheel puts in ``site-packages``.
ENVIRONMENT_VARIABLE = "PANOPTIQ_AS_PANOPTICAPI"


def install_as_panopticapi(*, subprocesses: bool = True) -> None:
    """Make ``panopticapi``, ``panopticapi.evaluation``, ``panopticapi.utils`` and
    ``panopticapi.combine_semantic_and_instance_predictions`` be panoptiq's.

    Call it once, before the code that imports panopticapi runs (detectron2's and
    mmdetection's evaluators, for instance); any panopticapi already imported is replaced.
    Forked worker processes inherit it; with ``subprocesses=True`` (the default) so do worker
    processes started by ``spawn`` or ``forkserver`` (macOS's and, from Python 3.14, Linux's
    default) and other Python subprocesses, through the environment variable
    ``PANOPTIQ_AS_PANOPTICAPI=1``, which this sets.

    Examples
    --------
    >>> import panoptiq
    >>> panoptiq.install_as_panopticapi()
    >>> from panopticapi.evaluation import pq_compute  # panoptiq's
    """
    from panoptiq import evaluation, utils
    from panoptiq.converters import combine_semantic_and_instance_predictions as combine

    package = types.ModuleType("panopticapi", "panoptiq standing in for panopticapi")
    package.__path__ = []
    package.evaluation = evaluation  # type: ignore[attr-defined]
    package.utils = utils  # type: ignore[attr-defined]
    package.combine_semantic_and_instance_predictions = combine  # type: ignore[attr-defined]
    sys.modules["panopticapi"] = package
    sys.modules["panopticapi.evaluation"] = evaluation
    sys.modules["panopticapi.utils"] = utils
    sys.modules["panopticapi.combine_semantic_and_instance_predictions"] = combine
    if subprocesses:
        os.environ[ENVIRONMENT_VARIABLE] = "1"
