"""Ctrl-C stops every long call: a real SIGINT sent to a child process running it.

Each child starts a call that would run for tens of seconds, the test sends SIGINT once it is
under way, and the child reports where the KeyboardInterrupt came from, whether anything still
burns CPU afterwards, and whether the next call gives the right result. The delay between the
signal and the exception is printed with the outcome; no test asserts a wall-clock limit.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from panoptiq.synthetic import make_dataset

#: Copies of two 1024 x 2048 pairs: tens of seconds of work on this machine kind.
LONG_PAIRS = 20_000

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys, time, traceback
    import numpy as np

    # A shell that starts a job in the background (`cmd &` without job control) hands it SIGINT
    # ignored, and Python then keeps it ignored: restore the handler a terminal's Ctrl-C meets.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import panoptiq
    from panoptiq import evaluation

    gt_json, pred_json, small_gt, small_pred, mode = sys.argv[1:]
    expected = panoptiq.pq_compute(small_gt, small_pred, verbose=False)

    def pairs(gt_path, pred_path):
        gt, pred = json.load(open(gt_path)), json.load(open(pred_path))
        predictions = {a["image_id"]: a for a in pred["annotations"]}
        categories = {c["id"]: c for c in gt["categories"]}
        return [(a, predictions[a["image_id"]]) for a in gt["annotations"]], categories

    folders = (gt_json[: -len(".json")], pred_json[: -len(".json")])
    # Processes whose CPU counts as work after the interrupt besides this one: the workers.
    workers = []
    if mode == "evaluate_image":
        rng = np.random.default_rng(0)
        gt_ids = rng.integers(1, 1500, size=(8000, 8000), dtype=np.uint32)
        pred_ids = rng.integers(1, 1500, size=(8000, 8000), dtype=np.uint32)
        gt_segments = [{"id": i, "category_id": 1, "iscrowd": 0, "area": 1} for i in range(1, 1500)]
        pred_segments = [{"id": i, "category_id": 1} for i in range(1, 1500)]
        call = lambda: panoptiq.evaluate_image(gt_ids, gt_segments, pred_ids, pred_segments, [1])
    elif mode in ("metric", "metric_background"):
        # Noise: every pixel a run of its own, tens of seconds of labelling.
        rng = np.random.default_rng(0)
        preds = rng.integers(1, 256, size=(40, 2000, 2000, 2), dtype=np.uint8)
        target = rng.integers(1, 256, size=(40, 2000, 2000, 2), dtype=np.uint8)
        metric = panoptiq.PanopticQuality(things=range(1, 256), stuffs=[], background=mode == "metric_background")
        if mode == "metric":
            call = lambda: metric.update(preds, target)
        else:
            metric.update(preds, target)  # returns at once; the worker evaluates
            call = metric.compute
    elif mode == "zip":
        import zipfile

        archive = folders[0] + ".zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for name in os.listdir(folders[0]):
                z.write(os.path.join(folders[0], name), name)
        call = lambda: panoptiq.pq_compute(gt_json, pred_json, gt_folder=archive, verbose=False)
    elif mode == "remote":
        import fsspec

        fs = fsspec.filesystem("memory")
        for side, folder in zip(("gt", "pred"), folders):
            for name in os.listdir(folder):
                fs.pipe(f"/interrupt/{side}/{name}", open(os.path.join(folder, name), "rb").read())
        call = lambda: panoptiq.pq_compute(
            gt_json, pred_json, "memory://interrupt/gt", "memory://interrupt/pred", verbose=False
        )
    elif mode == "dask":
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        )
        client = distributed.Client(cluster)
        # Started before "ready": the cluster's own start-up CPU is not work after the interrupt.
        client.wait_for_workers(2)
        import psutil

        workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        call = lambda: panoptiq.pq_compute(gt_json, pred_json, verbose=False, client=client, partition_size=8)
    elif mode == "report":
        from panoptiq.report import write_report

        out = os.path.join(os.path.dirname(gt_json), "report")
        call = lambda: write_report(gt_json, pred_json, out=out)
    elif mode in ("single_core", "multi_core"):
        matched, categories = pairs(gt_json, pred_json)
        if mode == "single_core":
            call = lambda: evaluation.pq_compute_single_core(0, matched, *folders, categories)
        else:
            call = lambda: evaluation.pq_compute_multi_core(matched, *folders, categories, verbose=False)
    else:
        kwargs = {
            "default": {"verbose": False},
            "one_thread": {"verbose": False, "num_threads": 1},
            "progress": {"progress": lambda done, total: None},
        }[mode]
        call = lambda: panoptiq.pq_compute(gt_json, pred_json, **kwargs)

    print("ready", flush=True)
    report = {"interrupted": False}
    try:
        call()
    except KeyboardInterrupt:
        report["caught_at"] = time.monotonic()
        report["interrupted"] = True
        report["where"] = [frame.filename for frame in traceback.extract_tb(sys.exc_info()[2])[-2:]]
        if workers:
            # The parts under way finish on the workers and the client takes their results in:
            # what must stop is everything after those, here and on the workers.
            time.sleep(1.0)
        cpu_now = lambda: time.process_time() + sum(sum(w.cpu_times()[:2]) for w in workers)
        cpu = cpu_now()
        time.sleep(1.0)
        report["cpu_after"] = cpu_now() - cpu
    # Nothing half-written is left: no report folder, no temporary one.
    report["leftovers"] = [n for n in os.listdir(os.path.dirname(gt_json)) if "report" in n]
    report["next_call_correct"] = panoptiq.pq_compute(small_gt, small_pred, verbose=False) == expected
    print(json.dumps(report), flush=True)
    """
)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    folder = tmp_path_factory.mktemp("interrupt")
    gt_json, pred_json = make_dataset(folder / "long", 2, seed=0, size=(1024, 2048))
    for path in (gt_json, pred_json):
        body = json.loads(path.read_text())
        two = body["annotations"]
        body["annotations"] = [{**two[i % 2], "image_id": i} for i in range(LONG_PAIRS)]
        path.write_text(json.dumps(body))
    small_gt, small_pred = make_dataset(folder / "small", 6, seed=4)
    return gt_json, pred_json, small_gt, small_pred


