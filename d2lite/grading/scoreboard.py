"""Score tables: one row per exercise (points, status, first line of feedback) and a total.

`scoreboard()` in a notebook shows the table of the chapter from the checks run so far
in this kernel; `d2lite grade` and the gradebook's feedback files print the same table
as text, Markdown or HTML.
"""
import html

from d2lite.grading.exercise import exercises_of, get_exercise

_SESSION = {}  # exercise id -> the latest ExerciseResult of check() in this kernel, the latest checked last
NOT_CHECKED = "not checked"
_COLORS = {"pass": "#1a7f37", "partial": "#9a6700", "todo": "#57606a", NOT_CHECKED: "#57606a"}
_HEADER = ("exercise", "title", "points", "status", "feedback")


def record(result):
    """Remember the latest result of each exercise checked in this session (check() calls this)."""
    _SESSION.pop(result.id, None)
    _SESSION[result.id] = result


def rows(results, exercises=()):
    """Table rows for `results`, plus a "not checked" row for each of `exercises` without a result."""
    done = {r.id: r for r in results}
    table = [(r.id, r.title, r.earned, r.points, r.status, (r.feedback.splitlines() or [""])[0]) for r in results]
    table += [(e.id, e.title, 0.0, e.points, NOT_CHECKED, "") for e in exercises if e.id not in done]
    return sorted(table, key=lambda row: tuple(int(x) for x in row[0].split(".")))


def _cells(row, width=None):
    ex, title, earned, points, status, feedback = row
    if width and len(feedback) > width:
        feedback = feedback[:width - 1] + "…"
    return [ex, title, f"{earned:g}/{points:g}", status, feedback]


def _total(table):
    return f"{sum(r[2] for r in table):g}/{sum(r[3] for r in table):g}"


def render(table, fmt="text", width=90):
    """The rows as a "text" table (feedback cut at `width` characters), "markdown" or "html"."""
    if fmt == "html":
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" if i != 3 else
                             f"<td style='color:{_COLORS.get(c, '#cf222e')}'><b>{html.escape(c)}</b></td>"
                             for i, c in enumerate(_cells(r))) + "</tr>" for r in table)
        head = "".join(f"<th>{h}</th>" for h in _HEADER)
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                f"<tfoot><tr><td></td><td style='text-align:left'><b>total</b></td><td><b>{_total(table)}</b></td>"
                "<td></td><td></td></tr></tfoot></table>")
    if fmt == "markdown":
        lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in table]
        return "\n".join(lines + [f"| | **total** | **{_total(table)}** | | |"])
    cells = [list(_HEADER)] + [_cells(r, width) for r in table] + [["", "total", _total(table), "", ""]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADER) - 1)]
    return "\n".join(("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1]).rstrip() for row in cells)


def scoreboard(chapter=None):
    """Show the score table of `chapter` (default: the chapter of the exercise checked last in this kernel)."""
    from d2lite.grading.report import display_both

    if chapter is None:
        if not _SESSION:
            print("No exercise checked yet in this session: run a check(...) cell first.")
            return
        chapter = get_exercise(list(_SESSION)[-1]).chapter
    exercises = exercises_of(chapter)
    table = rows([r for i, r in _SESSION.items() if get_exercise(i).chapter == chapter], exercises)
    title = f"Scoreboard · {chapter}"
    display_both(f"{title}\n{render(table)}", f"<b>{html.escape(title)}</b>{render(table, 'html')}")
