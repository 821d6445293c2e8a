"""Beyond one disk and one process: the same dataset evaluated from local disk, from zip archives,
from a local S3 server and on a Dask LocalCluster, timed side by side in one run.

Run: python benches/bench_distributed.py [--pairs 5000] [--rounds 3]

The dataset is COCO-like (640x480 pairs made by panoptiq.synthetic from the real COCO sample),
every PNG re-written by Pillow as COCO's and detectron2's are. It is also packed as COCO ships it
(``panoptic_val2017.zip`` holding ``panoptic_val2017/*.png``, deflated) and uploaded to a moto S3
server on 127.0.0.1 (its own process) both as one object per PNG and as one tar shard per side.

Printed: time per configuration (median of rounds, configurations alternating), its ratio to the
in-process run from local disk, the S3 fetch floor (every object fetched by s3fs and thrown
away), the cluster's per-part overhead and worker peak memory for two partition sizes, and the
projection to 1 million pairs the README quotes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import distributed  # noqa: E402
import fsspec  # noqa: E402
from object_storage import moto_server, storage_options, upload  # noqa: E402
from pillow_data import dataset  # noqa: E402

from panoptiq import evaluation  # noqa: E402


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def worker_peak_rss_mb(client: distributed.Client) -> float:
    """The workers' peak resident memory since they started (VmHWM: ru_maxrss would include the
    peak of the process that spawned them)."""

    def peak() -> float:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    return max(client.run(peak).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    parser.add_argument(
        "--skip", default="", help="comma-separated beginnings of configuration names to leave out ('S3 (moto), one')"
    )
    args = parser.parse_args()
    folder = dataset(Path(args.cache), args.pairs)
    gt_json, pred_json = str(folder / "gt.json"), str(folder / "pred.json")
    cores = os.cpu_count() or 1
    print(f"# Machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print(f"# {args.pairs} COCO-like pairs of 640x480, PNGs by Pillow; median of {args.rounds} rounds\n")

    with (
        moto_server() as endpoint,
        distributed.LocalCluster(
            n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        options = storage_options(endpoint)
        upload(
            endpoint,
            "bench",
            {
                "gt.json": Path(gt_json),
                "pred.json": Path(pred_json),
                "gt": folder / "gt",
                "pred": folder / "pred",
                "gt.tar": folder / "gt.tar",
                "pred.tar": folder / "pred.tar",
            },
        )
        s3 = {"storage_options": options}
        configurations: dict[str, Callable[[], object]] = {
            "local disk, in process": lambda: evaluation.pq_compute(gt_json, pred_json, verbose=False),
            f"Dask LocalCluster, {cores} workers x 1 thread": lambda: evaluation.pq_compute(
                gt_json, pred_json, verbose=False, client=client
            ),
            "zip archives (COCO's layout), in process": lambda: evaluation.pq_compute(
                gt_json,
                pred_json,
                str(folder / "gt.zip"),
                str(folder / "pred.zip"),
                verbose=False,
            ),
            "S3 (moto), one object per PNG": lambda: evaluation.pq_compute(
                "s3://bench/gt.json", "s3://bench/pred.json", verbose=False, **s3
            ),
            "S3 (moto), one tar shard per side": lambda: evaluation.pq_compute(
                "s3://bench/gt.json",
                "s3://bench/pred.json",
                "s3://bench/gt.tar/gt",
                "s3://bench/pred.tar/pred",
                verbose=False,
                **s3,
            ),
        }
        fs = fsspec.filesystem("s3", **options, skip_instance_cache=True)
        objects = [f"bench/{side}/{png.name}" for side in ("gt", "pred") for png in (folder / side).iterdir()]
        configurations["S3 fetch floor: every object, no evaluation"] = lambda: fs.cat(objects, batch_size=64)

        skip = [prefix for prefix in args.skip.split(",") if prefix]
        for name in [name for name in configurations if any(name.startswith(prefix) for prefix in skip)]:
            del configurations[name]
        samples: dict[str, list[float]] = {name: [] for name in configurations}
        results: dict[str, object] = {}
        names = list(configurations)
        for round_index in range(args.rounds):
            for name in names if round_index % 2 == 0 else names[::-1]:
                seconds, result = timed(configurations[name])
                samples[name].append(seconds)
                results[name] = result
        reference = results["local disk, in process"]
        for name, result in results.items():
            if "floor" not in name and result != reference:
                raise SystemExit(f"{name}: the result differs from the local in-process one")
        base = statistics.median(samples["local disk, in process"])
        print("| configuration | time | ms / pair | / local in-process |")
        print("|---|---:|---:|---:|")
        for name in names:
            median = statistics.median(samples[name])
            print(f"| {name} | {median:.2f} s | {1000 * median / args.pairs:.3f} | {median / base:.2f}x |")
        print("\nEvery configuration's result equals the local in-process one (compared as dicts, bit for bit).")

        # The client's serial share (reading the JSON, planning), the cluster's fixed cost per part,
        # and the workers' memory for two partition sizes.
        from panoptiq._dataset import load_dataset
        from panoptiq.partials import plan_dataset

        load = statistics.median(
            timed(lambda: plan_dataset(load_dataset(gt_json, pred_json), 1000))[0] for _ in range(args.rounds)
        )
        print(f"\nclient side, reading both JSON files and planning the parts: {load:.2f} s")
        print("\n| partition size | parts | time | worker peak RSS |")
        print("|---:|---:|---:|---:|")
        timings = {}
        for size in (max(1, args.pairs // 100), max(1, args.pairs // 4)):
            client.restart()
            seconds = statistics.median(
                timed(
                    lambda size=size: evaluation.pq_compute(
                        gt_json, pred_json, verbose=False, client=client, partition_size=size
                    )
                )[0]
                for _ in range(args.rounds)
            )
            parts = -(-args.pairs // size)
            timings[parts] = seconds
            print(f"| {size} | {parts} | {seconds:.2f} s | {worker_peak_rss_mb(client):.0f} MB |")
        (few, t_few), (many, t_many) = sorted(timings.items())
        overhead = max((t_many - t_few) / (many - few), 0.0) * cores
        per_pair = max(t_few - load, 0.0) * cores / args.pairs
        print(
            f"\nper part: {1000 * overhead:.1f} ms of a worker thread; per pair: {1000 * per_pair:.3f} ms of a "
            f"worker thread; client: {1000 * load / args.pairs:.3f} ms per pair, serial"
        )
        scale = 1_000_000 / args.pairs
        for workers in (2, 16, 64, 256):
            estimate = load * scale + (1_000_000 * per_pair + 1000 * overhead) / workers
            print(f"1 million pairs, parts of 1,000, {workers} one-thread workers: about {estimate:.0f} s")


if __name__ == "__main__":
    main()
