"""The converters' command lines, with panopticapi's scripts' flags: used by
``panoptiq convert <name>`` and by the ``python -m panoptiq.converters.<script>`` modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import _cityscapes, _combine, _detection, _semantic, _to_detection, _two_channels
from ._common import refuse_existing

#: ``panoptiq convert`` names, and the panopticapi scripts they stand for.
SCRIPTS = {
    "2channels": "converters/2channels2panoptic_coco_format.py",
    "detection2panoptic": "converters/detection2panoptic_coco_format.py",
    "panoptic2detection": "converters/panoptic2detection_coco_format.py",
    "panoptic2semantic": "converters/panoptic2semantic_segmentation.py",
    "combine": "combine_semantic_and_instance_predictions.py",
    "cityscapes": "cityscapes_gt_converter/cityscapes_panoptic_converter.py",
}

CATEGORIES = "./panoptic_coco_categories.json"


def _flag(text: str) -> bool:
    """panopticapi's ``--save_with_color`` takes a value (``type=bool``, where any text but ''
    is true); here ``--save_with_color`` alone, or with yes/no, true/false, 1/0."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "no", "n", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _common(parser: argparse.ArgumentParser, *, colours: bool = True) -> None:
    group = parser.add_argument_group("panoptiq")
    if colours:
        group.add_argument("--seed", type=int, default=0, help="seed of the thing colours (default: 0)")
    group.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    group.add_argument("--overwrite", action="store_true", help="write into a non-empty output folder")
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """The flags of converter ``name``."""
    add = parser.add_argument
    if name == "2channels":
        add("--source_folder", required=True, help="folder of the 2-channel PNGs")
        add("--images_json_file", required=True, help="JSON with the image set")
        add("--categories_json_file", default=CATEGORIES, help="panoptic categories JSON")
        add("--segmentations_folder", default=None, help="output PNG folder (default: the JSON's name)")
        add("--predictions_json_file", required=True, help="output panoptic JSON")
        add("-v", "--void", type=int, default=0, help="the semantic id of VOID in the 2-channel PNGs")
    elif name == "detection2panoptic":
        add("--input_json_file", required=True, help="COCO detection JSON")
        add("--output_json_file", required=True, help="output panoptic JSON")
        add("--segmentations_folder", default=None, help="output PNG folder (default: the JSON's name)")
        add("--categories_json_file", default=CATEGORIES, help="panoptic categories JSON")
    elif name == "panoptic2detection":
        add("--input_json_file", required=True, help="panoptic JSON")
        add("--segmentations_folder", default=None, help="panoptic PNG folder (default: the JSON's name)")
        add("--output_json_file", required=True, help="output detection JSON")
        add("--categories_json_file", default=CATEGORIES, help="panoptic categories JSON")
        add("--things_only", action="store_true", help="keep thing segments only")
    elif name == "panoptic2semantic":
        add("--input_json_file", required=True, help="panoptic JSON")
        add("--segmentations_folder", default=None, help="panoptic PNG folder (default: the JSON's name)")
        add("--output_json_file", default=None, help="output JSON of one RLE per class and image")
        add("--semantic_seg_folder", default=None, help="output folder of semantic PNGs")
        add("--categories_json_file", default=CATEGORIES, help="panoptic categories JSON")
        add("--save_with_color", type=_flag, nargs="?", const=True, default=False, help="colour semantic PNGs")
        add("--things_other", action="store_true", help="merge every thing class into 'other' (183)")
    elif name == "combine":
        add("--semseg_json_file", required=True, help="semantic segmentation results JSON")
        add("--instseg_json_file", required=True, help="instance segmentation results JSON")
        add("--images_json_file", required=True, help="JSON with the image set")
        add("--categories_json_file", default=CATEGORIES, help="panoptic categories JSON")
        add("--panoptic_json_file", required=True, help="output panoptic JSON")
        add("--segmentations_folder", default=None, help="output PNG folder (default: the JSON's name)")
        add("--confidence_thr", type=float, default=0.5, help="instances below this score are dropped")
        add("--overlap_thr", type=float, default=0.5, help="instances more covered than this are dropped")
        add("--stuff_area_limit", type=float, default=64 * 64, help="stuff with fewer free pixels is dropped")
    elif name == "cityscapes":
        add("--original_format_folder", default="./gtFine/val/", help="gtFine split folder")
        add("--out_folder", default="./cityscapes_data/cityscapes_panoptic_val/", help="output PNG folder")
        add("--out_file", default="./cityscapes_data/cityscapes_panoptic_val.json", help="output panoptic JSON")
    else:
        raise ValueError(f"no converter {name!r}; one of {', '.join(SCRIPTS)}")
    _common(parser, colours=name != "panoptic2detection" and name != "panoptic2semantic")


