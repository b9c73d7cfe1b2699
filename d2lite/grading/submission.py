"""Grade one notebook the way an instructor would: in a fresh kernel, with the grader's own checks.

1. Read the notebook (stored outputs are ignored) and tell its chapter.
2. Run its code cells in a new sandboxed kernel (kernel.py, sandbox.py; in bubblewrap when
   `Limits.isolated`, isolation.py) in a temporary folder. Errors do not stop the run; one
   limit on the kernel's CPU time covers all the cells; cells that only call `check(...)`
   are skipped, since the notebook's own checks count for nothing.
3. For each part of each exercise, send the case arguments into the kernel
   (harness.py), read back the reader's outputs as plain data (wire.py), and judge them
   here, with the installed d2lite (runner.judge).

Whatever goes wrong (an unreadable file, a wrong chapter, a kernel that dies or hangs)
becomes a sentence in `Submission.problems`, and exercises that could not be graded
score 0 with status "error"; `grade_notebook` does not raise for a bad submission.
"""
import ast
import dataclasses
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from d2lite.grading import wire
from d2lite.grading.environment import fingerprint
from d2lite.grading.exercise import chapters, exercises_of
from d2lite.grading.flags import routes_to_references
from d2lite.grading.harness import REPLY_MIME, request
from d2lite.grading.runner import NOT_GRADED, Attempt, CaseResult, ExerciseResult, PartResult, judge_all
from d2lite.grading.variants import variant_cases

MAX_NOTEBOOK_BYTES = 50 << 20
_CHECK_ID = re.compile(r"""\bcheck\(\s*["'](\d+)\.(\d+)["']""")


@dataclass
class Limits:
    timeout: float = 300.0              # CPU seconds for all the notebook's cells together
    memory_mb: int = 4096               # resident memory of the kernel and what it starts
    call_timeout: float | None = None   # cap on each graded call (default: the exercise's own limit)
    isolated: bool = False              # run the kernel in bubblewrap (the CLI decides: see cli.py)

    @property
    def cpu_seconds(self):
        """A hard cap on the kernel's CPU time in all, behind the grader's own limits."""
        return 2 * self.timeout + 600


@dataclass
class Submission:
    """The graded result of one notebook."""
    path: str
    chapter: str = ""
    exercises: list = field(default_factory=list)  # ExerciseResult, in the chapter's order
    problems: list = field(default_factory=list)   # what went wrong around the exercises, one sentence each
    seconds: dict = field(default_factory=dict)    # "kernel", "cells", "grading", "total"
    environment: dict = field(default_factory=dict)  # where it was graded (environment.fingerprint)

    @property
    def earned(self):
        return sum(e.earned for e in self.exercises)

    @property
    def points(self):
        return sum(e.points for e in self.exercises)

    @property
    def passed(self):
        return bool(self.exercises) and all(e.passed for e in self.exercises)

    def to_dict(self):
        return {"path": self.path, "chapter": self.chapter, "earned": self.earned, "points": self.points,
                "passed": self.passed, "problems": self.problems, "seconds": self.seconds,
                "environment": self.environment, "exercises": [dict(dataclasses.asdict(e), earned=e.earned, points=e.points, status=e.status,
                                   feedback=e.feedback) for e in self.exercises]}

    @classmethod
    def from_dict(cls, data):
        """The Submission that `to_dict` described (the computed fields are computed again)."""
        exercises = [ExerciseResult(e["id"], e["title"],
                                    [PartResult(p["func"], p["points"], [CaseResult(**c) for c in p["cases"]])
                                     for p in e["parts"]], e.get("seed"))
                     for e in data["exercises"]]
        return cls(data["path"], data["chapter"], exercises, list(data["problems"]), dict(data["seconds"]),
                   dict(data.get("environment", {})))


def _not_graded(part, reason):
    return PartResult(part.func, part.points, [CaseResult("", False, f"{NOT_GRADED}: {reason}")])


def ungraded(exercise, reason):
    """An ExerciseResult with no points because the grader could not get an answer."""
    return ExerciseResult(exercise.id, exercise.title, [_not_graded(p, reason) for p in exercise.parts])


