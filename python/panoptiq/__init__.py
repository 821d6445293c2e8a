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

import importlib
import os
from typing import TYPE_CHECKING, Any

# Read by the Rust decoder, which cannot raise where it reads it: checked here, on import.
if os.environ.get("PANOPTIQ_DECODER", "auto").strip() not in ("auto", "dense", "sparse"):
    raise ValueError(
        f"PANOPTIQ_DECODER must be 'auto', 'dense' or 'sparse' (the PNG decoder's engine), "
        f"not {os.environ['PANOPTIQ_DECODER']!r}"
    )

from panoptiq import _deprecated

_deprecated.install()

#: Segment ids are below OFFSET, so ``gt_id * OFFSET + pred_id`` identifies a pair (panopticapi's).
OFFSET = 256 * 256 * 256
#: The id of unlabeled pixels.
VOID = 0

# The package's names, each imported from its module on first use: `import panoptiq.converters`
# (and the converters' scripts) must not pay for numpy and the metric, and `python -m
# panoptiq.evaluation` must find that module not yet imported, or runpy warns that it runs it twice.
_LAZY = {
    "id2rgb": "panoptiq._ids",
    "rgb2id": "panoptiq._ids",
    "evaluate_image": "panoptiq._image",
    "read_id_map": "panoptiq._png",
    "write_id_map": "panoptiq._png",
    "__version__": "panoptiq._version",
    "install_as_panopticapi": "panoptiq.compat",
    "MissingPredictionError": "panoptiq.errors",
    "PanopticQuality": "panoptiq.metric",
    "PQResult": "panoptiq.results",
    "PQStat": "panoptiq.results",
    "PQStatCat": "panoptiq.results",
    "pq_compute": "panoptiq.evaluation",
    "compare": "panoptiq.comparison",
}

if TYPE_CHECKING:
    from panoptiq._ids import id2rgb, rgb2id
    from panoptiq._image import evaluate_image
    from panoptiq._png import read_id_map, write_id_map
    from panoptiq._version import __version__
    from panoptiq.comparison import compare
    from panoptiq.compat import install_as_panopticapi
    from panoptiq.errors import MissingPredictionError
    from panoptiq.evaluation import pq_compute
    from panoptiq.metric import PanopticQuality
    from panoptiq.results import PQResult, PQStat, PQStatCat


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'panoptiq' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
