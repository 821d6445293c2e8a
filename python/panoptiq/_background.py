"""The background worker of ``PanopticQuality(background=True)``: one thread running queued
evaluations in order behind a bounded queue."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any

import panoptiq._core as _core


class Worker:
    """One thread running queued evaluations in order; the queue is bounded.

    Ctrl-C reaches only Python's main thread: when it interrupts a wait for the worker, the
    queued updates are dropped and the one under way is stopped through a cancel token.
    """

    def __init__(self, run: Callable[[Any, _core.CancelToken], None], max_pending: int) -> None:
        self.pid = os.getpid()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._run = run
        self._cancel = _core.CancelToken()
        self._thread = threading.Thread(target=self._loop, name="panoptiq-metric", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            cancel = self._cancel
            try:
                if not cancel.is_cancelled():
                    self._run(job, cancel)
            except BaseException as error:  # handed to the caller's thread
                if self._error is None and not cancel.is_cancelled():
                    self._error = error
            finally:
                self._queue.task_done()

    def submit(self, job: Any) -> None:
        self._queue.put(job)

    def join(self) -> None:
        try:
            self._wait()
        except KeyboardInterrupt:
            self._cancel.cancel()  # the update under way stops at its next check
            while True:
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                except queue.Empty:
                    break
            self._wait()
            self._cancel = _core.CancelToken()
            raise

    def _wait(self) -> None:
        # Queue.join cannot be interrupted; polling keeps Ctrl-C working while waiting.
        while self._queue.unfinished_tasks:
            with self._queue.all_tasks_done:
                self._queue.all_tasks_done.wait(0.05)

    def raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
