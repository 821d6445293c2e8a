"""panoptiq: Panoptic Quality (PQ = SQ x RQ) with a Rust core, equal to panopticapi's numbers.

``panoptiq.evaluation`` and ``panoptiq.utils`` mirror ``panopticapi.evaluation`` and
``panopticapi.utils`` (``pq_compute``, ``PQStat``, ``rgb2id``, ...);
:func:`install_as_panopticapi` makes ``import panopticapi`` resolve to them. panoptiq adds
:class:`PanopticQuality`, a streaming metric for label maps in memory (PQ and PQ†, under
panopticapi's or torchmetrics' rules; ``panoptiq.torchmetrics`` wraps it as torchmetrics'
metrics), :func:`evaluate_image` for one in-memory pair and :func:`read_id_map` /
:func:`write_id_map` for panoptic PNGs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Read by the Rust decoder, which cannot raise where it reads it: checked here, on import.
if os.environ.get("PANOPTIQ_DECODER", "auto").strip() not in ("auto", "dense", "sparse"):
    raise ValueError(
        f"PANOPTIQ_DECODER must be 'auto', 'dense' or 'sparse' (the PNG decoder's engine), "
        f"not {os.environ['PANOPTIQ_DECODER']!r}"
    )

from panoptiq import _deprecated
from panoptiq._ids import id2rgb, rgb2id
from panoptiq._image import evaluate_image
from panoptiq._png import read_id_map, write_id_map
from panoptiq._version import __version__
from panoptiq.compat import install_as_panopticapi
from panoptiq.errors import MissingPredictionError
from panoptiq.metric import PanopticQuality
from panoptiq.results import PQResult, PQStat, PQStatCat

_deprecated.install()

#: Segment ids are below OFFSET, so ``gt_id * OFFSET + pred_id`` identifies a pair (panopticapi's).
OFFSET = 256 * 256 * 256
#: The id of unlabeled pixels.
VOID = 0

if TYPE_CHECKING:
    from panoptiq.comparison import compare
    from panoptiq.evaluation import pq_compute


def __getattr__(name: str) -> Any:
    # panoptiq.evaluation is imported on first use, not with the package: `python -m
    # panoptiq.evaluation` must find it not yet imported, or runpy warns that it runs it twice.
    if name == "pq_compute":
        from panoptiq.evaluation import pq_compute

        return pq_compute
    if name == "compare":
        from panoptiq.comparison import compare

        return compare
    raise AttributeError(f"module 'panoptiq' has no attribute {name!r}")


__all__ = [
    "OFFSET",
    "VOID",
    "MissingPredictionError",
    "PQResult",
    "PQStat",
    "PQStatCat",
    "PanopticQuality",
    "__version__",
    "compare",
    "evaluate_image",
    "id2rgb",
    "install_as_panopticapi",
    "pq_compute",
    "read_id_map",
    "rgb2id",
    "write_id_map",
]
