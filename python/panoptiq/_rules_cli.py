"""The command line's evaluation options (``--category-ids``, ``--class-groups``,
``--isthing-override``, ``--iou-threshold``), shared by ``panoptiq eval`` and ``panoptiq
report`` and turned into :class:`panoptiq.results.Rules`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from panoptiq.results import Rules


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the evaluation options to a command's parser."""
    parser.add_argument(
        "--category-ids",
        metavar="IDS",
        help="average over these categories only (comma-separated ids; group ids with --class-groups); "
        "each category's numbers are unchanged",
    )
    parser.add_argument(
        "--class-groups",
        metavar="JSON",
        help="merge categories into classes before matching: a JSON object from every category id to a group "
        'id, or @FILE holding one, e.g. \'{"1": 1, "2": 1, "3": 2}\'',
    )
    parser.add_argument(
        "--isthing-override",
        metavar="JSON",
        help="category (or group) id to true (thing) or false (stuff), as JSON or @FILE, e.g. '{\"7\": true}'",
    )
    parser.add_argument(
        "--iou-threshold",
        type=float,
        default=None,
        help="a match needs an IoU above this, in [0.5, 1) (default: 0.5)",
    )


def rules_of(args: argparse.Namespace, usage_error: type[Exception]) -> Rules:
    """The :class:`Rules` the options give; a bad option raises ``usage_error`` naming it."""
    try:
        ids = None
        if getattr(args, "category_ids", None) is not None:
            ids = [_integer(part, "--category-ids") for part in args.category_ids.split(",") if part.strip()]
        groups = _id_mapping(getattr(args, "class_groups", None), "--class-groups")
        override = _id_mapping(getattr(args, "isthing_override", None), "--isthing-override")
        return Rules.of(ids, groups, override, getattr(args, "iou_threshold", None))
    except ValueError as error:
        message = str(error)
        for name in ("category_ids", "class_groups", "isthing_override", "iou_threshold"):
            message = message.replace(name, "--" + name.replace("_", "-"))
        raise usage_error(message) from None


def _id_mapping(text: str | None, option: str) -> dict[int, Any] | None:
    if text is None:
        return None
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"{option} {text}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{option} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{option} must be a JSON object")
    return {_integer(key, option): value for key, value in data.items()}


def _integer(text: str, option: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{option}: {text.strip()!r} is not an integer category id") from None
