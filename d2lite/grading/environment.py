"""The environment a notebook is graded (or was run) in, and where two environments differ.

`fingerprint()` holds the versions of Python, NumPy, PyTorch and d2lite, and a hash of the
exercise bank. `check()` stores the learner's fingerprint in the metadata of its report's
output, so a saved notebook remembers where it last ran; `d2lite grade` compares that with
its own (`drift`). `problems()` checks the installed packages against d2lite's requirements
(`d2lite doctor`).
"""
import functools
import hashlib
import importlib
import importlib.metadata
import platform
import pkgutil
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

FINGERPRINT_KEY = "d2lite"  # the key of an output's metadata that holds the learner's fingerprint


def source_hash(files, extra=""):
    """A short SHA-256 of the files' relative names and bytes (in sorted order), and `extra`."""
    h = hashlib.sha256(extra.encode())
    for f in sorted(map(Path, files)):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def bank_hash(chapter=None):
    """The hash of the exercise bank's modules, or of the modules whose CHAPTER is `chapter` (all, if none is)."""
    import d2lite.exercises as bank

    modules = [importlib.import_module(f"{bank.__name__}.{m.name}") for m in pkgutil.iter_modules(bank.__path__)]
    mine = [m for m in modules if chapter and getattr(m, "CHAPTER", None) == chapter]
    return source_hash(m.__file__ for m in (mine or modules))


@functools.lru_cache(maxsize=None)
def version(package):
    """The installed version of `package`, or None (looked up once per process)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def fingerprint():
    """Where this process grades or runs: Python, NumPy, PyTorch and d2lite versions, the bank's hash."""
    import d2lite

    return {"python": platform.python_version(), "numpy": version("numpy"), "torch": version("torch"),
            "d2lite": d2lite.__version__, "bank": bank_hash()}


def notebook_fingerprint(nb):
    """The fingerprint stored by the last check() whose output the notebook (a dict) kept, or None."""
    found = None
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            meta = output.get("metadata") if isinstance(output, dict) else None
            if isinstance(meta, dict) and isinstance(meta.get(FINGERPRINT_KEY), dict):
                found = meta[FINGERPRINT_KEY]
    return found


def drift(theirs, ours=None):
    """Sentences naming where the notebook's environment `theirs` differs from `ours` (default: this one)."""
    ours = ours or fingerprint()
    said = []
    for key, name in (("bank", "the exercise bank"), ("d2lite", "d2lite"), ("python", "Python"),
                      ("numpy", "NumPy"), ("torch", "PyTorch")):
        if key in theirs and theirs[key] != ours.get(key):
            if key == "bank":
                said.append("the exercises changed since the notebook was last checked (exercise bank "
                            f"{theirs[key]}, the grader's {ours.get(key)}): re-run it with the current d2lite")
            else:
                said.append(f"{name} {theirs[key]} where the notebook last ran, {ours.get(key)} in the grader")
    return said


def _requirements():
    """d2lite's requirements that apply here (extras left out): from pyproject.toml in a checkout of the book (it
    may be newer than the installed package), else from the installed package's metadata."""
    import d2lite

    pyproject = Path(d2lite.__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.exists():
        from d2lite.grading.course import tomllib

        listed = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    else:
        listed = importlib.metadata.requires("d2lite") or []
    reqs = [Requirement(r) for r in listed]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def problems():
    """(name, required, installed, problem) for every requirement of d2lite; problem is "" when it is met."""
    rows = []
    for req in _requirements():
        have = version(req.name)
        if have is None:
            problem = f"not installed: pip install '{req}'"
        else:
            try:
                ok = req.specifier.contains(Version(have), prereleases=True)
            except InvalidVersion:
                ok = False
            problem = "" if ok else f"{have} does not satisfy {req.specifier}: pip install --upgrade '{req}'"
        rows.append((req.name, str(req.specifier), have or "-", problem))
    return rows
