"""Drop-in for ``panopticapi.utils``: ``rgb2id``, ``id2rgb``, ``IdGenerator``, ``get_traceback``,
``save_json``."""

from __future__ import annotations

import functools
import json
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from panoptiq._ids import id2rgb, rgb2id

__all__ = ["IdGenerator", "get_traceback", "id2rgb", "rgb2id", "save_json"]

F = TypeVar("F", bound=Callable[..., Any])


def get_traceback(f: F) -> F:
    """Decorate ``f`` so that an exception inside it prints its traceback before propagating.

    panopticapi wraps its worker functions with it, so that errors in pool processes are seen.
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except Exception:
            print("Caught exception in worker thread:")
            traceback.print_exc()
            raise

    return wrapper  # type: ignore[return-value]


class IdGenerator:
    """Segment ids whose colours are close to their category's colour, as panopticapi makes them.

    Stuff categories always get their category colour (one segment per stuff class and image);
    a thing segment gets its category colour the first time, then a random colour within 30 of it
    in each channel that no other segment of this generator uses. Colours come from numpy's
    global random state, so ``numpy.random.seed`` makes them reproducible.

    Parameters
    ----------
    categories : mapping
        Category id to record with ``isthing`` and ``color``.
    """

    JITTER = 30

    def __init__(self, categories: Mapping[int, Mapping[str, Any]]) -> None:
        self.categories = categories
        # Black is VOID; stuff colours belong to their categories.
        self.taken_colors: set[tuple[int, ...]] = {(0, 0, 0)}
        self.taken_colors.update(tuple(c["color"]) for c in categories.values() if c["isthing"] == 0)

    def get_color(self, cat_id: int) -> Any:
        """The colour of a new segment of category ``cat_id``."""
        category = self.categories[cat_id]
        if category["isthing"] == 0:
            return category["color"]
        base = tuple(category["color"])
        color = base
        while color in self.taken_colors:
            # The global random state, as panopticapi uses: numpy.random.seed keeps working.
            jitter = np.random.randint(low=-self.JITTER, high=self.JITTER + 1, size=3)  # noqa: NPY002
            color = tuple(int(v) for v in np.clip(np.array(base) + jitter, 0, 255))
        self.taken_colors.add(color)
        return color

    def get_id(self, cat_id: int) -> int:
        """The id of a new segment of category ``cat_id``."""
        return rgb2id(self.get_color(cat_id))

    def get_id_and_color(self, cat_id: int) -> tuple[int, Any]:
        """The id and colour of a new segment of category ``cat_id``."""
        color = self.get_color(cat_id)
        return rgb2id(color), color


def save_json(d: Any, file: str) -> None:
    """Write ``d`` to ``file`` as JSON."""
    with open(file, "w", encoding="utf-8") as f:
        json.dump(d, f)