def run(name: str, args: argparse.Namespace, *, overwrite: bool | None) -> None:
    """Run converter ``name`` with parsed ``args``; ``overwrite=None`` reuses output folders as
    panopticapi's scripts do, ``False`` refuses non-empty ones and existing output files."""
    if args.overwrite:
        overwrite = True
    progress = not args.quiet
    colours: dict[str, Any] = {"seed": args.seed} if hasattr(args, "seed") else {}
    common: dict[str, Any] = {"threads": args.threads, "progress": progress}
    calls: dict[str, Callable[[], None]] = {
        "2channels": lambda: _two_channels.converter(
            args.source_folder,
            args.images_json_file,
            args.categories_json_file,
            args.segmentations_folder,
            args.predictions_json_file,
            args.void,
            overwrite=overwrite,
            **colours,
            **common,
        ),
        "detection2panoptic": lambda: _detection.convert_detection_to_panoptic_coco_format(
            args.input_json_file,
            args.segmentations_folder,
            args.output_json_file,
            args.categories_json_file,
            overwrite=overwrite,
            **colours,
            **common,
        ),
        "panoptic2detection": lambda: _to_detection.convert_panoptic_to_detection_coco_format(
            args.input_json_file,
            args.segmentations_folder,
            args.output_json_file,
            args.categories_json_file,
            args.things_only,
            **common,
        ),
        "panoptic2semantic": lambda: _semantic.extract_semantic(
            args.input_json_file,
            args.segmentations_folder,
            args.output_json_file,
            args.semantic_seg_folder,
            args.categories_json_file,
            args.things_other,
            save_with_color=args.save_with_color,
            overwrite=overwrite,
            **common,
        ),
        "combine": lambda: _combine.combine_predictions(
            args.semseg_json_file,
            args.instseg_json_file,
            args.images_json_file,
            args.categories_json_file,
            args.segmentations_folder,
            args.panoptic_json_file,
            args.confidence_thr,
            args.overlap_thr,
            args.stuff_area_limit,
            overwrite=overwrite,
            **colours,
            **common,
        ),
        "cityscapes": lambda: _cityscapes.panoptic_converter(
            args.original_format_folder, args.out_folder, args.out_file, overwrite=overwrite, **colours, **common
        ),
    }
    for output in ("predictions_json_file", "output_json_file", "panoptic_json_file", "out_file"):
        if getattr(args, output, None) is not None:
            refuse_existing(getattr(args, output), overwrite=overwrite)
    calls[name]()


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """``python -m panoptiq.converters.<script>``: the script's flags, the script's folders."""
    parser = argparse.ArgumentParser(
        prog=f"python -m panoptiq.converters ({name})",
        description=f"panopticapi's {SCRIPTS[name]}, exact and parallel (panoptiq).",
    )
    add_arguments(name, parser)
    args = parser.parse_args(argv)
    try:
        run(name, args, overwrite=None)
    except (OSError, ValueError, KeyError) as error:
        print(f"panoptiq: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("panoptiq: interrupted", file=sys.stderr)
        return 130
    return 0
