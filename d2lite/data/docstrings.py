"""Summarization pairs from real documentation: a function's name and docstring body -> its one-line summary.

The docstrings of NumPy, PyTorch and matplotlib (installed with the book) were written by people to
be read, and most follow one convention (PEP 257, numpydoc): a first line that summarises, a blank
line, then the details. That gives thousands of (document, summary) pairs offline:

- harvest: the public callables of a fixed list of modules, and the public methods of their
  classes, visited in sorted order; `inspect.getdoc` text, split at the first blank line.
- clean: the body stops at the first "Examples", "See Also", "Notes", "References" section or
  doctest; reStructuredText markup (``code``, :func:`name`, section underlines) is removed.
- keep: summaries of 3–20 words that end with a full stop, bodies of at least 8 words; one pair per
  distinct summary (the first one met: a summary copied onto many aliases would otherwise leak
  between training and test).
- split: by a hash of the summary (SHA-256, lower-cased), so the split does not depend on the order of
  harvesting and stays the same when other pairs come or go with new package versions.
The pairs depend on the installed versions of the packages; `docstring_pairs` returns them sorted.
"""
import hashlib
import importlib
import inspect
import re
import warnings
from typing import NamedTuple

MODULES = (
    "numpy", "numpy.linalg", "numpy.fft", "numpy.random", "numpy.ma", "numpy.polynomial",
    "torch", "torch.nn", "torch.nn.functional", "torch.linalg", "torch.fft", "torch.special", "torch.optim",
    "torch.distributions", "torch.autograd", "torch.utils.data", "torch.nn.init", "torch.nn.utils",
    "matplotlib.pyplot", "matplotlib.axes", "matplotlib.figure", "matplotlib.colors", "matplotlib.ticker",
    "matplotlib.transforms", "matplotlib.collections", "matplotlib.patches", "matplotlib.text", "matplotlib.lines",
)
STOP = re.compile(r"^\s*(Examples?\b|See Also|References|Notes?\b|\.\. |>>>)", re.M)
ROLE = re.compile(r":[\w:.+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")   # :func:`~numpy.sum` -> numpy.sum
UNDERLINE = re.compile(r"^\s*[-=~^]{3,}\s*$", re.M)
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class Pair(NamedTuple):
    name: str        # where it came from, e.g. "numpy.cumsum"
    document: str    # the words of the function's name, a colon, then the docstring's body
    summary: str     # the docstring's first paragraph, on one line


def clean(text):
    """Docstring text as plain prose on one line: sections from Examples/See Also/Notes on removed, markup stripped."""
    cut = STOP.search(text)
    if cut:
        text = text[:cut.start()]
    text = ROLE.sub(r"\1", UNDERLINE.sub("", text))
    text = text.replace("``", "").replace("`", "").replace("**", "").replace("\\", "")
    return " ".join(text.split())


def name_words(qualified):
    """The last part of a dotted name as words: "numpy.ma.mask_or" -> "mask or", "nn.LayerNorm" -> "layer norm"."""
    return " ".join(CAMEL.sub(" ", qualified.rsplit(".", 1)[-1]).replace("_", " ").split()).lower()


def split_docstring(doc):
    """(summary, body) of a docstring split at its first blank line, cleaned; None when it has no body."""
    parts = re.split(r"\n\s*\n", doc.strip(), maxsplit=1)
    if len(parts) < 2:
        return None
    return clean(parts[0]), clean(parts[1])


def _documented(modules):
    """(qualified name, docstring) for the public callables of `modules` and their classes' public methods.
    Deprecation warnings raised by touching old aliases are silenced."""
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            for name in sorted(dir(module)):
                obj = getattr(module, name, None) if not name.startswith("_") else None
                if not callable(obj):
                    continue
                found.append((f"{module_name}.{name}", inspect.getdoc(obj)))
                if inspect.isclass(obj):
                    found += [(f"{module_name}.{name}.{member}", inspect.getdoc(getattr(obj, member, None)))
                              for member in sorted(vars(obj)) if not member.startswith("_")]
    return found


def docstring_pairs(modules=MODULES, min_summary=3, max_summary=20, min_body=8):
    """The (name, document, summary) pairs of `modules`, one per distinct summary, sorted by name."""
    pairs, seen = [], set()
    for name, doc in _documented(modules):
        parts = split_docstring(doc) if isinstance(doc, str) else None
        if parts is None:
            continue
        summary, body = parts
        if not (min_summary <= len(summary.split()) <= max_summary and summary.endswith(".")) \
                or len(body.split()) < min_body or summary.lower() in seen:
            continue
        seen.add(summary.lower())
        pairs.append(Pair(name, f"{name_words(name)} : {body}", summary))
    return sorted(pairs)


def is_test(summary, test_percent=15):
    """Whether a pair belongs to the test split: decided by the SHA-256 of its lower-cased summary alone."""
    digest = hashlib.sha256(summary.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < test_percent


def split_pairs(pairs, test_percent=15):
    """(train, test) lists of pairs, split by `is_test`."""
    train = [p for p in pairs if not is_test(p.summary, test_percent)]
    test = [p for p in pairs if is_test(p.summary, test_percent)]
    return train, test
