"""Where a dataset's files are: folders on disk, folders inside zip and tar archives (read in
place by the Rust core, nested archives included), and fsspec URLs (``s3://``, ``gs://``,
``https://``, ``memory://``, ...), whose objects are fetched concurrently and handed to the Rust
decoder as they arrive.

A path that goes through an archive names the folder inside it after the archive's file:
``panoptic_annotations_trainval2017.zip/annotations/panoptic_val2017.zip`` is the folder of PNGs
COCO ships (an archive whose members all lie in one folder stands for that folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import panoptiq._core as _core
from panoptiq._side import Side

#: Extensions of archives that are worth a hint when a folder of that name is missing.
ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")

#: Objects fetched at once from object storage by one evaluation.
FETCH_CONCURRENCY = 64


def is_url(path: str) -> bool:
    """Whether ``path`` is an fsspec URL rather than a local path (``file://`` counts as local)."""
    return "://" in path and not path.startswith("file://")


def local(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            "reading from URLs needs fsspec and the backend of the URL's protocol: pip install 'panoptiq[s3]' "
            "for s3:// (gcsfs for gs://, adlfs for az://)"
        ) from None
    return fsspec


@dataclass(frozen=True)
class Location:
    """A folder or file as the user named it, with its fsspec ``storage_options``: what is sent to
    the workers of a cluster, each of which opens it where it runs."""

    path: str
    storage_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Folder:
    """A folder of PNGs, opened: ``source`` is what the Rust core reads from (None: the disk; an
    ``ArchiveFolder``), or ``remote`` fetches the bytes."""

    location: Location
    source: _core.ArchiveFolder | None = None
    remote: RemoteFolder | MemoryFolder | None = None

    @property
    def root(self) -> str:
        return self.location.path


def open_folder(location: Location, side: Side) -> Folder:
    """Opens the PNG folder of ``side`` at ``location``."""
    path, what = location.path, side.folder
    if is_url(path):
        remote = RemoteFolder(path, location.storage_options, what)
        archive = remote.archive_on_the_way()
        if archive is None:
            return Folder(location, remote=remote)
        # An archive in object storage (a WebDataset shard, COCO's zip) is fetched whole, once,
        # and read in memory: one request instead of one per PNG.
        archive_url, archive_path, inner = archive
        data = remote.get(archive_url, archive_path)
        return Folder(location, source=_core.ArchiveFolder.from_bytes(data, archive_url, inner, path))
    path = local(path)
    if Path(path).is_dir():
        return Folder(location)
    archive, inner = _split_at_archive(path)
    if archive is None:
        _refuse_folder(path, what)
    try:
        return Folder(location, source=_core.ArchiveFolder(archive, inner, path))
    except _core.ArchiveError as error:
        if archive == path and str(error).endswith("neither a zip nor a tar archive"):
            raise NotADirectoryError(f"Folder {path} with {what} segmentations is a file, not a folder") from None
        raise


def read_file(location: Location, what: str) -> bytes:
    """The bytes of a file on disk, inside an archive, or at a URL; errors name ``what`` it is."""
    path = location.path
    if is_url(path):
        fs, fs_path = _fsspec().core.url_to_fs(path, **location.storage_options)
        try:
            return fs.cat_file(fs_path)
        except Exception as error:
            raise _fetch_error(error, path, None, what) from None
    path = local(path)
    archive, inner = _split_at_archive(path)
    if archive is None or not inner:
        with open(path, "rb") as f:  # the errors of a plain open() are the ones to give
            return f.read()
    folder, name = PurePosixPath(inner).parent.as_posix(), PurePosixPath(inner).name
    folder = "" if folder == "." else folder
    return bytes(_core.ArchiveFolder(archive, folder, os.path.join(archive, folder)).read(name))


def _split_at_archive(path: str) -> tuple[str | None, str]:
    """The file on the way to ``path`` (its nearest existing ancestor that is a file) and the rest
    of the path inside it; ``(None, "")`` when no ancestor is a file."""
    candidate = Path(path)
    rest: list[str] = []
    while not candidate.exists():
        if candidate.parent == candidate:
            return None, ""
        rest.append(candidate.name)
        candidate = candidate.parent
    if not candidate.is_file():
        return None, ""
    return str(candidate), "/".join(reversed(rest))


def _refuse_folder(path: str, what: str) -> None:
    beside = [
        p.name for p in (Path(path).with_name(Path(path).name + ext) for ext in ARCHIVE_EXTENSIONS) if p.is_file()
    ]
    hint = f" ({beside[0]} is beside it: pass that archive as the folder)" if beside else ""
    raise FileNotFoundError(f"Folder {path} with {what} segmentations doesn't exist{hint}")


class RemoteFolder:
    """A folder of objects behind an fsspec URL, fetched many at a time."""

    def __init__(self, url: str, storage_options: Mapping[str, Any], what: str) -> None:
        self.url = url.rstrip("/")
        self.what = what
        self.fs, root = _fsspec().core.url_to_fs(self.url, **storage_options)
        self.fs_root = root.rstrip("/")

    def get(self, url: str, fs_path: str) -> bytes:
        """The object at ``fs_path``, errors naming it by its ``url``."""
        try:
            return self.fs.cat_file(fs_path)
        except Exception as error:
            raise _fetch_error(error, url, None, self.what) from None

    def archive_on_the_way(self) -> tuple[str, str, str] | None:
        """``(archive URL, its fs path, folder inside it)`` when this URL is, or goes through, an
        archive object."""
        try:
            if self.fs.isdir(self.fs_root):
                return None
            url, fs_path, rest = self.url, self.fs_root, []
            while not self.fs.isfile(fs_path):
                parent = fs_path.rsplit("/", 1)[0] if "/" in fs_path.strip("/") else ""
                if not parent or parent == fs_path:
                    return None  # nothing there: reading the PNGs will say which is missing
                rest.append(fs_path.rsplit("/", 1)[1])
                url, fs_path = url.rsplit("/", 1)[0], parent
        except PermissionError as error:
            raise _fetch_error(error, self.url, None, self.what) from None
        return url, fs_path, "/".join(reversed(rest))

    def fs_path(self, path: str) -> str:
        if not path.startswith(self.url + "/"):
            raise FileNotFoundError(f"{path} is not under {self.url}")
        return f"{self.fs_root}/{path[len(self.url) + 1 :]}"

    def fetch(self, paths: Sequence[str], image_ids: Sequence[str]) -> list[bytes]:
        """The objects at ``paths`` (URLs under this folder), fetched concurrently, in order."""
        fs_paths = [self.fs_path(p) for p in paths]
        if getattr(self.fs, "async_impl", False):
            found = self.fs.cat(fs_paths, on_error="return", batch_size=FETCH_CONCURRENCY)
            results = [found.get(p, FileNotFoundError(p)) for p in fs_paths]
        else:
            with ThreadPoolExecutor(min(FETCH_CONCURRENCY, max(len(fs_paths), 1))) as pool:
                results = list(pool.map(self._cat_or_error, fs_paths))
        for url, image_id, result in zip(paths, image_ids, results, strict=True):
            if isinstance(result, BaseException):
                raise _fetch_error(result, url, image_id, self.what) from None
        return results

    def _cat_or_error(self, fs_path: str) -> bytes | BaseException:
        try:
            return self.fs.cat_file(fs_path)
        except Exception as error:  # reported with the image by fetch()
            return error


def _fetch_error(error: BaseException, url: str, image_id: str | None, what: str) -> OSError:
    where = f"cannot read the {what} object {url}"
    if image_id is not None:
        where = f"In the image with ID {image_id}: cannot read the {what} PNG {url}"
    if isinstance(error, FileNotFoundError):
        return FileNotFoundError(f"{where}: no such object")
    if isinstance(error, PermissionError):
        return PermissionError(f"{where}: access refused ({error}); check the credentials in storage_options")
    return OSError(f"{where}: {type(error).__name__}: {error}")


class MemoryFolder:
    """A "folder" held in memory: a mapping from PNG file name to the PNG — its bytes, a binary
    file object, or a path — fetched as remote folders are."""

    def __init__(self, files: Mapping[str, Any], root: str, what: str) -> None:
        self.files = files
        self.root = root
        self.what = what

    def fetch(self, paths: Sequence[str], image_ids: Sequence[str]) -> list[bytes]:
        found = []
        for path, image_id in zip(paths, image_ids, strict=True):
            name = path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path
            if name not in self.files:
                raise FileNotFoundError(
                    f"In the image with ID {image_id}: the {self.what} PNGs given in memory have no {name!r}"
                )
            found.append(png_bytes(self.files[name], f"the {self.what} PNG {name!r} of image {image_id}"))
        return found


def png_bytes(value: Any, what: str) -> bytes:
    """The bytes of a PNG given as bytes, a binary file object or a path."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    read = getattr(value, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{what} is a file object opened in text mode; open it in binary mode ('rb')")
        return bytes(data)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            return f.read()
    raise TypeError(f"{what} is a {type(value).__name__}; give its bytes, a binary file object or a path")


def memory_root(side: Side) -> str:
    """The name standing for a side's in-memory PNGs in paths and messages."""
    return f"<{side.folder} PNGs in memory>"


#: One batch of pairs: (start, stop, ground-truth source, predicted source) as the core takes them.
Batch = tuple[int, int, Any, Any]


def batches(
    total: int,
    step: int,
    gt: Folder,
    pred: Folder,
    paths: Callable[[int, int], tuple[Sequence[str], Sequence[str]]],
    image_ids: Callable[[int, int], Sequence[str]],
    lookahead: int = 2,
) -> Iterator[Batch]:
    """Pairs ``0..total`` in batches of ``step``, each with where its PNGs are read from.

    Local sources are passed through; remote ones are fetched ``lookahead`` batches ahead on a
    background thread, so that fetching overlaps decoding and memory holds a few batches at most.
    """
    ranges = [(start, min(start + step, total)) for start in range(0, max(total, 1), max(step, 1))]
    if gt.remote is None and pred.remote is None:
        for start, stop in ranges:
            yield start, stop, gt.source, pred.source
        return

    def fetch(start: int, stop: int) -> tuple[Any, Any]:
        gt_paths, pred_paths = paths(start, stop)
        ids = image_ids(start, stop)
        gt_from = gt.remote.fetch(gt_paths, ids) if gt.remote is not None else gt.source
        pred_from = pred.remote.fetch(pred_paths, ids) if pred.remote is not None else pred.source
        return gt_from, pred_from

    pool = ThreadPoolExecutor(1, thread_name_prefix="panoptiq-fetch")
    pending: list[tuple[int, int, Future[tuple[Any, Any]]]] = []
    try:
        for start, stop in ranges:
            pending.append((start, stop, pool.submit(fetch, start, stop)))
            if len(pending) > lookahead:
                first, last, future = pending.pop(0)
                yield first, last, *future.result()
        for first, last, future in pending:
            yield first, last, *future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
