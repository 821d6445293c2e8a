"""Run one evaluator on one dataset in this process and print its time and peak memory as JSON.

Used by bench_dataset.py, which starts one process per measurement so that peak RSS is each
tool's own. Usage: python run_tool.py TOOL GT_JSON PRED_JSON THREADS
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path


def run(tool: str, gt_json: str, pred_json: str, threads: int) -> None:
    if tool == "panoptiq":
        from panoptiq.evaluation import pq_compute

        def call() -> object:
            return pq_compute(gt_json, pred_json, num_threads=threads, verbose=False)
    elif tool == "decode-floor":
        from panoptiq import _core

        annotations = json.loads(Path(pred_json).read_text())["annotations"]
        folders = (gt_json[: -len(".json")], pred_json[: -len(".json")])
        paths = [os.path.join(folder, a["file_name"]) for a in annotations for folder in folders]

        def call() -> object:
            return _core.decode_files(paths, threads)
    elif tool == "hotcoco":
        from hotcoco.panoptic import pq_compute as hotcoco_pq_compute

        def call() -> object:
            return hotcoco_pq_compute(gt_json, pred_json)
    elif tool == "panopticapi":
        from panopticapi.evaluation import pq_compute as panopticapi_pq_compute

        def call() -> object:
            return panopticapi_pq_compute(gt_json, pred_json)
    else:
        raise SystemExit(f"unknown tool {tool}")

    # Importing numpy starts OpenBLAS's threads, which spin for tens of milliseconds before they
    # sleep; on a 2-core machine they would take a core from whichever tool runs first. In real
    # use imports happen long before evaluation, so every tool gets the same pause first.
    time.sleep(0.5)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = call()
    seconds = time.perf_counter() - start
    pq = result["All"]["pq"] if isinstance(result, dict) and "All" in result else None
    # getrusage(RUSAGE_SELF) keeps the pre-exec peak of the parent on Linux; VmHWM is this
    # process's own. Worker processes (panopticapi's pool) report through RUSAGE_CHILDREN.
    status = Path("/proc/self/status").read_text().splitlines()
    own_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_mb": own_kb / 1024, "worker_rss_mb": children_kb / 1024, "pq": pq}))


if __name__ == "__main__":
    tool, gt, pred, threads = sys.argv[1:5]
    if tool == "hotcoco":
        # hotcoco sizes its pool from RAYON_NUM_THREADS.
        os.environ["RAYON_NUM_THREADS"] = threads
    run(tool, gt, pred, int(threads))
