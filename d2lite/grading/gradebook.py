"""Grade a class's notebooks in parallel and write a gradebook.

`find_submissions` turns a folder or a glob into (student, path) pairs, `grade_all`
grades them (`jobs` at a time, each in its own kernel and temporary folder; each student's
variant of the hidden cases; a GradeCache skips unchanged notebooks) and `write_gradebook`
writes gradebook.csv (one row per student, one column per exercise), gradebook.json
(everything, feedback included), the LMS exports (exports.py) and one feedback file per
student, with a course's late penalties applied. A submission that cannot be graded still
gets its row, with the reason.
"""
import csv
import glob
import hashlib
import html
import io
import itertools
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from d2lite.grading.course import Course
from d2lite.grading.exercise import chapters, exercises_of
from d2lite.grading.exports import canvas_csv, csv_cell, gradescope_results, kept
from d2lite.grading.report import report_html, report_text
from d2lite.grading.scoreboard import render, rows
from d2lite.grading.submission import Limits, Submission, grade_notebook

_MAGIC = re.compile(r"[*?[]")


def _student(path, root):
    """The path below `root` without `.ipynb`, and without the file name when it is a chapter's."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if len(parts) > 1 and parts[-1] in chapters():
        parts.pop()
    return "/".join(parts)


def _walk(root):
    """Every notebook below `root`, and every symbolic link (to a file or a folder), without following links."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink() or (name in files and name.endswith(".ipynb")):
                yield path


def _linked(path, root):
    """True when `path` or a folder between it and `root` is a symbolic link."""
    path = Path(path)
    return any(p.is_symlink() for p in [path, *path.parents] if p != root and root in p.parents)


def find_submissions(target):
    """(student, path) pairs, sorted: `target` is a folder (searched recursively) or a glob pattern.

    Symbolic links are listed but never followed: `grade_all` reports them instead of grading them."""
    target = str(target)
    if Path(target).is_dir():
        root, paths = Path(target), _walk(target)
    else:
        fixed = list(itertools.takewhile(lambda p: not _MAGIC.search(p), Path(target).parts[:-1]))
        root, paths = Path(*fixed) if fixed else Path("."), map(Path, glob.glob(target, recursive=True))
    found = [p for p in paths if (p.is_symlink() or _linked(p, root) or p.is_file())
             and ".ipynb_checkpoints" not in p.parts]
    return sorted((_student(p, root), p) for p in found)


def _symlink_problem(path):
    """Why a path is not graded because a symbolic link leads to it, or ""."""
    path = Path(path)
    link = next((p for p in [path, *path.parents] if p.is_symlink()), None)
    if link is None:
        return ""
    return (f"not graded: {link.name} is a symbolic link (to {os.readlink(link)[:120]}); the grader does not follow "
            "links, so that no submission can point it at files outside the submissions folder. Copy the notebook in "
            "instead")


def _cache_key(cache, path, chapter, limits, seed):
    """The notebook's key in `cache`, or None (no cache; a file that cannot be read: the grader says why)."""
    try:
        return cache.key(path, chapter, limits, seed) if cache else None
    except OSError:
        return None


def _grade_safely(path, chapter, limits, seed=None, cache=None):
    problem = _symlink_problem(path)
    if problem:
        return Submission(str(path), problems=[problem])
    try:
        key = _cache_key(cache, path, chapter, limits, seed)
        sub = cache.get(key) if key else None
        if sub is not None:
            sub.path = str(path)  # the same notebook may have come from another student's folder
            return sub
        sub = grade_notebook(path, chapter, limits, seed)
        if key:
            cache.put(key, sub)
        return sub
    except Exception as e:  # a grader bug must not stop the batch: the row says what happened
        return Submission(str(path), problems=[f"internal grader error: {type(e).__name__}: {e}"])


