"""How data crosses between the grader and a submission's kernel.

Grader to kernel: the grader's own objects (parts, case arguments), pickled; the
kernel may trust the grader. Kernel to grader: only JSON, with arrays as raw bytes
plus a dtype and a shape checked before use. Nothing the kernel sends is unpickled
or evaluated, so a submission cannot run code in the grader through its outputs.
Objects of other types come back as a stand-in that keeps only the type's name,
which is all the feedback needs ("returned a dict; expected ...").

Decoding is bounded by the reply's size: an array's bytes are in the reply, arrays of
Python objects (whose cells could all point at one huge object) and zero-size item
types are refused, and a `Budget` shared by one reply caps the values it may expand to.
"""
import base64
import functools
import math
import pickle
import re

import numpy as np

MAX_DEPTH = 8          # tuples of tuples of ...
MAX_ITEMS = 10_000     # per tuple or list
MAX_DECODED_BYTES = 256 << 20   # per reply, all arrays together
MAX_DECODED_ITEMS = 1_000_000   # per reply, all values together
_KINDS = set("biufcUS")  # bool, int, uint, float, complex, str, bytes: plain bytes with no pointers
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")


def pack(obj):
    """Grader side: any picklable object as text for a code cell."""
    return base64.b64encode(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def unpack(text):
    """Kernel side: the object `pack` made."""
    return pickle.loads(base64.b64decode(text))


def _array(a):
    if a.dtype.kind not in _KINDS:  # described by its type only: the grader never rebuilds Python objects
        return {"t": "other", "type": "object_array" if a.dtype.kind == "O" else f"{a.dtype.kind}_array"}
    return {"t": "array", "dtype": a.dtype.str, "shape": list(a.shape),
            "data": base64.b64encode(a.tobytes(order="C")).decode("ascii")}


def encode(value, depth=0):
    """Kernel side: a JSON-able description of a reader's output."""
    if value is None or isinstance(value, (bool, str)):
        return {"t": "value", "v": str(value)[:200] if isinstance(value, str) else value}
    if isinstance(value, float) and not isinstance(value, np.generic):
        return {"t": "float", "v": float(value) if math.isfinite(value) else repr(float(value))}
    if isinstance(value, int) and not isinstance(value, np.generic) and abs(value) < 2 ** 63:
        return {"t": "int", "v": int(value)}
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic) and value.dtype.kind in _KINDS:
        return dict(_array(np.asarray(value)), t="scalar")
    if isinstance(value, (tuple, list)) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {"t": "tuple" if isinstance(value, tuple) else "list", "items": [encode(v, depth + 1) for v in value]}
    return {"t": "other", "type": type(value).__name__}


@functools.lru_cache(maxsize=256)
def _stand_in_class(name):
    return type(name, (), {"__repr__": lambda self: f"<a {name}>"})


class Budget:
    """What one reply may still expand to; `take` raises ValueError once it is spent."""

    def __init__(self, max_bytes=MAX_DECODED_BYTES, max_items=MAX_DECODED_ITEMS):
        self.bytes, self.items = max_bytes, max_items

    def take(self, n_bytes=0, n_items=1):
        self.bytes -= n_bytes
        self.items -= n_items
        if self.bytes < 0 or self.items < 0:
            raise ValueError("the reply expands to more than the grader accepts")


def _decode_array(tree, budget):
    shape = tree["shape"]
    if not (isinstance(shape, list) and len(shape) <= 32 and all(type(n) is int and n >= 0 for n in shape)):
        raise ValueError("bad shape")
    if not isinstance(tree["dtype"], str) or len(tree["dtype"]) > 8:
        raise ValueError("bad dtype")
    dtype = np.dtype(tree["dtype"])
    if dtype.kind not in _KINDS or dtype.hasobject or dtype.itemsize == 0:
        raise ValueError(f"dtype {dtype} not accepted")
    data = base64.b64decode(tree["data"], validate=True)
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise ValueError("array data does not match its shape")
    budget.take(2 * len(data), 1)  # the decoded bytes and the array's copy
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def decode(tree, depth=0, budget=None):
    """Grader side: the value `encode` described. Raises ValueError on anything malformed or when the
    values decoded with the same `budget` (default: a fresh one) would exceed it."""
    budget = Budget() if budget is None else budget
    try:
        budget.take()
        kind = tree["t"]
        if kind == "value" and (tree["v"] is None or isinstance(tree["v"], (bool, str))):
            return tree["v"]
        if kind == "int" and type(tree["v"]) is int:
            return tree["v"]
        if kind == "float" and type(tree["v"]) in (int, float, str):
            return float(tree["v"])
        if kind in ("array", "scalar"):
            array = _decode_array(tree, budget)
            return array[()] if kind == "scalar" and array.ndim == 0 else array
        if kind in ("tuple", "list") and depth < MAX_DEPTH and len(tree["items"]) <= MAX_ITEMS:
            items = [decode(v, depth + 1, budget) for v in tree["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "other" and isinstance(tree["type"], str):
            name = tree["type"] if _TYPE_NAME.fullmatch(tree["type"]) else "object"
            return _stand_in_class(name)()
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"malformed output description: {e}") from None
    raise ValueError(f"malformed output description of kind {str(tree.get('t'))[:20]!r}"
                     if isinstance(tree, dict) else "malformed output description")
