"""Modules that were importable before panoptiq 0.2 and are now internal, kept for one release:
``import panoptiq.dataset`` (and the rest of :data:`MOVED`) still works — old pickles that name
them load — and warns once with a ``DeprecationWarning`` saying where the names went. They are
made here from one table, not kept as files, so that they go in 0.3 by deleting this module."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence

#: Old module -> (advice, [(new module, names)]).
MOVED: dict[str, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {
    "panoptiq.dataset": (
        "use panoptiq.evaluation.pq_compute or panoptiq.partials",
        [
            (
                "panoptiq._dataset",
                ("REMOTE_BATCH", "Dataset", "default_threads", "evaluate_all", "evaluate_pairs", "load_dataset"),
            ),
            ("panoptiq._json", ("load_json", "parse_json", "read_json_bytes", "require_list")),
            ("panoptiq._progress", ("ProgressCallback",)),
        ],
    ),
    "panoptiq.storage": (
        "pass paths, archives or URLs to panoptiq.evaluation.pq_compute",
        [
            (
                "panoptiq._storage",
                (
                    "ARCHIVE_EXTENSIONS",
                    "FETCH_CONCURRENCY",
                    "Batch",
                    "Folder",
                    "Location",
                    "RemoteFolder",
                    "batches",
                    "is_url",
                    "local",
                    "open_folder",
                    "read_file",
                ),
            )
        ],
    ),
    "panoptiq.progress": ("pass any (done, total) callable as progress=", [("panoptiq._progress", ("Progress",))]),
    "panoptiq.stats": (
        "import PQStat and PQStatCat from panoptiq or panoptiq.results",
        [
            (
                "panoptiq.results._stat",
                ("METRICS", "PQStat", "PQStatCat", "category_records", "empty_split_message", "summary"),
            )
        ],
    ),
    "panoptiq.records": (
        "import Records, IMAGE_FIELDS and SEGMENT_FIELDS from panoptiq.results",
        [("panoptiq.results._records", ("IMAGE_FIELDS", "SEGMENT_FIELDS", "Records"))],
    ),
    "panoptiq.image": (
        "use panoptiq.evaluate_image",
        [("panoptiq._image", ("evaluate_image", "image_details")), ("panoptiq.results._stat", ("stat_from_rows",))],
    ),
    "panoptiq.ids": (
        "use panoptiq.rgb2id and panoptiq.id2rgb (or panoptiq.utils)",
        [("panoptiq._ids", ("id2rgb", "rgb2id"))],
    ),
    "panoptiq.report.analysis": (
        "the report's figures are internal; read per-image and per-segment records from pq_compute(per_image=True)",
        [
            (
                "panoptiq.report._analysis",
                ("IOU_EDGES", "Confusion", "confusions", "iou_histogram", "tp_ious", "worst_images"),
            )
        ],
    ),
    "panoptiq.report.page": (
        "use panoptiq.report.write_report",
        [("panoptiq.report._page", ("WORST_LISTS", "Page", "render"))],
    ),
    "panoptiq.report.pictures": (
        "use panoptiq.visualize.error_image for pictures",
        [("panoptiq.report._pictures", ("PHOTO_SUFFIXES", "Picture", "start_drawing"))],
    ),
    "panoptiq.png": (
        "use panoptiq.read_id_map and panoptiq.write_id_map",
        [("panoptiq._png", ("read_id_map", "write_id_map"))],
    ),
}


class _Finder:
    """Finds the modules of :data:`MOVED` and makes each from the modules its names went to.

    A finder and loader by its methods, as the import system asks, not by subclassing
    ``importlib.abc``: importing that module costs every ``import panoptiq`` 14 ms (it imports
    ``importlib.resources``), a quarter of a converter CLI's start-up.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        advice, sources = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} is internal since panoptiq 0.2 and will be removed in 0.3; {advice}",
            DeprecationWarning,
            stacklevel=2,
        )
        names = []
        for source, found in sources:
            new = importlib.import_module(source)
            for name in found:
                setattr(module, name, getattr(new, name))
                names.append(name)
        module.__doc__ = f"Deprecated: {advice}."
        module.__all__ = names  # type: ignore[attr-defined]


def install() -> None:
    """Lets the old modules be imported (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