def _read(path):
    """The sources of the notebook's code cells. Plain JSON (nbformat 4): stored outputs are never looked at."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise ValueError("the file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file is {size >> 20} MB, more than a notebook should be")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"it is not valid JSON (line {e.lineno}, column {e.colno}): corrupted or cut short?") from None
    except RecursionError:
        raise ValueError("its JSON is nested far more deeply than a notebook's: corrupted or made by hand?") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("it has no list of cells")
    if nb.get("nbformat") != 4:
        raise ValueError(f"it is in nbformat {nb.get('nbformat')!r}; open and save it in Jupyter to update it to 4")
    sources = []
    for cell in nb["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list) and all(isinstance(line, str) for line in source):
                source = "".join(source)
            if not isinstance(source, str):
                raise ValueError("a code cell's source is not text")
            sources.append(source)
    return sources


def _chapter_number(chapter):
    head = chapter.split("_")[0]
    return int(head) if head.isdigit() else None


def resolve_chapter(path, sources, chapter=None):
    """(chapter to grade the notebook as, a problem or ""): from `chapter`, the file name, or its check() calls."""
    known = chapters()
    ids = sorted({(int(a), int(b)) for a, b in _CHECK_ID.findall("\n".join(sources))})
    numbers = {a for a, _ in ids}
    stem = Path(path).stem
    if chapter is None:
        chapter = stem if stem in known else None
    if chapter is None:
        guesses = [c for c in known if _chapter_number(c) in numbers]
        if len(guesses) != 1:
            return None, ("cannot tell which chapter this notebook is: name the file after its chapter "
                          f"({', '.join(known)}) or give the chapter")
        chapter = guesses[0]
    if chapter not in known:
        return None, f"there is no chapter {chapter!r} (known: {', '.join(known)})"
    if numbers and _chapter_number(chapter) not in numbers:
        found = ", ".join(f"{a}.{b}" for a, b in ids[:4])
        return chapter, f"wrong notebook: it checks exercises {found}, which are not those of {chapter}"
    return chapter, ""


def _only_checks(source):
    """True for a cell that does nothing but call check(...)."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):  # the kernel will say what is wrong
        return False
    return bool(body) and all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                              and isinstance(s.value.func, ast.Name) and s.value.func.id == "check" for s in body)


def _run_cells(kernel, sources, seconds, problems):
    start = kernel.clock()
    errors = []
    for number, source in enumerate(sources, 1):
        if not source.strip() or _only_checks(source):
            continue
        run = kernel.execute(source, timeout=max(seconds - (kernel.clock() - start), 0.1))
        if run.status == "error":
            errors.append(f"code cell {number} raised {run.error}")
        elif run.status == "timeout" and run.error:
            problems.append(f"code cell {number} was stopped: {run.error} (input(), a sleep, a lock or a process "
                            "that never ends?); the cells after it were not run")
            break
        elif run.status == "timeout":
            problems.append(f"time limit: the cells did not finish within {seconds:g} s of CPU time; code cell "
                            f"{number} was stopped (an endless loop?) and the cells after it were not run")
            break
        elif run.status == "died":
            why = f"stopped by the grader: {run.error}" if run.error else ("exit(), os._exit(), a crash or running "
                                                                          "out of memory")
            problems.append(f"the kernel died in code cell {number} ({why}); the cells after it were not run")
            break
    problems.extend(errors[:3])
    if len(errors) > 3:
        problems.append(f"{len(errors) - 3} more cells raised errors")


def _harness_code(function, argument):
    return f"__import__('d2lite.grading.harness', fromlist=[{function!r}]).{function}({argument!r})"


def _genuine(secret):
    """The `keep` test for Kernel.execute: is a display's data a reply carrying `secret`?"""
    def is_reply(data):
        reply = data.get(REPLY_MIME)
        return isinstance(reply, dict) and hmac.compare_digest(str(reply.get("secret", "")).encode(), secret.encode())
    return is_reply


def _the_reply(run):
    """(the harness's reply, "") or (None, why there is none)."""
    if len(run.displays) == 1 and run.status == "ok":
        return run.displays[0][REPLY_MIME], ""
    if len(run.displays) > 1:
        return None, "the kernel answered more than once (was the grader tampered with?)"
    if run.status == "timeout" and run.error:
        return None, f"the call was stopped: {run.error}"
    return None, {"timeout": "the call did not stop at its time limit and was interrupted",
                  "died": "the kernel died while this was being graded (os._exit, a crash or out of memory?)",
                  "error": f"the grader's call failed inside the kernel ({run.error[:200]})"}.get(
                      run.status, "no answer from the kernel")


