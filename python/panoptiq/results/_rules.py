"""The evaluation options that change what is scored — ``category_ids``, ``class_groups``,
``isthing_override``, ``iou_threshold`` and the size slices' ``size_edges`` — checked once
against the dataset's categories and turned into the core's table of classes
(:class:`panoptiq._core.Categories`).

The defaults leave panopticapi's rules untouched. The options are part of a result's identity:
partials and the metric's state carry them (:meth:`Rules.as_dict`), and results made under
different rules are never merged.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import panoptiq._core as _core
from panoptiq.results._stat import category_records

#: panopticapi's matching threshold: a match needs an IoU above one half.
DEFAULT_IOU_THRESHOLD = 0.5

#: COCO's object-size edges, 32² and 96² pixels: small, medium and large.
COCO_SIZE_EDGES = (32**2, 96**2)


@dataclass(frozen=True)
class Rules:
    """What an evaluation scores, beyond the dataset's categories.

    Parameters
    ----------
    category_ids : tuple of int, optional
        The classes the averages run over (group ids when grouped); all of them by default.
        Every class is matched and counted as without the option.
    class_groups : tuple of (int, int), optional
        ``(category id, group id)`` for every category: categories merged into classes before
        matching.
    isthing_override : tuple of (int, bool), optional
        ``(class id, isthing)``: the kind of a class, whatever its records say.
    iou_threshold : float
        A match needs an IoU above this, in [0.5, 1).
    size_edges : tuple of int, optional
        Area edges e1 < e2 < ... of the size slices [0, e1), [e1, e2), ..., [en, inf); no
        slices by default.
    """

    category_ids: tuple[int, ...] | None = None
    class_groups: tuple[tuple[int, int], ...] | None = None
    isthing_override: tuple[tuple[int, bool], ...] | None = None
    iou_threshold: float = DEFAULT_IOU_THRESHOLD
    size_edges: tuple[int, ...] | None = None

    @classmethod
    def of(
        cls,
        category_ids: Iterable[Any] | None = None,
        class_groups: Mapping[Any, Any] | None = None,
        isthing_override: Mapping[Any, Any] | None = None,
        iou_threshold: float | None = None,
        size_edges: Iterable[Any] | str | None = None,
    ) -> Rules:
        """Rules from the arguments users pass, their types checked (their ids are checked
        against the dataset by :meth:`apply`).

        Raises
        ------
        ValueError
            An argument of the wrong form, naming it.
        """
        ids = None
        if category_ids is not None:
            if isinstance(category_ids, (str, bytes, Mapping)) or not isinstance(category_ids, Iterable):
                raise ValueError(f"category_ids must be an iterable of category ids, got {category_ids!r}")
            ids = tuple(dict.fromkeys(_id(c, "category_ids") for c in category_ids))
            if not ids:
                raise ValueError("category_ids is empty: give at least one category id")
        groups = None
        if class_groups is not None:
            _need_mapping(class_groups, "class_groups")
            groups = tuple(sorted((_id(c, "class_groups"), _id(g, "class_groups")) for c, g in class_groups.items()))
        override = None
        if isthing_override is not None:
            _need_mapping(isthing_override, "isthing_override")
            override = tuple(sorted((_id(c, "isthing_override"), _kind(v, c)) for c, v in isthing_override.items()))
        threshold = DEFAULT_IOU_THRESHOLD if iou_threshold is None else _threshold(iou_threshold)
        return cls(ids, groups, override, threshold, None if size_edges is None else _edges(size_edges))

    @property
    def is_default(self) -> bool:
        """Whether these are panopticapi's rules."""
        return self == Rules()

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``pq_compute`` that give these rules."""
        return {
            "category_ids": None if self.category_ids is None else list(self.category_ids),
            "class_groups": None if self.class_groups is None else dict(self.class_groups),
            "isthing_override": None if self.isthing_override is None else dict(self.isthing_override),
            "iou_threshold": self.iou_threshold,
            "size_edges": None if self.size_edges is None else list(self.size_edges),
        }

    def describe(self) -> str:
        """The options set, in a line (for reports)."""
        parts = []
        if self.category_ids is not None:
            parts.append(f"category_ids={list(self.category_ids)}")
        if self.class_groups is not None:
            groups = len({g for _, g in self.class_groups})
            parts.append(f"class_groups: {len(self.class_groups)} categories in {groups} groups")
        if self.isthing_override is not None:
            parts.append(f"isthing_override={dict(self.isthing_override)}")
        if self.iou_threshold != DEFAULT_IOU_THRESHOLD:
            parts.append(f"iou_threshold={self.iou_threshold}")
        if self.size_edges is not None:
            parts.append(f"size_edges={list(self.size_edges)}")
        return "; ".join(parts) or "panopticapi's"

    def as_dict(self) -> dict[str, Any]:
        """The rules as JSON-friendly values (what partials and ``state_dict`` keep)."""
        return {
            "category_ids": None if self.category_ids is None else list(self.category_ids),
            "class_groups": None if self.class_groups is None else [list(p) for p in self.class_groups],
            "isthing_override": None if self.isthing_override is None else [list(p) for p in self.isthing_override],
            "iou_threshold": self.iou_threshold,
            "size_edges": None if self.size_edges is None else list(self.size_edges),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Rules:
        """The rules :meth:`as_dict` gave (panopticapi's rules for ``None``)."""
        if data is None:
            return cls()
        groups, override = data.get("class_groups"), data.get("isthing_override")
        return cls.of(
            data.get("category_ids"),
            None if groups is None else dict(groups),
            None if override is None else dict(override),
            data.get("iou_threshold"),
            data.get("size_edges"),
        )

    def apply(self, categories: Mapping[int, Any] | Iterable[Any]) -> tuple[dict[int, Any], _core.Categories]:
        """The classes these rules make of ``categories`` (panopticapi's mapping, records or ids):
        each class's record (a group's lists its ``members``; an overridden kind is set), and the
        core's table of them.

        Raises
        ------
        ValueError
            A category of ``class_groups`` the dataset lacks or a category left out of it, a group
            mixing things and stuff with no ``isthing_override``, an override or a
            ``category_ids`` entry that is no class.
        """
        records = category_records(categories, need_isthing=False)
        known = {int(c): r for c, r in records.items()}
        classes = _grouped(known, self.class_groups) if self.class_groups is not None else dict(known)
        for class_id, isthing in self.isthing_override or ():
            if class_id not in classes:
                raise ValueError(f"isthing_override: {class_id} is not {_what(self)}")
            record = _as_record(classes[class_id], class_id)
            record.pop("mixed", None)
            classes[class_id] = {**record, "isthing": int(isthing)}
        for class_id in self.category_ids or ():
            if class_id not in classes:
                raise ValueError(f"category_ids: {class_id} is not {_what(self)}")
        for class_id, record in classes.items():
            if isinstance(record, Mapping) and "mixed" in record:
                things, stuff = record["mixed"]
                raise ValueError(
                    f"class_groups: group {class_id} mixes things ({_few(things)}) and stuff ({_few(stuff)}); "
                    f"give its kind in isthing_override={{{class_id}: True or False}}"
                )
        kinds = [(c, isinstance(r, Mapping) and r.get("isthing") == 1) for c, r in classes.items()]
        core = _core.Categories(
            kinds,
            None if self.class_groups is None else list(self.class_groups),
            None if self.category_ids is None else list(self.category_ids),
            self.iou_threshold,
            None if self.size_edges is None else list(self.size_edges),
        )
        return classes, core

    def size_slices(self) -> list[tuple[str, int, int | None]]:
        """The size slices these rules cut (see :func:`size_slices`)."""
        return size_slices(self.size_edges)


def size_slices(edges: Sequence[int] | None) -> list[tuple[str, int, int | None]]:
    """``(name, low, high)`` of every size slice that ``edges`` cut, ``high`` None for the last
    (unbounded); COCO's edges are named small, medium and large, others by their range."""
    if not edges:
        return []
    bounds = [0, *edges, None]
    ranges = list(itertools.pairwise(bounds))
    if tuple(edges) == COCO_SIZE_EDGES:
        names = ["small", "medium", "large"]
    else:
        names = [f"[{lo}, {'inf' if hi is None else hi})" for lo, hi in ranges]
    return [(name, lo, hi) for name, (lo, hi) in zip(names, ranges, strict=True)]


def _grouped(known: dict[int, Any], class_groups: tuple[tuple[int, int], ...]) -> dict[int, Any]:
    """Each group's record, in the order of its first member among ``known``."""
    group_of = dict(class_groups)
    unknown = [c for c in group_of if c not in known]
    if unknown:
        raise ValueError(f"class_groups: {_few(unknown)} not one of the dataset's categories")
    left_out = [c for c in known if c not in group_of]
    if left_out:
        raise ValueError(f"class_groups must give every category a group; {_few(left_out)} given none")
    members: dict[int, list[int]] = {}
    for c in known:
        members.setdefault(group_of[c], []).append(c)
    groups = {}
    for g, ids in members.items():
        kinds = {known[c].get("isthing") if isinstance(known[c], Mapping) else None for c in ids}
        record: dict[str, Any] = {"id": g, "name": f"group {g}", "members": ids}
        if len(kinds) == 1 and None not in kinds:
            record["isthing"] = kinds.pop()
        elif {0, 1} <= kinds:
            things = [c for c in ids if known[c].get("isthing") == 1]
            stuff = [c for c in ids if c not in things]
            record["mixed"] = (things, stuff)
        groups[g] = record
    return groups


def _as_record(record: Any, class_id: int) -> dict[str, Any]:
    return dict(record) if isinstance(record, Mapping) else {"id": class_id}


def _what(rules: Rules) -> str:
    return "one of class_groups' groups" if rules.class_groups is not None else "one of the dataset's categories"


def _few(ids: list[int]) -> str:
    shown = ", ".join(str(c) for c in ids[:8])
    return shown + (f" and {len(ids) - 8} more" if len(ids) > 8 else "") + (" is" if len(ids) == 1 else " are")


def _need_mapping(value: Any, name: str) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a dict, got {type(value).__name__}")


def _id(value: Any, name: str) -> int:
    if isinstance(value, (bool, float)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: {value!r} is not an integer category id")
    return int(value)


def _kind(value: Any, class_id: Any) -> bool:
    if isinstance(value, bool) or (isinstance(value, numbers.Integral) and int(value) in (0, 1)):
        return bool(value)
    if type(value).__name__ == "bool_":  # numpy's bool
        return bool(value)
    raise ValueError(f"isthing_override: the kind of {class_id!r} must be True or False, got {value!r}")


def _edges(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        if value.lower() != "coco":
            raise ValueError(f'size_edges must be "coco" or increasing areas, got {value!r}')
        return COCO_SIZE_EDGES
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(f'size_edges must be "coco" or an iterable of areas, got {value!r}')
    edges = []
    for edge in value:
        if isinstance(edge, bool) or not isinstance(edge, numbers.Integral) or int(edge) <= 0:
            raise ValueError(f"size_edges: {edge!r} is not an area above 0 (an integer number of pixels)")
        edges.append(int(edge))
    if not edges or any(a >= b for a, b in itertools.pairwise(edges)):
        raise ValueError(f"size_edges must be strictly increasing and not empty, got {edges}")
    return tuple(edges)


def _threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"iou_threshold must be a number in [0.5, 1), got {value!r}")
    t = float(value)
    if not 0.5 <= t < 1.0:
        raise ValueError(f"iou_threshold must be in [0.5, 1), got {value!r}")
    return t
