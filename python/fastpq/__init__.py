"""fastpq: Panoptic Quality (PQ = SQ x RQ) with a Rust core, equal to panopticapi's numbers.

``fastpq.evaluation`` and ``fastpq.utils`` mirror ``panopticapi.evaluation`` and
``panopticapi.utils`` (``pq_compute``, ``PQStat``, ``rgb2id``, ...);
:func:`install_as_panopticapi` makes ``import panopticapi`` resolve to them. fastpq adds
:func:`evaluate_image` for in-memory id maps and :func:`read_id_map` / :func:`write_id_map`
for panoptic PNGs.
"""

from importlib.metadata import PackageNotFoundError, version

from fastpq.compat import install_as_panopticapi
from fastpq.errors import MissingPredictionError
from fastpq.evaluation import pq_compute
from fastpq.ids import id2rgb, rgb2id
from fastpq.image import evaluate_image
from fastpq.png import read_id_map, write_id_map
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
    "MissingPredictionError",
    "PQStat",
    "PQStatCat",
    "__version__",
    "evaluate_image",
    "id2rgb",
    "install_as_panopticapi",
    "pq_compute",
    "read_id_map",
    "rgb2id",
    "write_id_map",
]
