"""A wall-clock limit for one run, enforced inside the process that runs it.

A strategy that never returns used to hang the whole sweep. The runner wraps each search in
:func:`run_time_limit`, which raises :class:`RunTimeLimitExceeded` in the search after
``seconds``; the runner records that as a failed run. Two mechanisms, by where the run is:

* the main thread of a process (the sequential backend, loky's workers): an interval timer
  delivers SIGALRM, whose handler raises the exception -- also inside a blocking call such as
  ``time.sleep``;
* any other thread (the ``threading`` backend, dask's worker threads): a timer thread
  raises the exception asynchronously in the run's thread (``PyThreadState_SetAsyncExc``). It
  takes effect at the thread's next Python instruction, so it stops any Python-level loop,
  but not a thread blocked inside one C call (a long ``time.sleep``, a stuck native library).
  For those, the ``threading`` backend's dispatcher abandons the thread after a grace period
  (:func:`grace_seconds`) and records the run as failed; a dask worker thread stays occupied
  until the call returns (dask cannot stop a running task).
"""
from __future__ import annotations

import ctypes
import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class RunTimeLimitExceeded(Exception):
    """The run went past the experiment's ``max_run_seconds``."""


def limit_message(seconds: float) -> str:
    return (f"the run took longer than max_run_seconds = {seconds:g}; raise it in the config if the search needs "
            "longer (a one-shot run resumes from its last checkpoint)")


def grace_seconds(seconds: float) -> float:
    """How long past its limit a run that ignores the asynchronous exception keeps its thread."""
    return max(2.0, 0.1 * seconds)


@contextmanager
def run_time_limit(seconds: float) -> Iterator[str]:
    """Raise :class:`RunTimeLimitExceeded` in the block after ``seconds``; yields the mechanism
    (``"signal"`` or ``"async-exception"``)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _signal_limit(seconds):
            yield "signal"
        return
    with _async_limit(seconds):
        yield "async-exception"


@contextmanager
def _signal_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise RunTimeLimitExceeded(limit_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _async_limit(seconds: float) -> Iterator[None]:
    thread_id = ctypes.c_ulong(threading.get_ident())
    message = limit_message(seconds)
    # raised by class (the C API takes no instance): a subclass whose constructor supplies the message
    exceeded = type("RunTimeLimitExceeded", (RunTimeLimitExceeded,),
                    {"__init__": lambda self, *args: RunTimeLimitExceeded.__init__(self, message),
                     "__module__": __name__})
    lock = threading.Lock()
    state = {"finished": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["finished"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, ctypes.py_object(exceeded))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["finished"] = True
            timer.cancel()
            if state["fired"]:  # the block may have ended before the exception was delivered: clear it
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, None)
