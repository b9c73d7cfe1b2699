"""A course file: the course's name, its secret, due dates and the late-penalty rule (TOML).

    name = "Deep learning, spring term"
    secret_env = "D2LITE_COURSE_SECRET"      # or: secret = "..." (keep the file private then)
    times = "submitted.csv"                   # optional: student,chapter,submitted (ISO 8601); else file times
    roster = "roster.csv"                     # optional: student,name,id,sis_user_id,section (for Canvas)

    [late]
    percent_per_day = 10                      # points lost per started day late, in % of the notebook's score
    max_percent = 50                          # at most this much
    grace_minutes = 15                        # later than the due date by less than this is on time

    [chapters.01_fundamentals]
    due = 2026-03-01T23:59:00+01:00
    canvas_id = 1234                          # optional: the Canvas assignment's id

`load_course` reads and checks the file; `Course.lateness` tells how late one notebook is
and what fraction of its points it keeps.
"""
import csv
import math
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser before 3.11 (a dependency there)
    import tomli as tomllib


class CourseError(ValueError):
    """The course file is wrong; the message says where and what to write instead."""


@dataclass
class LateRule:
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    grace_minutes: float = 0.0


@dataclass
class Lateness:
    """How late one notebook came in: `days` started days after the grace period, `keep` the fraction of points."""
    submitted: datetime | None
    due: datetime | None
    days: int = 0
    keep: float = 1.0

    def describe(self):
        if self.due is None:
            return ""
        when = self.submitted.isoformat(timespec="minutes") if self.submitted else "unknown"
        if self.days == 0:
            return f"submitted {when}, due {self.due.isoformat(timespec='minutes')}: on time"
        return (f"submitted {when}, due {self.due.isoformat(timespec='minutes')}: {self.days} day(s) late, "
                f"penalty {100 * (1 - self.keep):g}% (points kept: {100 * self.keep:g}%)")

    def to_dict(self):
        return {"submitted": self.submitted.isoformat() if self.submitted else None,
                "due": self.due.isoformat() if self.due else None, "days": self.days, "keep": self.keep}


@dataclass
class Course:
    name: str = ""
    secret: str = ""
    due: dict = field(default_factory=dict)        # chapter -> aware datetime
    canvas_ids: dict = field(default_factory=dict)  # chapter -> Canvas assignment id
    late: LateRule = field(default_factory=LateRule)
    times: dict = field(default_factory=dict)      # (student, chapter) -> aware datetime, from the times file
    roster: dict = field(default_factory=dict)     # student -> {"name", "id", "sis_user_id", "section"}

    def submitted_at(self, student, chapter, path):
        """When the notebook came in: the times file's entry (for the chapter or for all: chapter "*"), else the
        file's modification time."""
        for key in ((student, chapter), (student, "*")):
            if key in self.times:
                return self.times[key]
        try:
            return datetime.fromtimestamp(os.stat(path, follow_symlinks=False).st_mtime, timezone.utc)
        except OSError:
            return None

    def lateness(self, student, chapter, path):
        due = self.due.get(chapter)
        if due is None:
            return Lateness(None, None)
        submitted = self.submitted_at(student, chapter, path)
        if submitted is None:
            return Lateness(None, due)
        late = (submitted - due).total_seconds() - 60 * self.late.grace_minutes
        days = math.ceil(late / 86400) if late > 0 else 0
        lost = min(days * self.late.percent_per_day, self.late.max_percent, 100.0)
        return Lateness(submitted, due, days, round(1 - lost / 100, 6))


def _when(value, where):
    """An aware datetime from a TOML date/datetime or an ISO 8601 string; a bare date means its end (23:59:59),
    a time without a zone means UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CourseError(f"{where}: {value!r} is not a date; write it as 2026-03-01T23:59:00+01:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if not isinstance(value, datetime):
        raise CourseError(f"{where}: {value!r} is not a date; write it as 2026-03-01T23:59:00+01:00")
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _number(table, key, default, where, low=0.0, high=math.inf):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise CourseError(f"{where}.{key}: {value!r} should be a number from {low:g} to {high:g}")
    return float(value)


def _rows(path, needed, what):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise CourseError(f"cannot read the {what} file {path}: {e.strerror}") from None
    missing = [c for c in needed if rows and c not in rows[0]]
    if missing:
        raise CourseError(f"{path}: the {what} file needs the columns {', '.join(needed)}; missing {', '.join(missing)}")
    return rows


def _times(path):
    times = {}
    for n, row in enumerate(_rows(path, ("student", "chapter", "submitted"), "submission times"), 2):
        times[(row["student"], row["chapter"] or "*")] = _when(row["submitted"], f"{path}, line {n}")
    return times


def load_course(path, known_chapters=()):
    """The Course in the TOML file at `path`; raises CourseError with a clear message when something is wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CourseError(f"cannot read the course file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise CourseError(f"{path} is not valid TOML: {e}") from None
    unknown = set(data) - {"name", "secret", "secret_env", "times", "roster", "late", "chapters"}
    if unknown:
        raise CourseError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; see docs/grading.md, 'Course file'")
    secret = data.get("secret", "")
    if "secret_env" in data:
        secret = os.environ.get(data["secret_env"], "")
        if not secret:
            raise CourseError(f"{path}: secret_env names {data['secret_env']}, which is not set; "
                              f"export {data['secret_env']}=... before grading")
    late = data.get("late", {})
    rule = LateRule(_number(late, "percent_per_day", 0, "late"), _number(late, "max_percent", 100, "late", high=100),
                    _number(late, "grace_minutes", 0, "late"))
    course = Course(name=str(data.get("name", "")), secret=str(secret), late=rule)
    for chapter, table in data.get("chapters", {}).items():
        if known_chapters and chapter not in known_chapters:
            raise CourseError(f"{path}: there is no chapter {chapter!r} (known: {', '.join(known_chapters)})")
        if "due" in table:
            course.due[chapter] = _when(table["due"], f"chapters.{chapter}.due")
        if "canvas_id" in table:
            course.canvas_ids[chapter] = str(table["canvas_id"])
    base = path.parent
    if "times" in data:
        course.times = _times(base / data["times"])
    if "roster" in data:
        course.roster = {r["student"]: r for r in _rows(base / data["roster"], ("student",), "roster")}
    return course
