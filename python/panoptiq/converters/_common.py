"""What every converter shares: categories, file names, output folders, atomic JSON, and the
chunked parallel run with progress."""

from __future__ import annotations

import functools
import gc
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from .. import _core
from .._progress import Progress

J = TypeVar("J")
R = TypeVar("R")
P = ParamSpec("P")

#: Images handed to the core per call: large enough to keep every thread busy, small enough
#: for the progress bar to move and Ctrl-C to be seen promptly.
CHUNK = 128


def without_gc(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run with CPython's cyclic garbage collector paused (and restored after).

    A converter builds hundreds of thousands of JSON objects, none of them in reference cycles;
    the collector would walk them again each time their number grows, a tenth of a run spent
    finding nothing. Reference counting still frees everything as usual.
    """

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


def load_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_categories(path: str | os.PathLike[str]) -> list[Any]:
    """A categories file: a JSON list of categories (or a dataset JSON, whose ``categories``
    are taken)."""
    data = load_json(path)
    if isinstance(data, dict) and isinstance(data.get("categories"), list):
        data = data["categories"]
    if not isinstance(data, list) or not all(isinstance(c, dict) and "id" in c for c in data):
        raise ValueError(f"{os.fspath(path)} is not a list of categories (JSON objects with an 'id')")
    return data


def categories_by_id(categories_list: Iterable[Mapping[str, Any]]) -> dict[Any, Any]:
    """``{id: category}``; a later entry of one id replaces an earlier one, as in panopticapi."""
    return {category["id"]: category for category in categories_list}


def palette(categories: Mapping[Any, Mapping[str, Any]]) -> list[tuple[int, bool, tuple[int, int, int]]]:
    """The core's view of the categories: ``(id, isthing, colour)``.

    As panopticapi's ``IdGenerator``, a category is stuff when ``isthing == 0`` and a thing
    otherwise.
    """
    rows = []
    for cat_id, category in categories.items():
        try:
            r, g, b = (int(c) for c in category["color"])
            isthing = category["isthing"] != 0
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"category {cat_id!r} needs 'isthing' and an RGB 'color' to give its segments colours"
            ) from None
        if not all(0 <= c <= 255 for c in (r, g, b)):
            raise ValueError(f"category {cat_id!r} has the colour {category['color']}; channels are 0..255")
        rows.append((int(cat_id), bool(isthing), (r, g, b)))
    return rows


def png_name(file_name: str) -> str:
    """panopticapi's PNG name for an image: ``'{}.png'.format(file_name.rsplit('.')[0])`` — the
    part before the *first* dot."""
    return "{}.png".format(file_name.rsplit(".")[0])


def prepare_folder(folder: str | os.PathLike[str], *, overwrite: bool | None) -> None:
    """Create ``folder`` if missing. ``overwrite=None`` reuses an existing one as panopticapi's
    scripts do; ``False`` (the CLI's default) refuses one that holds files."""
    if os.path.isdir(folder):
        if overwrite is False and any(os.scandir(folder)):
            raise FileExistsError(
                f"the output folder {os.fspath(folder)} is not empty; pass --overwrite to write into it"
            )
        return
    os.makedirs(folder, exist_ok=True)


def refuse_existing(path: str | os.PathLike[str], *, overwrite: bool | None) -> None:
    if overwrite is False and os.path.exists(path):
        raise FileExistsError(f"{os.fspath(path)} exists; pass --overwrite to replace it")


def _json_default(value: Any) -> Any:
    # numpy scalars in user-built records: written as the numbers they are.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def save_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON under a temporary name beside ``path`` and rename it when complete; the file
    gets the permissions a plain ``open(path, "w")`` would (the umask's)."""
    # json.dumps runs the C encoder; json.dump to a file streams through the Python one.
    text = json.dumps(data, default=_json_default)
    folder = os.path.dirname(os.path.abspath(path))
    part = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}-{os.urandom(8).hex()}.part")
    # Created as open() creates files (mode 0666 less the umask), but never over another file.
    handle = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(part, path)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


def run_chunks(
    jobs: Sequence[J],
    convert: Callable[[Sequence[J], int], list[R]],
    *,
    progress: bool | Callable[[int, int], None],
    description: str,
) -> list[R]:
    """Run ``convert(chunk, first_index)`` over the jobs in chunks, reporting progress."""
    report: Callable[[int, int], None] | None
    bar = None
    if progress is True:
        bar = Progress(description)
        report = bar
    elif callable(progress):
        report = progress
    else:
        report = None
    step = max(CHUNK, 32 * _core.default_threads())
    results: list[R] = []
    try:
        for start in range(0, len(jobs), step):
            results.extend(convert(jobs[start : start + step], start))
            if report is not None:
                report(min(start + step, len(jobs)), len(jobs))
    finally:
        if bar is not None:
            bar.close()
    return results


def seed_of(seed: int | None) -> int:
    """The colour seed as the core takes it (an unsigned 64-bit number)."""
    return int(seed or 0) % (1 << 64)


def int_id(image_id: Any) -> Any:
    """``int(image_id)`` where that works, else the id as it is: panopticapi's scripts write
    ``int(img_id)``, which would fail on string ids."""
    try:
        return int(image_id)
    except (TypeError, ValueError):
        return image_id
