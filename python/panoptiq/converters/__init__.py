"""panopticapi's converters, exact and parallel.

Each function has panopticapi's name and arguments (plus keyword-only ``seed``, ``threads``,
``overwrite`` and ``progress``), writes what the script writes, and does the pixel work in the
Rust core on all cores. Segment colours follow panopticapi's ``IdGenerator`` rule but come from
a seeded generator, so the same seed gives the same PNGs anywhere; black (id 0, VOID) is never
handed out. Every output file is written under a temporary name and renamed when complete.

The same converters run as ``panoptiq convert <name>`` and as
``python -m panoptiq.converters.<panopticapi script name>``.
"""

from ._cityscapes import cityscapes_categories, panoptic_converter
from ._combine import combine_predictions
from ._detection import convert_detection_to_panoptic_coco_format
from ._semantic import OTHER_CLASS_ID, cat_id2rgb, extract_semantic
from ._to_detection import convert_panoptic_to_detection_coco_format
from ._two_channels import converter

#: Readable names of the same functions.
two_channels_to_panoptic = converter
detection_to_panoptic = convert_detection_to_panoptic_coco_format
panoptic_to_detection = convert_panoptic_to_detection_coco_format
panoptic_to_semantic = extract_semantic
cityscapes_to_panoptic = panoptic_converter

__all__ = [
    "OTHER_CLASS_ID",
    "cat_id2rgb",
    "cityscapes_categories",
    "cityscapes_to_panoptic",
    "combine_predictions",
    "convert_detection_to_panoptic_coco_format",
    "convert_panoptic_to_detection_coco_format",
    "converter",
    "detection_to_panoptic",
    "extract_semantic",
    "panoptic_converter",
    "panoptic_to_detection",
    "panoptic_to_semantic",
    "two_channels_to_panoptic",
]
