"""Show grading results: a compact report in a notebook (HTML) or a terminal (text)."""
import html


class ExerciseFailed(Exception):
    """Raised by `check` when an exercise does not pass; shown as one line, not a traceback.

    The message holds the whole feedback (pytest and scripts print it). When the
    report has already been shown in the notebook (`shown`), IPython prints only a
    short pointer to it, so the feedback is not repeated in the red error box.
    """

    def __init__(self, message, shown=False):
        super().__init__(message)
        self.shown = shown

    def _render_traceback_(self):  # IPython uses this instead of a full traceback
        if self.shown:
            return [f"ExerciseFailed: {str(self).split(' (', 1)[0]} does not pass yet: see the report above."]
        return [f"ExerciseFailed: {self}"]


def _points(x):
    return f"{x:g}"


def report_text(result):
    mark = "PASS" if result.passed else "FAIL"
    lines = [f"Exercise {result.id} · {result.title}: {mark}, "
             f"{_points(result.earned)}/{_points(result.points)} points"]
    for part in result.parts:
        n_ok = sum(c.passed for c in part.cases)
        if part.passed:
            lines.append(f"  ✔ {part.func}: all {n_ok} cases pass")
        else:
            bad = part.first_failure
            where = f" [{bad.name}]" if bad.name else ""
            lines.append(f"  ✘ {part.func}{where}: {bad.message}")
    return "\n".join(lines)


def report_html(result):
    color = "#1a7f37" if result.passed else "#cf222e"
    rows = []
    for part in result.parts:
        if part.passed:
            text = f"all {len(part.cases)} cases pass"
        else:
            bad = part.first_failure
            text = (f"<b>{html.escape(bad.name)}</b>: " if bad.name else "") + html.escape(bad.message)
        rows.append(f"<tr><td>{'✔' if part.passed else '✘'}</td><td><code>{html.escape(part.func)}</code></td>"
                    f"<td>{_points(part.earned)}/{_points(part.points)}</td>"
                    f"<td style='text-align:left'>{text}</td></tr>")
    return (f"<div style='border-left:4px solid {color};padding:4px 8px'>"
            f"<b>Exercise {html.escape(result.id)} · {html.escape(result.title)}</b>: "
            f"<span style='color:{color}'>{'PASS' if result.passed else 'FAIL'}</span>, "
            f"{_points(result.earned)}/{_points(result.points)} points"
            f"<table style='margin:4px 0'>{''.join(rows)}</table></div>")


def display_both(text, html_text, metadata=None):
    """Show HTML in a notebook (with the text beside it for other front ends, and `metadata` on the output),
    the text elsewhere.

    Returns True when it was displayed in a notebook, False when printed.
    """
    from d2lite.plotting import in_notebook  # imports matplotlib: only when something is shown

    if in_notebook():
        from IPython.display import display

        display({"text/plain": text, "text/html": html_text}, raw=True, metadata=metadata)
        return True
    print(text)
    return False


def show(result):
    """Display a result: HTML in a notebook (returns True), text elsewhere (returns False).

    In a notebook the output's metadata records this environment (grading.environment), so that the
    grader can tell when the saved notebook last ran under other versions or another exercise bank."""
    from d2lite.grading.environment import FINGERPRINT_KEY, fingerprint

    return display_both(report_text(result), report_html(result), {FINGERPRINT_KEY: fingerprint()})
