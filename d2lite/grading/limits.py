"""Run untrusted reader code with a time limit, turning every way it can fail into a message.

Within one process this is best effort: a loop that catches every exception,
again and again, forever, cannot be stopped from inside. The batch grader
(`d2lite grade`) runs each notebook in its own kernel with a wall-clock limit,
which stops even that.
"""
import signal
import threading

import numpy as np


class TimeLimitExceeded(BaseException):
    """Raised inside reader code when its time is up (a BaseException, so `except Exception` can't eat it)."""


def _run_with_alarm(thunk, seconds):
    def on_alarm(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # The timer fires again every 0.2 s, in case the reader's code catches the first one.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        return thunk()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
        return None, (f"did not finish within {seconds:g} s: an endless loop, or far more work "
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