def grade_all(pairs, chapter=None, limits=None, jobs=1, progress=True, seeds=None, cache=None):
    """Grade every (student, path); returns (student, Submission) pairs in the order given.

    `seeds` maps a student to their variant seed (d2lite.grading.variants); `cache` is a GradeCache."""
    limits = limits or Limits()
    seeds = seeds or {}
    results = [None] * len(pairs)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, \
            tqdm(total=len(pairs), unit="notebook", disable=not progress) as bar:
        futures = {pool.submit(_grade_safely, path, chapter, limits, seeds.get(student), cache): i
                   for i, (student, path) in enumerate(pairs)}
        for future in as_completed(futures):
            results[futures[future]] = (pairs[futures[future]][0], future.result())
            bar.update()
    return results


def _by_student(graded):
    """student -> submissions, one per chapter: a second notebook for a chapter the student already has is
    left out of the grades and reported on the first (`graded` is in find_submissions' order, by path)."""
    students = {}
    for student, sub in graded:
        subs = students.setdefault(student, [])
        first = next((s for s in subs if sub.chapter and s.chapter == sub.chapter), None)
        if first is None:
            subs.append(sub)
        else:
            first.problems.append(f"another notebook for {sub.chapter}, {sub.path}, was not counted: hand in one "
                                  "notebook per chapter")
    return students


def _columns(graded):
    """Every exercise of every chapter graded, in order, with its points."""
    seen = sorted({sub.chapter for _, sub in graded if sub.chapter})
    return [ex for chapter in seen for ex in exercises_of(chapter)]


def _slug(student):
    """The feedback file's name: the student's own when it is plain (lower-case letters, digits, . _ -), else a
    readable form with "~" and a hash of the exact name, so that two students never share a file."""
    if re.fullmatch(r"[a-z0-9_-][a-z0-9._-]*", student):
        return student
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", student.replace("/", "__")).lstrip(".")[:60] or "student"
    return f"{readable}~{hashlib.sha256(student.encode()).hexdigest()[:12]}"


def _feedback(student, subs, fmt, late):
    """One student's feedback file: a table per notebook, lateness, the problems, then every exercise in detail."""
    after = sum(kept(late, student, s.chapter) * s.earned for s in subs)
    earned = sum(s.earned for s in subs)
    total = f"{after:g}/{sum(s.points for s in subs):g}"
    note = f" ({earned:g} before the late penalty)" if after != earned else ""
    lateness = {s.chapter: late[(student, s.chapter)].describe() for s in subs if (student, s.chapter) in late}
    if fmt == "html":
        out = [f"<h1>Feedback for {html.escape(student)}</h1><p>Total: <b>{total}</b>{note}</p>"]
        for s in subs:
            out.append(f"<h2>{html.escape(Path(s.path).name)} ({html.escape(s.chapter or 'chapter unknown')})</h2>")
            if lateness.get(s.chapter):
                out.append(f"<p>🕑 {html.escape(lateness[s.chapter])}</p>")
            out.append(render(rows(s.exercises), "html"))
            out += [f"<p>⚠ {html.escape(p)}</p>" for p in s.problems]
            out += [report_html(e) for e in s.exercises]
        return "<!DOCTYPE html><meta charset='utf-8'>\n" + "\n".join(out) + "\n"
    out = [f"# Feedback for {student}", "", f"Total: **{total}**{note}"]
    for s in subs:
        out += ["", f"## {Path(s.path).name} ({s.chapter or 'chapter unknown'})", ""]
        if lateness.get(s.chapter):
            out += [f"🕑 {lateness[s.chapter]}", ""]
        out.append(render(rows(s.exercises), "markdown"))
        if s.problems:
            out += [""] + [f"- ⚠ {p}" for p in s.problems]
        if s.exercises:
            out += ["", "```text", "\n\n".join(report_text(e) for e in s.exercises), "```"]
    return "\n".join(out) + "\n"


FORMATS = ("csv", "json", "gradescope", "canvas")


