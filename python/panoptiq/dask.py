"""PQ on a Dask cluster: the dataset's parts evaluated by the Rust engine on the workers, their
exact partial sums merged on the client, bit-identical to a single-machine ``pq_compute``.

``dask.distributed`` is an optional dependency (``pip install 'panoptiq[dask]'``), imported
only here. Workers read the PNGs themselves, by the names the client gives (a shared file
system, archives on it, or object storage URLs); they need panoptiq installed, not the JSON.
"""

from __future__ import annotations

import math
import uuid
from concurrent.futures import CancelledError
from typing import Any

import panoptiq._core as _core
from panoptiq import _dataset
from panoptiq._options import Options
from panoptiq._progress import ProgressCallback
from panoptiq.errors import ClusterError, SchedulerUnreachableError
from panoptiq.partials import Plan, as_partial, evaluate, plan_dataset
from panoptiq.results import Evaluation

#: Parts per worker thread by default: enough to balance uneven images and a lost worker's
#: rerun, few enough that per-part overhead stays small.
PARTS_PER_THREAD = 4


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError("running on a Dask cluster needs dask.distributed: pip install 'panoptiq[dask]'") from None
    return distributed


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (``tcp://host:8786``).

    Raises
    ------
    SchedulerUnreachableError
        No scheduler answered at ``address`` within ``timeout`` seconds (a ``ConnectionError``).
    """
    distributed = _distributed()
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as error:
        raise SchedulerUnreachableError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {error}"
        ) from None


def default_partition_size(pairs: int, client: Any) -> int:
    """Pairs per part: ``PARTS_PER_THREAD`` parts per worker thread, 16 to 2,000 pairs each."""
    threads = max(sum(client.nthreads().values()), 1)
    return max(16, min(2000, math.ceil(pairs / (PARTS_PER_THREAD * threads))))


def evaluate_plan(
    client: Any,
    plan: Plan,
    progress: ProgressCallback | None = None,
    details: tuple[list[Any], list[Any]] | None = None,
) -> _core.Totals:
    """Evaluate every part of ``plan`` on the cluster; the exact merged totals. With ``details``,
    every image's and every segment's rows are appended to its two lists, in image order.

    A part whose worker dies is rerun by Dask elsewhere (the result is unchanged); a part that
    fails raises here, with the image named, and the other parts are cancelled: no partial result
    is ever returned.
    """
    distributed = _distributed()
    run = uuid.uuid4().hex[:12]
    keys = [f"panoptiq-part-{run}-{part.index}" for part in plan.parts]
    futures = client.map(evaluate, plan.parts, key=keys, pure=False, details=details is not None)
    total, done = sum(len(part) for part in plan.parts), 0
    results = []
    try:
        for future in distributed.as_completed(futures):
            try:
                results.append(as_partial(future.result()))
            except distributed.KilledWorker as error:
                raise ClusterError(
                    f"a part of the evaluation lost every worker that ran it ({error}); "
                    "look at the workers' logs (out of memory?)"
                ) from None
            except CancelledError as error:
                raise ClusterError(f"a part of the evaluation was cancelled on the cluster: {error}") from None
            done += len(plan.parts[results[-1].part])
            if progress is not None:
                progress(done, total)
    finally:
        client.cancel([f for f in futures if not f.done()])
    totals = plan.totals(results)
    if details is not None:
        per_image, segments = plan.detail_rows(results)
        details[0].extend(per_image)
        details[1].extend(segments)
    return totals


def evaluate_dataset(
    client: Any, dataset: _dataset.Dataset, options: Options, partition_size: int | None = None
) -> Evaluation:
    """Evaluate a loaded dataset on the cluster of ``client`` as ``options`` say (its progress
    callback follows the parts as they finish, its records come back in image order)."""
    from panoptiq._storage import MemoryFolder

    if dataset.masks is not None or any(isinstance(side.remote, MemoryFolder) for side in (dataset.gt, dataset.pred)):
        raise ValueError("PNGs or masks held in memory (not in files the workers can read) cannot go to a cluster")
    size = partition_size if partition_size is not None else default_partition_size(len(dataset), client)
    parts = plan_dataset(dataset, size, options)
    rows: tuple[list[Any], list[Any]] | None = ([], []) if options.records else None
    totals = evaluate_plan(client, parts, options.progress, rows)
    image_rows, segment_rows = (None, None) if rows is None else rows
    return Evaluation(totals, dataset.classes, dataset.kinds, image_rows, segment_rows)
