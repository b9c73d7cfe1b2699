"""Run untrusted reader code with a time limit, turning every way it can fail into a message.

The limit counts the process's CPU time (ITIMER_PROF), so the verdict is the same on a
busy machine as on an idle one. A call that catches the time-out and goes on still counts
as too slow when it ends.

In a grader's kernel the time-out fires once: a call that swallows it and never ends is
stopped from outside (the grader counts the kernel's CPU time and kills it), so it gets the
same verdict at any load. Fired again and again, it would escape or not depending on where
a signal happens to land. In a notebook (check()), where nothing outside would stop it, the
time-out fires again every 0.2 s, and a call that sleeps or waits is stopped by the clock
after WALL_FACTOR times the limit plus WALL_SLACK.
"""
import os
import signal
import threading

import numpy as np

from d2lite.grading.sandbox import SANDBOX_DIR

WALL_FACTOR, WALL_SLACK = 4, 30.0
# In a grader's kernel: a cell whose processes use less than IDLE_CPU s of CPU in IDLE_SECONDS on the clock
# waits for something that will not come (input, a lock, a sleep) and is stopped then, not at the clock's limit.
IDLE_SECONDS, IDLE_CPU = 60.0, 0.5


class TimeLimitExceeded(BaseException):
    """Raised inside reader code when its time is up (a BaseException, so `except Exception` can't eat it)."""


def _run_with_alarm(thunk, seconds):
    fired = []

    def on_limit(signum, frame):
        fired.append(signum)
        raise TimeLimitExceeded()

    previous = {s: signal.signal(s, on_limit) for s in (signal.SIGPROF, signal.SIGALRM)}
    if SANDBOX_DIR in os.environ:  # a grader's kernel (kernel.py sets it): the grader stops what does not stop here
        signal.setitimer(signal.ITIMER_PROF, seconds)
    else:
        signal.setitimer(signal.ITIMER_PROF, seconds, 0.2)
        signal.setitimer(signal.ITIMER_REAL, WALL_FACTOR * seconds + WALL_SLACK, 0.2)
    try:
        value = thunk()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for s, handler in previous.items():
            signal.signal(s, handler)
    if fired:  # it caught the time-out and carried on
        raise TimeLimitExceeded()
    return value


def _run_in_thread(thunk, seconds):
    """Fallback off the main thread or without SIGALRM (Windows): an endless loop is abandoned, not killed."""
    box = {}

    def target():
        try:
            box["value"] = thunk()
        except BaseException as e:  # handed back to the caller below
            box["error"] = e

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimitExceeded()
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_limited(thunk, seconds, strict_float=False):
    """Call `thunk()`; return (value, None), or (None, message) if it failed or ran out of time."""
    can_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    runner = _run_with_alarm if can_alarm else _run_in_thread
    settings = {"over": "raise", "invalid": "raise", "divide": "raise"} if strict_float else {}
    try:
        with np.errstate(**settings):
            return runner(thunk, seconds), None
    except KeyboardInterrupt:
        raise
    except TimeLimitExceeded:
        return None, (f"did not finish within {seconds:g} s of CPU time: an endless loop, or far more work "
                      "than needed (a Python loop over every element where one NumPy operation would do)?")
    except BaseException as e:  # the reader's code may raise anything, SystemExit included
        return None, describe_exception(e)


def describe_exception(e):
    """A short, teaching-assistant message for an exception raised by reader code."""
    name = type(e).__name__
    text = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
    if isinstance(e, NotImplementedError):
        return "not implemented yet: replace the `raise NotImplementedError(...)` line with your code."
    if isinstance(e, SystemExit):
        return "called exit() (SystemExit): a function being graded must return a value, not stop the program."
    if isinstance(e, FloatingPointError):
        return (f"floating-point {text or 'error'}: an exp or a division overflowed or produced NaN. "
                "For large inputs rewrite the formula so that no exponent is positive.")
    hint = ""
    if isinstance(e, ValueError) and ("matmul" in text or "aligned" in text or "broadcast" in text):
        hint = " The shapes do not line up: print the .shape of each array and check the order of the product."
    elif isinstance(e, IndexError):
        hint = " An index is out of range: check which axis you index and its length."
    elif isinstance(e, TypeError) and "argument" in text:
        hint = " Keep the function's signature exactly as given in the exercise."
    return f"raised {name}" + (f": {text}" if text else "") + "." * (not text.endswith(".")) + hint