def lateness(students, course):
    """(student, chapter) -> Lateness for every notebook of a chapter with a due date in `course`."""
    if course is None:
        return {}
    return {(student, s.chapter): course.lateness(student, s.chapter, s.path)
            for student, subs in students.items() for s in subs if s.chapter in course.due}


def write_atomic(path, text):
    """Write `text` to `path` atomically: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=f".{Path(path).name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _csv_text(students, columns, late):
    possible = sum(ex.points for ex in columns)
    out = io.StringIO()
    writer = csv.writer(out)
    penalised = bool(late)
    writer.writerow(["student"] + [ex.id for ex in columns] + ["total", "possible"]
                    + (["late days", "total after penalty"] if penalised else []) + ["problems"])
    for student, subs in students.items():
        earned = {e.id: e.earned for s in subs for e in s.exercises}
        missing = sorted({ex.chapter for ex in columns} - {s.chapter for s in subs})
        problems = [f"{Path(s.path).name}: {p}" for s in subs for p in s.problems]
        problems += [f"no notebook for {c}" for c in missing]
        extra = []
        if penalised:
            days = sum(late[(student, s.chapter)].days for s in subs if (student, s.chapter) in late)
            extra = [str(days), f"{sum(kept(late, student, s.chapter) * s.earned for s in subs):g}"]
        writer.writerow([csv_cell(student)] + [f"{earned[ex.id]:g}" if ex.id in earned else "" for ex in columns]
                        + [f"{sum(earned.values()):g}", f"{possible:g}"] + extra + [csv_cell(" | ".join(problems))])
    return out.getvalue()


def write_gradebook(graded, out_dir, feedback="md", warning="", formats=("csv", "json"), course=None,
                    environment=None):
    """Write the gradebook in `formats` and feedback/<student>.md (or .html) into `out_dir`; returns the paths.

    csv: gradebook.csv; json: gradebook.json (everything, `warning` such as "not isolated" and the grader's
    `environment` included); gradescope: gradescope/<student>.json; canvas: canvas.csv. With a `course`,
    its late penalties apply to every export and each feedback file says how late the notebook was."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown gradebook format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    columns = _columns(graded)
    chapters_seen = sorted({ex.chapter for ex in columns})
    students = _by_student(graded)
    late = lateness(students, course)
    written = []
    if "csv" in formats:
        written.append(out / "gradebook.csv")
        write_atomic(written[-1], _csv_text(students, columns, late))
    if "json" in formats:
        book = {"exercises": [{"id": ex.id, "title": ex.title, "chapter": ex.chapter, "points": ex.points}
                              for ex in columns],
                "possible": sum(ex.points for ex in columns),
                "students": [{"student": student, "earned": sum(s.earned for s in subs),
                              "after_penalty": sum(kept(late, student, s.chapter) * s.earned for s in subs),
                              "lateness": {s.chapter: late[(student, s.chapter)].to_dict()
                                           for s in subs if (student, s.chapter) in late},
                              "submissions": [s.to_dict() for s in subs]} for student, subs in students.items()]}
        if environment:
            book = {"environment": environment, **book}
        if warning:
            book = {"warning": warning, **book}
        written.append(out / "gradebook.json")
        write_atomic(written[-1], json.dumps(book, indent=1))
    if "gradescope" in formats:
        (out / "gradescope").mkdir(exist_ok=True)
        for student, subs in students.items():
            results = gradescope_results(student, subs, late, chapters_seen)
            write_atomic(out / "gradescope" / f"{_slug(student)}.json", json.dumps(results, indent=1))
        written.append(out / "gradescope")
    if "canvas" in formats:
        written.append(out / "canvas.csv")
        write_atomic(written[-1], canvas_csv(students, chapters_seen, late, course or Course()))
    for student, subs in students.items():
        write_atomic(out / "feedback" / f"{_slug(student)}.{feedback}", _feedback(student, subs, feedback, late))
    return written
