"""The report's folder: checked before the evaluation, written to a temporary folder beside it
and renamed into place when complete; and the versions a page names."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def require_pillow() -> None:
    """Checked before an evaluation rather than after it: the report draws its labels with Pillow."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise ImportError("panoptiq report draws its labels with Pillow: pip install Pillow") from None


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse now, before the evaluation, what would fail at the end."""
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"the report folder {target} is a file")
    if target.exists() and not overwrite:
        raise FileExistsError(f"the report folder {target} exists; pass overwrite=True (--overwrite) to replace it")
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write the report to {target}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the report to {target}: folder {parent} is not writable")


@contextmanager
def staging(target: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary folder beside ``target``, renamed to it when the block completes and removed
    when it fails: a folder named ``target`` is never a half-written report."""
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as error:
        raise type(error)(f"cannot write the report to {target}: {error.strerror}") from None
    try:
        yield temporary
        move_into_place(temporary, target, overwrite)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def move_into_place(temporary: Path, target: Path, overwrite: bool) -> None:
    if target.exists():
        if not overwrite:  # created meanwhile by someone else
            raise FileExistsError(f"the report folder {target} exists; pass overwrite=True (--overwrite) to replace it")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "report")
        os.replace(temporary, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temporary, target)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in ("panoptiq", "numpy", "Pillow"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
