"""Where CPU-heavy native work runs: one daemon thread, separate from the thread that drives.

Why a separate thread: a caller may want heavy work (whisper.cpp, llama.cpp and the threads
they start, which inherit their creator's scheduling priority) below its own priority, while
the Python that drives the pipeline (database writes, progress, decoding glue) stays at normal
priority. A thread whose priority was lowered and that holds the GIL can be kept off the CPU
by any other busy program, and then every Python thread waits, the GUI thread included
(priority inversion: on a busy 2-core machine, stalls of 60-170 ms). So the heavy thread should
hold the GIL as little as possible, and the caller's thread does the Python.

The thread is a daemon, unlike `ThreadPoolExecutor`'s: quitting the app never waits for a
transcription or a model call to notice its cancel flag.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ComputeThread(Executor):
    """Runs submitted calls in order on one daemon thread; `initializer` runs on it first."""

    def __init__(self, *, name: str = "recap-compute",
                 initializer: Callable[[], None] | None = None) -> None:
        self._name = name
        self._initializer = initializer
        self._jobs: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the compute thread was shut down")
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name,
                                                daemon=True)
                self._thread.start()
            self._jobs.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._jobs.put(None)
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    @property
    def native_id(self) -> int | None:
        """The OS thread id once the thread runs (for tests and diagnostics)."""
        return self._thread.native_id if self._thread is not None else None

    def _work(self) -> None:
        if self._initializer is not None:
            try:
                self._initializer()
            except Exception:  # a failed tweak must not lose the thread
                log.exception("compute thread initializer failed")
        while (job := self._jobs.get()) is not None:
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)


def lower_priority_of_this_thread(niceness: int = 10) -> None:
    """Run heavy work below the caller's CPU priority (give it as a ComputeThread's
    initializer): on two cores Whisper's threads otherwise starve the window's thread (stalls of
    100-200 ms). On Linux a thread is a task with its own nice value, inherited by the threads
    it starts (whisper.cpp's workers)."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return  # elsewhere the OS scheduler favours the foreground app by itself
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, niceness))
    except OSError as exc:
        log.info("could not lower the processing thread's priority: %s", exc)