@pytest.mark.parametrize(
    ("mode", "raised_in"),
    [
        ("default", "dataset.py"),
        ("one_thread", "dataset.py"),
        ("progress", "dataset.py"),
        ("single_core", "dataset.py"),
        ("multi_core", "dataset.py"),
        ("evaluate_image", "image.py"),
        ("metric", "metric.py"),
        ("metric_background", "_background.py"),
        ("zip", "dataset.py"),
        # Waiting for the next batch of PNGs, or decoding one.
        ("remote", ("dataset.py", "storage.py", "_base.py", "threading.py")),
        # Waiting for the cluster's parts; the parts under way finish on the workers.
        ("dask", None),
        ("report", "dataset.py"),
    ],
)
def test_sigint_stops_the_call_and_the_next_call_works(datasets, mode: str, raised_in) -> None:
    if mode in ("remote", "dask"):
        pytest.importorskip({"remote": "fsspec", "dask": "distributed"}[mode], reason=f"{mode} needs panoptiq[test]")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *map(str, datasets), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # the call is now reading JSON or evaluating
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=600)
    finally:
        child.kill()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["interrupted"], f"{mode}: the call ran to its end instead of stopping ({report})"
    delay = report["caught_at"] - sent
    print(f"{mode}: KeyboardInterrupt {1000 * delay:.0f} ms after SIGINT")
    # Raised from inside the Rust call (the Python frame calling it), or from the wait for the
    # background worker (a lock wait called from there), not between two calls.
    if isinstance(raised_in, tuple):
        assert any(frame.endswith(raised_in) for frame in report["where"]), report
    elif raised_in is not None:
        assert report["where"][-1].endswith(raised_in) or (
            mode == "metric_background" and report["where"][0].endswith(raised_in)
        ), report
    assert report["cpu_after"] < 0.5, f"{mode}: work went on after the interrupt ({report})"
    assert report["leftovers"] == []
    assert report["next_call_correct"]
