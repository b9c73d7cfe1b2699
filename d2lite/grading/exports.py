"""Gradebook exports a learning-management system imports: Gradescope and Canvas.

- Gradescope: an autograder writes `/autograder/results/results.json` for one submission. Each
  part of each exercise is one test (score, max_score, name, number, output, visibility,
  status); the top-level score is the total after any late penalty, and `output` says why.
- Canvas: the gradebook's CSV import. Columns Student, ID, SIS User ID, Section, then one per
  chapter, "Name (assignment id)"; a second row "Points Possible". Canvas matches a row by its
  ID or SIS User ID (from the course's roster; without one, the student id goes in SIS User ID).

Scores are points after the late penalty (`Lateness.keep`, 1 when there is no due date).
"""
import csv
import io

from d2lite.grading.exercise import exercises_of


def kept(late, student, chapter):
    lateness = late.get((student, chapter))
    return lateness.keep if lateness else 1.0


def _tests(sub):
    for ex in sub.exercises:
        for n, part in enumerate(ex.parts, 1):
            bad = part.first_failure
            message = "" if bad is None else (f"{bad.name}: {bad.message}" if bad.name else bad.message)
            yield {"name": f"{ex.id} {ex.title}: {part.func}", "number": f"{ex.id}.{n}",
                   "score": float(part.earned), "max_score": float(part.points),
                   "status": "passed" if part.passed else "failed",
                   "output": message or f"all {len(part.cases)} cases pass", "visibility": "visible"}


def gradescope_results(student, subs, late, chapters=()):
    """Gradescope's results.json (a dict) for one student's Submissions; `chapters` lists the chapters
    expected, so that a missing notebook shows as tests with 0 points."""
    tests, lines, score, seconds = [], [], 0.0, 0.0
    for sub in subs:
        tests += _tests(sub)
        keep = kept(late, student, sub.chapter)
        score += keep * sub.earned
        seconds += sub.seconds.get("total", 0.0)
        lines += [f"{sub.chapter or sub.path}: {p}" for p in sub.problems]
        lateness = late.get((student, sub.chapter))
        if lateness and lateness.describe():
            lines.append(f"{sub.chapter}: {lateness.describe()}")
    for chapter in sorted(set(chapters) - {s.chapter for s in subs}):
        lines.append(f"no notebook for {chapter}")
        tests += [{"name": f"{ex.id} {ex.title}: {part.func}", "number": f"{ex.id}.{n}", "score": 0.0,
                   "max_score": float(part.points), "status": "failed", "output": "no notebook handed in",
                   "visibility": "visible"} for ex in exercises_of(chapter) for n, part in enumerate(ex.parts, 1)]
    possible = sum(t["max_score"] for t in tests)
    return {"score": round(score, 4), "execution_time": int(round(seconds)),
            "output": "\n".join([f"{score:g}/{possible:g} points"] + lines), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def canvas_csv(students, chapters, late, course):
    """The Canvas gradebook import (CSV text): one row per student, one column per chapter."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [f"{c} ({course.canvas_ids[c]})" if c in course.canvas_ids else c for c in chapters]
    writer.writerow(["Student", "ID", "SIS User ID", "Section"] + names)
    writer.writerow(["Points Possible", "", "", ""] + [f"{sum(ex.points for ex in exercises_of(c)):g}"
                                                       for c in chapters])
    for student, subs in students.items():
        who = course.roster.get(student, {})
        earned = {s.chapter: kept(late, student, s.chapter) * s.earned for s in subs}
        writer.writerow([csv_cell(who.get("name") or student), who.get("id", ""),
                         csv_cell(who.get("sis_user_id") or ("" if who.get("id") else student)),
                         csv_cell(who.get("section", ""))] + [f"{earned[c]:g}" if c in earned else "" for c in chapters])
    return out.getvalue()


def csv_cell(text):
    """A CSV cell that no spreadsheet runs as a formula (a leading = + - @, tab or return is quoted)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
