"""The command line's evaluation options (``--category-ids``, ``--class-groups``,
``--isthing-override``, ``--iou-threshold``, ``--size-edges``) and bootstrap intervals
(``--bootstrap``, ``--bootstrap-seed``, ``--confidence``), shared by ``panoptiq eval`` and
``panoptiq report`` and turned into :class:`panoptiq.results.Rules` and
:class:`panoptiq.results.Bootstrap`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from panoptiq.results import Bootstrap, Rules
from panoptiq.results import bootstrap_of as bootstrap_of_arguments


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
    parser.add_argument(
        "--size-edges",
        metavar="EDGES",
        help="also score per object size: 'coco' (32²- and 96²-pixel edges: small, medium, large) or "
        "comma-separated area edges; an area on an edge belongs to the larger slice",
    )
    parser.add_argument(
        "--bootstrap",
        metavar="N",
        type=int,
        default=0,
        help="bootstrap confidence intervals over images from N resamples (e.g. 1000)",
    )
    parser.add_argument("--bootstrap-seed", metavar="SEED", type=int, default=0, help="seed of the resampling")
    parser.add_argument(
        "--confidence", metavar="LEVEL", type=float, default=0.95, help="level of the intervals (default: 0.95)"
    )


def rules_of(args: argparse.Namespace, usage_error: type[Exception]) -> Rules:
    """The :class:`Rules` the options give; a bad option raises ``usage_error`` naming it."""
    try:
        ids = None
        if getattr(args, "category_ids", None) is not None:
            ids = [_integer(part, "--category-ids") for part in args.category_ids.split(",") if part.strip()]
        groups = _id_mapping(getattr(args, "class_groups", None), "--class-groups")
        override = _id_mapping(getattr(args, "isthing_override", None), "--isthing-override")
        edges = getattr(args, "size_edges", None)
        if edges is not None and edges.strip().lower() != "coco":
            edges = [_integer(part, "--size-edges") for part in edges.split(",") if part.strip()]
        return Rules.of(ids, groups, override, getattr(args, "iou_threshold", None), edges)
    except ValueError as error:
        raise usage_error(_as_options(error)) from None


def bootstrap_of(args: argparse.Namespace, usage_error: type[Exception]) -> Bootstrap | None:
    """The :class:`Bootstrap` the options ask for (None without ``--bootstrap``)."""
    try:
        return bootstrap_of_arguments(
            getattr(args, "bootstrap", 0), getattr(args, "bootstrap_seed", 0), getattr(args, "confidence", 0.95)
        )
    except ValueError as error:
        raise usage_error(_as_options(error)) from None


def _as_options(error: ValueError) -> str:
    message = str(error)
    names = ("category_ids", "class_groups", "isthing_override", "iou_threshold", "size_edges", "bootstrap_seed")
    for name in (*names, "bootstrap must"):
        message = message.replace(name, "--" + name.replace("_", "-"))
    return message.replace("confidence must", "--confidence must")


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
