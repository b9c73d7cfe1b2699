"""Per-student variants: the same exercise, other hidden inputs for each student.

A student's seed is an HMAC of their id under the course secret, so it is the same on every
regrade and nobody without the secret can compute it. The bank's case builders draw their
inputs from `np.random.default_rng(fixed_seed)`; while `variant_cases(part, seed)` builds a
part's cases, that fixed seed is mixed with the student's (`default_rng([fixed_seed, seed])`),
so every case keeps its shapes, its name and its purpose (a batch of one, extreme values, ...)
with other random values. Cases written out by hand stay as they are.

Only the grader's own case-building changes: `check()` in a notebook, and grading without a
seed, use the public cases, and nothing of the secret enters a submission's kernel (the
cases' arguments do, as always).
"""
import contextvars
import hashlib
import hmac
import threading

import numpy as np

_SEED = contextvars.ContextVar("d2lite_variant_seed", default=None)
_ORIGINAL = np.random.default_rng
_installed = threading.Lock()


def student_seed(secret, student):
    """The student's variant seed: 63 bits of HMAC-SHA256(secret, student id)."""
    if not secret:
        raise ValueError("variants need a course secret: set `secret` or `secret_env` in the course file")
    digest = hmac.new(str(secret).encode(), str(student).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _mixed(seed=None):
    """np.random.default_rng, with an integer seed mixed with the variant seed while one is set."""
    variant = _SEED.get()
    if variant is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        return _ORIGINAL(seed)
    return _ORIGINAL([int(seed), variant])


def _install():
    with _installed:
        if np.random.default_rng is not _mixed:
            np.random.default_rng = _mixed


def variant_cases(part, seed=None):
    """The part's cases for the variant `seed` (None: the public cases, as `check()` sees them)."""
    if seed is None:
        return part.cases()
    _install()
    token = _SEED.set(int(seed))
    try:
        return part.cases()
    finally:
        _SEED.reset(token)
