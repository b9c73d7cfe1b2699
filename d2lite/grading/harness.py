"""The grader's agent inside a submission's kernel: call the reader's function on the grader's cases.

After the submission's cells have run, the grader asks for each part in two
steps. `respond(request)`: the request, pickled by the grader, holds a Part
(without its reference, mistakes or judge) and the arguments of its cases;
`respond` looks the reader's function up in the notebook's namespace, runs
`runner.attempts` (one attempt per case, numbered) and keeps the reply. Then,
once that has finished, `send(secret)` displays the reply, as JSON (see `wire`),
under the MIME type REPLY_MIME and tagged with `secret`, which the grader draws
only now: while the reader's function runs, no secret exists in this process.

The verdict is not made here: this process runs the submission's code and can be
made to say anything. The grader accepts a reply only when it holds exactly one
outcome per case, in order, and judges every output itself, so a forged reply can
claim no more than the reader's function could have returned.
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
        item = dict(_describe(attempt, part.mutates), case=attempt.case)
        size += len(json.dumps(item))
        if size > MAX_REPLY_BYTES:  # this case and the rest, without their outputs
            item = {"error": f"returned {size >> 20} MB of output, far more than expected: check the shape you "
                             "build (a missing sum, an outer product?).", "inputs": [], "case": attempt.case}
        described.append(item)
    return {"attempts": described}


_pending = []  # the reply `respond` made, until `send` displays it


def respond(text):
    """Kernel side, step 1: run the reader's function on the request's cases and keep the reply."""
    from IPython import get_ipython

    _pending[:] = [reply(text, get_ipython().user_ns)]


def send(secret):
    """Kernel side, step 2: display the kept reply, tagged with `secret`."""
    from IPython.display import display

    display({REPLY_MIME: dict(_pending.pop() if _pending else {}, secret=secret)}, raw=True)
