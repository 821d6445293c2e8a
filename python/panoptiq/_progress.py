"""Progress reporting for long evaluations: tqdm when installed, a plain line otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Called after each batch with (images done, images in all).
ProgressCallback = Callable[[int, int], None]


class Progress:
    """A callable ``(done, total)`` that draws a progress bar with an ETA on ``stream``.

    Uses tqdm if it is installed; otherwise rewrites one line on a terminal, or prints a line
    every tenth of the way when ``stream`` is not a terminal (CI logs, files).
    """

    def __init__(self, description: str = "images", stream: TextIO | None = None) -> None:
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.last_tenth = -1
        self.bar = None
        try:
            from tqdm import tqdm
        except ImportError:
            self.tqdm = None
        else:
            self.tqdm = tqdm

    def __call__(self, done: int, total: int) -> None:
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=total, unit="img", desc=self.description, file=self.stream)
            self.bar.update(done - self.bar.n)
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (total - done) if done else float("nan")
        line = (
            f"{done}/{total} {self.description} ({100 * done / max(total, 1):.0f}%), {elapsed:.1f} s, ETA {eta:.1f} s"
        )
        if self.stream.isatty():
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        elif (tenth := 10 * done // max(total, 1)) > self.last_tenth:
            self.last_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
