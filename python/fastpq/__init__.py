"""fastpq: Panoptic Quality (PQ = SQ x RQ) with a Rust core, equal to panopticapi's numbers.

The public API mirrors ``panopticapi`` (``rgb2id``, ``id2rgb``, ``PQStat``, ``PQStatCat``,
``OFFSET``, ``VOID``) and adds :func:`evaluate_image` for in-memory id maps and
:func:`read_id_map` for panoptic PNGs.
"""

from importlib.metadata import PackageNotFoundError, version

from fastpq.ids import id2rgb, rgb2id
from fastpq.image import evaluate_image
from fastpq.png import read_id_map
from fastpq.stats import PQStat, PQStatCat

#: Segment ids are below OFFSET, so ``gt_id * OFFSET + pred_id`` identifies a pair (panopticapi's).
OFFSET = 256 * 256 * 256
#: The id of unlabeled pixels.
VOID = 0

try:
    __version__ = version("fastpq")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "OFFSET",
    "VOID",
    "PQStat",
    "PQStatCat",
    "__version__",
    "evaluate_image",
    "id2rgb",
    "read_id_map",
    "rgb2id",
]
