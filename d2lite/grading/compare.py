"""Compare what a reader's function returned with what was expected, and say how they differ.

`mismatch(got, expected)` returns None when they agree, else a message a
teaching assistant might write: what was expected, what came back, and, where
the difference has a familiar shape (transposed, scaled, sign-flipped, NaN),
what that usually means.
"""
import numbers

import numpy as np


def _fmt(a, limit=6):
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item():.6g}" if np.issubdtype(a.dtype, np.number) else repr(a.item())
    flat = ", ".join(f"{v:.4g}" for v in a.ravel()[:limit])
    more = ", ..." if a.size > limit else ""
    return f"[{flat}{more}] (shape {a.shape})"


def _fmt_pair(expected, got):
    """Two different numbers with just enough digits that they read differently (never "1" and "1")."""
    for digits in range(6, 18):
        e, g = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if e != g:
            return e, g
    return repr(float(expected)), repr(float(got))


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _type_problem(got, expected):
    """Why `got` cannot stand for `expected` at all (None, list, wrong type), or None."""
    if got is None:
        return "returned None: did you forget the `return` statement?"
    if isinstance(got, (str, bytes, dict, set)):
        return f"returned a {type(got).__name__} ({str(got)[:40]!r}); expected numbers."
    if expected.ndim == 0:
        if isinstance(got, np.ndarray) and got.size == 1:
            return None
        if isinstance(got, (numbers.Number, np.number)) and not isinstance(got, bool):
            return None
        shape = f" of shape {np.shape(got)}" if isinstance(got, np.ndarray) else ""
        return (f"returned a {type(got).__name__}{shape}; expected a single number "
                "(did you forget to average or sum?).")
    if isinstance(got, (list, tuple)):
        return (f"returned a {type(got).__name__}; return a NumPy array "
                "(wrap it in np.array(...) or compute with NumPy operations).")
    if np.isscalar(got) or (isinstance(got, np.ndarray) and got.ndim == 0):
        return f"returned a single number ({_fmt(got)}); expected an array of shape {expected.shape}."
    if not isinstance(got, np.ndarray):
        return f"returned a {type(got).__name__}; expected a NumPy array of shape {expected.shape}."
    if not np.issubdtype(got.dtype, np.number) and got.dtype != bool:
        return f"returned an array of dtype {got.dtype}; expected numbers."
    return None


def _value_hint(got, expected):
    """A guess at the cause when shapes agree but values do not."""
    if np.isnan(got).any() or (np.isinf(got).any() and np.isfinite(expected).all()):
        bad = int((~np.isfinite(got)).sum())
        return (f"{bad} entr{'y is' if bad == 1 else 'ies are'} NaN or infinite where finite values were "
                "expected: an overflow (exp of a large number?), a division by zero, or an array made with np.empty "
                "and never filled?")
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and np.allclose(got, expected.T, rtol=1e-5, atol=1e-8):
        return "your result equals the expected one transposed: check the order of a matrix product or a .T."
    if np.allclose(got, -expected, rtol=1e-5, atol=1e-8) and np.abs(expected).max() > 0:
        return "your result has the opposite sign everywhere: check the sign of a term or of the update."
    mask = np.abs(expected) > 1e-8
    if mask.sum() >= 2:
        ratio = got[mask] / expected[mask]
        r = float(np.median(ratio))
        if np.isfinite(r) and abs(r - 1) > 1e-3 and r != 0 and np.allclose(got, r * expected, rtol=1e-5, atol=1e-8):
            return (f"your result is {r:.4g} times the expected one: a missing or extra scale factor "
                    "(a mean vs a sum, a 1/N, a factor 2?).")
    return ""


def mismatch(got, expected, rtol=1e-6, atol=1e-8, names=()):
    """None if `got` matches `expected` within tolerance, else a message saying how it differs."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            what = ", ".join(names) if names else f"{len(expected)} values"
            return f"returned a {type(got).__name__}; expected a tuple of {len(expected)} ({what})."
        if len(got) != len(expected):
            return f"returned {len(got)} values; expected {len(expected)}" + (f" ({', '.join(names)})." if names else ".")
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = mismatch(g, e, rtol, atol)
            if problem:
                label = names[i] if i < len(names) else f"item {i}"
                return f"{label}: {problem}"
        return None
    if _is_int(expected) and not _is_int(got) and isinstance(got, (numbers.Number, np.number)):
        return (f"returned a {type(got).__name__} ({got!r}); expected an integer such as {expected}: "
                "a count must be an int (use // for the division, or int(...) if you must).")
    if not isinstance(expected, np.ndarray):
        expected = np.asarray(expected)
    problem = _type_problem(got, expected)
    if problem:
        return problem
    got = np.asarray(got)
    if expected.ndim == 0:
        got = got.reshape(())
    if got.shape != expected.shape:
        hint = ""
        if got.shape == expected.shape[::-1] or (
                got.ndim >= 2 and got.shape == expected.shape[:-2] + expected.shape[:-3:-1]):
            hint = " It looks transposed: check the order of a matrix product, a .T or which axis is which."
        elif got.size == expected.size:
            hint = " Same number of entries, different arrangement: a reshape or a wrong axis?"
        elif expected.ndim >= 1 and got.ndim == expected.ndim - 1:
            hint = " One axis is missing: a sum or mean over the wrong axis, or a missing keepdims=True?"
        return f"expected shape {expected.shape}, got shape {got.shape}.{hint}"
    if np.issubdtype(expected.dtype, np.floating) and not np.issubdtype(got.dtype, np.floating):
        if np.any(expected != np.round(expected)):
            return (f"returned integers (dtype {got.dtype}) where fractions were expected: "
                    "an integer array or integer division somewhere?")
    got64 = got.astype(np.float64)
    exp64 = expected.astype(np.float64)
    # NaN where NaN is expected counts as agreement: references never give NaN, known mistakes may.
    if np.allclose(got64, exp64, rtol=rtol, atol=atol, equal_nan=True):
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got64 - exp64)
        excess = err / (atol + rtol * np.abs(exp64))  # how many times over its tolerance each entry is
    same = (got64 == exp64) | (np.isnan(got64) & np.isnan(exp64))
    err = np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))
    failing = ~same & ~(excess <= 1)  # NaN excess (inf - inf) fails too
    # point at the largest difference among the entries that fail the tolerance: the largest
    # difference overall may belong to a large value that is within it
    where = np.unravel_index(int(np.argmax(np.where(failing, err, -1.0))), err.shape) if err.ndim else ()
    at = f" at index {tuple(int(i) for i in where)}" if where else ""
    e, g = _fmt_pair(exp64[where], got64[where])
    n_bad = int(failing.sum())
    count = f"{n_bad} of {failing.size} entries differ beyond the tolerance, " if failing.size > 1 else ""
    msg = f"values differ{at}: expected {e}, got {g} ({count}rtol={rtol:g}, atol={atol:g})."
    hint = _value_hint(got64, exp64)
    return f"{msg} {hint}".strip()