def _decode_attempt(item, budget):
    case = item["case"] if type(item.get("case")) is int else -1
    inputs = [None if x is None else wire.decode(x, budget=budget) for x in item.get("inputs", [])[:64]]
    if "error" in item:
        return Attempt(error=str(item["error"])[:1000] or "failed.", inputs=inputs, case=case)
    return Attempt(got=wire.decode(item["got"], budget=budget), inputs=inputs, case=case)


def _judged(part, cases, reply):
    """The PartResult for a genuine reply (exactly one attempt per case, in order, or 0 points);
    raises ValueError if the reply is malformed."""
    try:
        if "problem" in reply:
            return PartResult(part.func, part.points, [CaseResult("", False, str(reply["problem"])[:300])])
        items, budget = reply["attempts"], wire.Budget()
        if not isinstance(items, list):
            raise TypeError("attempts is not a list")
        tried = [_decode_attempt(item, budget) for item in items[:len(cases) + 1]]  # one too many is enough to refuse
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None
    return judge_all(part, cases, tried)


def _grade_part(kernel, part, limits, problems, seed):
    if not kernel.alive:
        return _not_graded(part, "the kernel was stopped earlier" if kernel.killed else "the kernel died earlier")
    cases = variant_cases(part, seed)
    timeout = min(part.timeout, limits.call_timeout or part.timeout)
    run = kernel.execute(_harness_code("respond", request(part, cases, timeout)), timeout=len(cases) * timeout + 5,
                         store_history=False, keep=lambda data: False)
    if run.status == "ok":  # only now, with the reader's calls finished, is there a secret to tag the reply with
        secret = secrets.token_hex(16)
        run = kernel.execute(_harness_code("send", secret), timeout=10, store_history=False, keep=_genuine(secret))
    reply, why = _the_reply(run)
    if reply is not None:
        try:
            return _judged(part, cases, reply)
        except ValueError as e:
            why = f"the kernel's answer was malformed ({e})"
    problems.append(f"`{part.func}` not graded: {why}")
    return _not_graded(part, why)


def _grade_in_kernel(sub, sources, exercises, limits, start, seed):
    from d2lite.grading.kernel import Kernel  # only here: a regrade from the cache starts no kernel machinery

    with Kernel(limits.memory_mb, isolated=limits.isolated, cpu_seconds=limits.cpu_seconds) as kernel:
        t = time.monotonic()
        sub.seconds["kernel"] = round(t - start, 3)
        _run_cells(kernel, sources, limits.timeout, sub.problems)
        sub.seconds["cells"] = round(time.monotonic() - t, 3)
        t = time.monotonic()
        for ex in exercises:
            parts = [_grade_part(kernel, part, limits, sub.problems, seed) for part in ex.parts]
            sub.exercises.append(ExerciseResult(ex.id, ex.title, parts, seed))
        sub.seconds["grading"] = round(time.monotonic() - t, 3)


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def grade_notebook(path, chapter=None, limits=None, seed=None):
    """Grade the notebook at `path` as `chapter` (default: told by its name or content); returns a Submission.

    `seed` picks the student's variant of the hidden cases (d2lite.grading.variants; None: the public cases)."""
    limits = limits or Limits()
    start = time.monotonic()
    sub = Submission(str(path), environment=fingerprint())
    try:
        sources = _read(path)
    except (OSError, ValueError) as e:  # missing, unreadable, empty, not UTF-8, not JSON, not a notebook
        sources = None
        sub.problems.append(f"not a readable notebook: {_first_line(e)}")
    found, problem = resolve_chapter(path, sources or [], chapter)
    sub.chapter = found or ""
    if problem and sources is not None:
        sub.problems.append(problem)
    exercises = exercises_of(sub.chapter) if sub.chapter else []
    if sub.problems:  # nothing worth running
        sub.exercises = [ungraded(ex, sub.problems[0]) for ex in exercises]
    else:
        sub.problems.extend(routes_to_references(sources, exercises))
        from d2lite.grading.kernel import KernelFailed

        try:
            _grade_in_kernel(sub, sources, exercises, limits, start, seed)
        except KernelFailed as e:
            sub.problems.append(f"the kernel did not start: {e}")
            sub.exercises = [ungraded(ex, "the kernel did not start") for ex in exercises]
    sub.seconds["total"] = round(time.monotonic() - start, 3)
    return sub
