"""A cache of graded notebooks, so that regrading an unchanged class takes seconds.

An entry's key is the SHA-256 of the notebook's bytes, the grader's version (every module of
d2lite outside the exercise bank: engine, references, sandbox), the versions of Python, NumPy
and PyTorch, the chapter asked for, the limits and the variant seed. The entry also stores the chapter the notebook was graded as
and the hash of that chapter's bank module: it counts only while that module is unchanged,
so fixing one exercise regrades the notebooks of its chapter and no others.

Entries are written atomically (a temporary file, then a rename); an entry that cannot be
read is ignored with a warning and graded again.
"""
import dataclasses
import functools
import hashlib
import json
import warnings
from pathlib import Path

import d2lite
from d2lite.grading.environment import bank_hash, fingerprint, source_hash
from d2lite.grading.gradebook import write_atomic
from d2lite.grading.submission import Submission

VERSION = 1  # of the entries' format
_UNCACHED = ("internal grader error", "the kernel did not start")  # problems of the grader, not of the notebook


@functools.cache
def grader_hash():
    """The hash of d2lite's own code outside the exercise bank, and its version."""
    root = Path(d2lite.__file__).parent
    files = [p for p in root.rglob("*.py") if "exercises" not in p.relative_to(root).parts]
    return source_hash(files, extra=d2lite.__version__)


class GradeCache:
    """Graded Submissions stored under `folder`, one JSON file per key; with read=False (--force) every lookup
    misses, and the new results replace the old entries."""

    def __init__(self, folder, read=True):
        self.folder = Path(folder)
        self.read = read
        self.hits = self.misses = 0

    def key(self, path, chapter, limits, seed):
        h = hashlib.sha256(Path(path).read_bytes())
        libraries = {k: v for k, v in fingerprint().items() if k != "bank"}  # the bank counts per chapter
        settings = {"grader": grader_hash(), "libraries": libraries, "chapter": chapter,
                    "limits": dataclasses.asdict(limits), "seed": seed, "format": VERSION}
        h.update(json.dumps(settings, sort_keys=True).encode())
        return h.hexdigest()

    def _file(self, key):
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key):
        """The cached Submission for `key`, or None (absent, stale for its chapter's bank, or unreadable)."""
        file = self._file(key)
        if not self.read or not file.exists():
            self.misses += 1
            return None
        try:
            entry = json.loads(file.read_text())
            if entry["bank"] != bank_hash(entry["submission"]["chapter"]):
                self.misses += 1
                return None
            sub = Submission.from_dict(entry["submission"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            warnings.warn(f"ignored an unreadable cache entry {file} ({type(e).__name__}: {e}); grading again",
                          stacklevel=2)
            self.misses += 1
            return None
        self.hits += 1
        return sub

    def put(self, key, sub):
        """Store `sub` (not when the grader itself failed), atomically."""
        if any(p.startswith(_UNCACHED) for p in sub.problems):
            return
        file = self._file(key)
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps({"bank": bank_hash(sub.chapter), "submission": sub.to_dict()}))
