"""COCO panoptic JSON files read and checked where the Rust reader refuses them: what panopticapi
accepts is accepted, and what it would crash on or silently misread is refused with the file, the
image and the field named."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from panoptiq._side import Side
from panoptiq._storage import Location, read_file


def load_json(path: str | os.PathLike[str] | Location, side: Side) -> dict[str, Any]:
    """Read the COCO panoptic JSON file of ``side`` (on disk, in an archive or at a URL)."""
    location = path if isinstance(path, Location) else Location(os.fspath(path))
    return parse_json(read_json_bytes(location, side), location.path, side)


def read_json_bytes(location: Location, side: Side) -> bytes:
    """The bytes of ``side``'s JSON file; a missing file or a folder is told apart and named."""
    path, what, key = location.path, side.noun, side.key
    try:
        return read_file(location, f"{what} JSON file")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} JSON file {path} does not exist") from None
    except IsADirectoryError:
        raise IsADirectoryError(
            f"{what} JSON file {path} is a folder; pass the JSON file as {key}_json_file and the folder "
            f"of its PNGs as {key}_folder (--{key}-folder on the command line)"
        ) from None


def parse_json(text: bytes, path: str, side: Side) -> dict[str, Any]:
    what = side.noun
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        # ValueError: malformed JSON, bad UTF-8, integers past Python's digit limit;
        # RecursionError: nesting deeper than the interpreter's stack allows.
        reason = "it nests too deeply" if isinstance(error, RecursionError) else error
        raise ValueError(f"{what} JSON file {path} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} JSON file {path} holds a {json_type(data)}, not an object with 'annotations'")
    require_list(data, "annotations", f"{what} JSON file {path}")
    return data


def require_list(data: Mapping[str, Any], key: str, where: str) -> None:
    """``data[key]`` must be a list: a missing key and a value of another type are told apart."""
    if key not in data:
        raise ValueError(f"{where} is missing '{key}'")
    if not isinstance(data[key], list):
        raise ValueError(f"{where} has a '{key}' that is a {json_type(data[key])}, not a list")


def json_type(value: Any) -> str:
    names = {dict: "JSON object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def category_table(category_list: Sequence[Any], source: str) -> dict[Any, dict[str, Any]]:
    """Category id to record, as panopticapi keys them; records are checked, errors name the file."""
    table = {}
    for position, category in enumerate(category_list):
        if not isinstance(category, dict):
            raise ValueError(f"category #{position} in {source} is a {json_type(category)}, not a JSON object")
        if "id" not in category:
            raise KeyError(f"category #{position} in {source} is missing 'id'")
        if not isinstance(category["id"], int) or isinstance(category["id"], bool):
            raise ValueError(f"category #{position} in {source} has an id that is not an integer: {category['id']!r}")
        table[category["id"]] = category
    return table


def image_id_of(annotation: Any, position: int, side: Side, source: str) -> Any:
    """The ``image_id`` of annotation ``position`` of ``side``'s JSON file ``source``, checked."""
    if not isinstance(annotation, Mapping):
        raise ValueError(
            f"{side.adjective} annotation #{position} in {source} is a {json_type(annotation)}, not a JSON object"
        )
    if "image_id" not in annotation:
        raise KeyError(f"{side.adjective} annotation #{position} in {source} is missing 'image_id'")
    image_id = annotation["image_id"]
    if not isinstance(image_id, (int, str, float)):
        raise ValueError(
            f"{side.adjective} annotation #{position} in {source} has an image_id that is a {json_type(image_id)}"
        )
    return image_id


def missing_message(
    missing: Sequence[Mapping[str, Any]],
    matched: int,
    predictions: Mapping[Any, Any],
    gt_folder: str,
    pred_json_file: str,
) -> str:
    """panopticapi's "no prediction for the image with id: X", with how many, which, and why."""
    first = missing[0]
    image_id = first["image_id"]
    where = f"ground truth {os.path.join(gt_folder, str(first.get('file_name', '?')))}"
    if len(missing) == 1:
        message = (
            f"no prediction for the image with id: {image_id} "
            f"({where}; {pred_json_file} has no annotation with this image_id)"
        )
    else:
        shown = ", ".join(str(a["image_id"]) for a in missing[:5])
        more = ", ..." if len(missing) > 5 else ""
        message = (
            f"no prediction for the image with id: {image_id} ({where}), nor for {len(missing) - 1} more: "
            f"{len(missing)} of {len(missing) + matched} ground-truth images have no annotation in "
            f"{pred_json_file} (image ids {shown}{more})"
        )
    by_text = {str(key): key for key in predictions}
    mistyped = next((a["image_id"] for a in missing if str(a["image_id"]) in by_text), None)
    if mistyped is not None:
        theirs = by_text[str(mistyped)]
        message += (
            f". {pred_json_file} has image_id {theirs!r} ({type(theirs).__name__}) where the ground truth has "
            f"{mistyped!r} ({type(mistyped).__name__}): image ids must match in type as well as value"
        )
    return message


def file_name_of(annotation: Mapping[str, Any], index: int, side: Side, source: str | None = None) -> str:
    """The annotation's ``file_name``; a missing one names the image, the side and the file."""
    where = f" in {source}" if source is not None else ""
    try:
        return annotation["file_name"]
    except (KeyError, TypeError):
        image = annotation.get("image_id", f"#{index}") if isinstance(annotation, Mapping) else f"#{index}"
        raise KeyError(
            f"In the image with ID {image} the {side.adjective} annotation{where} is missing 'file_name'"
        ) from None


def segments_of(annotation: Mapping[str, Any], side: Side, source: str | None = None) -> Sequence[Mapping[str, Any]]:
    """The annotation's ``segments_info``, which must be a list."""
    where = f" in {source}" if source is not None else ""
    if "segments_info" not in annotation:
        raise KeyError(
            f"In the image with ID {annotation.get('image_id')} the {side.adjective} annotation{where} is missing "
            "'segments_info'"
        )
    segments = annotation["segments_info"]
    if not isinstance(segments, list):
        raise ValueError(
            f"In the image with ID {annotation.get('image_id')} the {side.adjective} annotation{where} has a "
            f"'segments_info' that is a {type(segments).__name__}, not a list"
        )
    return segments
