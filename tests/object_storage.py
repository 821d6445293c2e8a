"""A real S3-compatible server for tests and benchmarks: moto's server mode, started as its own
process on 127.0.0.1, with the dataset uploaded through s3fs."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CREDENTIALS = {"key": "testing", "secret": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto_server(refuse_credentials: bool = False) -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the duration of the block.

    ``refuse_credentials``: the server checks every request's credentials against its (empty)
    IAM users, so any key is refused as a real S3 endpoint refuses an unknown one.
    """
    port = free_port()
    env = dict(os.environ)
    if refuse_credentials:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def storage_options(endpoint: str, **credentials: Any) -> dict[str, Any]:
    return {**(credentials or CREDENTIALS), "client_kwargs": {"endpoint_url": endpoint, "region_name": "eu-west-1"}}


def upload(endpoint: str, bucket: str, files: dict[str, Path]) -> None:
    """Creates ``bucket`` and puts each local file (or folder, recursively) at its key."""
    import s3fs

    fs = s3fs.S3FileSystem(**storage_options(endpoint), skip_instance_cache=True)
    fs.mkdir(bucket)
    for key, path in files.items():
        if path.is_dir():
            fs.put(str(path) + "/", f"{bucket}/{key}", recursive=True)
        else:
            fs.put_file(str(path), f"{bucket}/{key}")
