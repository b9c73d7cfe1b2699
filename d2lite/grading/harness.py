"""The grader's agent inside a submission's kernel: call the reader's function on the grader's cases.

After the submission's cells have run, the grader sends cells of the form
`respond(secret, request)`. The request, pickled by the grader, holds a Part
(without its reference or mistakes) and the arguments of its cases; `respond`
looks the reader's function up in the notebook's namespace, runs
`runner.attempts` and displays the outputs, as JSON (see `wire`), under the MIME
type REPLY_MIME and tagged with `secret`. The verdict is not made here: this
process runs the submission's code and can be made to say anything.
"""
import dataclasses
import json

import numpy as np

from d2lite.grading import wire
from d2lite.grading.runner import attempts, unusable

REPLY_MIME = "application/vnd.d2lite.reply+json"
MAX_REPLY_BYTES = 32 << 20  # well under what the grader accepts (kernel.MAX_MESSAGE_BYTES)


def request(part, cases, timeout):
    """Grader side: the request for `part` on `cases`, with the grader's half of the part (reference,
    mistakes, judge) left out and `timeout` seconds per call."""
    remote = dataclasses.replace(part, reference=None, cases=None, mistakes=[], judge=None, timeout=timeout)
    return wire.pack((remote, [case.args for case in cases]))


def _describe(attempt, mutates):
    """The JSON form of one attempt: output or error, and the array arguments as they are after the call."""
    inputs = [wire.encode(a) if isinstance(a, np.ndarray) and i not in mutates else None
              for i, a in enumerate(attempt.inputs)]
    if attempt.error:
        return {"error": attempt.error, "inputs": inputs}
    try:
        return {"got": wire.encode(attempt.got), "inputs": inputs}
    except Exception as e:  # an object whose type checks themselves fail
        return {"error": f"returned an object that could not be read ({type(e).__name__}).", "inputs": inputs}


def reply(text, namespace):
    """Kernel side: the JSON reply to a request, a problem with the function or one description per case tried."""
    part, cases_args = wire.unpack(text)
    fn = namespace.get(part.func)
    problem = unusable(part, fn)
    if problem:
        return {"problem": problem}
    described, size = [], 0
    for attempt in attempts(part, fn, cases_args):
        item = _describe(attempt, part.mutates)
        size += len(json.dumps(item))
        if size > MAX_REPLY_BYTES:
            described.append({"error": f"returned {size >> 20} MB of output, far more than expected: check the "
                                       "shape you build (a missing sum, an outer product?).", "inputs": item["inputs"]})
            break
        described.append(item)
    return {"attempts": described}


def respond(secret, text):
    """Kernel side: answer the grader (the grader's harness cell calls this)."""
    from IPython import get_ipython
    from IPython.display import display

    display({REPLY_MIME: dict(reply(text, get_ipython().user_ns), secret=secret)}, raw=True)
