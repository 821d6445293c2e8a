"""The package's public face: every name the documentation gives works from where it is given,
and the modules that became private in 0.2 still import, for one release, with a warning saying
where their names went."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import pytest

import panoptiq
from panoptiq import _deprecated

TOP_LEVEL = (
    "pq_compute",
    "PQStat",
    "PQStatCat",
    "rgb2id",
    "id2rgb",
    "OFFSET",
    "VOID",
    "PanopticQuality",
    "PQResult",
    "evaluate_image",
    "read_id_map",
    "write_id_map",
    "install_as_panopticapi",
    "MissingPredictionError",
    "__version__",
)
PUBLIC_MODULES = {
    "panoptiq.evaluation": ("pq_compute", "pq_compute_single_core", "pq_compute_multi_core", "PQStat", "OFFSET"),
    "panoptiq.utils": ("rgb2id", "id2rgb", "IdGenerator", "get_traceback", "save_json"),
    "panoptiq.metric": ("PanopticQuality",),
    "panoptiq.results": ("PQResult", "PQStat", "PQStatCat", "Records", "IMAGE_FIELDS", "SEGMENT_FIELDS", "summarize"),
    "panoptiq.partials": ("plan", "evaluate", "merge", "Plan", "Part", "Partial"),
    "panoptiq.dask": ("connect", "evaluate_plan"),
    "panoptiq.visualize": ("colorize", "error_image", "save_png", "FATE_COLORS"),
    "panoptiq.report": ("write_report",),
    "panoptiq.errors": ("ArchiveError", "ClusterError", "MissingPredictionError", "SchedulerUnreachableError"),
    "panoptiq.synthetic": ("make_dataset",),
    "panoptiq.boundary": ("boundary_options", "BoundaryOptions", "IOU_TYPES"),
    "panoptiq.video": ("vpq_compute", "VideoPanopticQuality", "STQuality", "stq_compute", "read_kitti_step"),
    "panoptiq.lidar": ("PanopticEval", "Panoptic4DEval", "evaluate_semantic_kitti", "evaluate_nuscenes_panoptic"),
    "panoptiq.compat": ("install_as_panopticapi",),
    "panoptiq.cli": ("main",),
}


def test_top_level_names():
    for name in TOP_LEVEL:
        assert getattr(panoptiq, name) is not None, name
    assert panoptiq.PQStat is panoptiq.results.PQStat
    assert panoptiq.OFFSET == 256**3
    assert panoptiq.VOID == 0


@pytest.mark.parametrize("module", sorted(PUBLIC_MODULES))
def test_public_modules_keep_their_names(module: str):
    loaded = importlib.import_module(module)
    for name in PUBLIC_MODULES[module]:
        assert hasattr(loaded, name), f"{module}.{name}"


def test_results_classes_are_named_and_pickled_by_their_public_home():
    stat = panoptiq.PQStat()
    stat[3].tp = 2
    assert type(stat).__module__ == "panoptiq.results"
    assert b"panoptiq.results" in pickle.dumps(stat)
    assert pickle.loads(pickle.dumps(stat)) == stat


@pytest.mark.parametrize("old", sorted(_deprecated.MOVED))
def test_modules_made_private_still_import_with_a_warning(old: str):
    advice, sources = _deprecated.MOVED[old]
    # A fresh interpreter: the warning is given once, when the module is first imported.
    code = (
        "import warnings, importlib\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "import panoptiq\n"
        "try:\n"
        f"    importlib.import_module({old!r})\n"
        "except DeprecationWarning as w:\n"
        "    print(w)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{old} is internal since panoptiq 0.2 and will be removed in 0.3; {advice}"
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
        module = importlib.import_module(old)
    for source, names in sources:
        new = importlib.import_module(source)
        for name in names:
            assert getattr(module, name) is getattr(new, name), f"{old}.{name}"


def test_old_names_resolve_to_the_same_objects():
    sys.modules.pop("panoptiq.stats", None)
    with pytest.warns(DeprecationWarning, match="import PQStat and PQStatCat from panoptiq"):
        from panoptiq.stats import PQStat
    assert PQStat is panoptiq.PQStat
    sys.modules.pop("panoptiq.records", None)
    with pytest.warns(DeprecationWarning, match="from panoptiq.results"):
        from panoptiq.records import SEGMENT_FIELDS
    assert SEGMENT_FIELDS == panoptiq.results.SEGMENT_FIELDS


def test_an_unknown_submodule_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("panoptiq.no_such_module")


def test_the_package_root_is_imported_by_no_module_of_its_own():
    """The import-linter contract (``.importlinter``) ignores imports of the package itself,
    which is how it sees ``import panoptiq._core`` (the compiled core has no Python source). That
    is safe only while no module imports a name the package root defines — checked here."""
    import ast
    from pathlib import Path

    root = Path(panoptiq.__file__).parent
    submodules = {p.stem for p in root.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    submodules.add("_core")
    found = []
    for path in root.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == root:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "panoptiq" and node.level == 0:
                found += [f"{path.name}: {a.name}" for a in node.names if a.name not in submodules]
            if isinstance(node, ast.Import):
                found += [f"{path.name}: import {a.name}" for a in node.names if a.name == "panoptiq"]
    assert found == []


def test_rust_modules_import_each_other_in_no_circle():
    """The core's files, as ``use crate::...`` and ``super::...`` paths tie them (tests and comments
    left out, a folder's ``mod.rs`` re-exporting its own files not counted), form no circle."""
    import re
    from pathlib import Path

    src = Path(__file__).parent.parent / "src"
    if not src.is_dir():
        pytest.skip("the Rust sources are not beside the tests (an installed wheel's test run)")

    def module_of(path: Path) -> list[str]:
        parts = list(path.relative_to(src).with_suffix("").parts)
        return parts[:-1] if parts[-1] in ("mod", "lib") else parts

    files = {tuple(module_of(p)): p for p in src.rglob("*.rs")}

    def resolve(parts: list[str]) -> tuple[str, ...] | None:
        for end in range(len(parts), 0, -1):
            if tuple(parts[:end]) in files:
                return tuple(parts[:end])
        return None

    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in files}
    for module, path in files.items():
        if path.name == "tests.rs":
            continue
        text = re.split(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod tests", path.read_text(encoding="utf-8"))[0]
        text = re.sub(r"//[^\n]*", "", text)
        parent = list(module[:-1])  # what `super` names, from a folder's mod.rs or any file
        for kind, rest in re.findall(r"\b(crate|super)::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text):
            parts = rest.split("::")
            target = resolve(parts if kind == "crate" else [*parent, *parts])
            if target is None or target == module:
                continue
            if path.name == "mod.rs" and target[: len(module)] == module:
                continue  # a folder's face re-exporting its own files
            edges[module].add(target)

    state: dict[tuple[str, ...], int] = {}

    def visit(node: tuple[str, ...], stack: list[tuple[str, ...]]) -> None:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                circle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("a circle: " + " -> ".join("/".join(m) or "lib" for m in circle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in files:
        if module not in state:
            visit(module, [module])
    assert sum(len(e) for e in edges.values()) > 50  # the paths were read
