"""The `d2lite` command.

  d2lite exercises [--check]            regenerate exercises/ from solutions/ (or check they agree)
  d2lite grade PATH... [--json]         grade notebooks in fresh kernels and print score tables
  d2lite gradebook TARGET --out DIR     grade a class's submissions into a gradebook
"""
import argparse
import json
import os
import sys
from pathlib import Path


def cmd_exercises(args):
    from d2lite.grading.notebooks import sync_exercises

    stale = sync_exercises(args.solutions, args.exercises, check=args.check)
    if args.check:
        if stale:
            print("Out of date with solutions/: " + ", ".join(map(str, stale)) + "\nRun: d2lite exercises")
            return 1
        print("exercises/ is up to date with solutions/.")
        return 0
    print(f"Wrote {len(stale)} notebook(s)" + (": " + ", ".join(map(str, stale)) if stale else "; all up to date."))
    return 0


def _limits(args, isolated):
    from d2lite.grading.submission import Limits

    return Limits(timeout=args.timeout, memory_mb=args.memory, call_timeout=args.call_timeout, isolated=isolated)


def _why_not_isolated(args):
    """"" when kernels will run in the OS sandbox, else why not."""
    from d2lite.grading.isolation import unavailable

    return "--no-sandbox was given" if args.no_sandbox else unavailable()


def _notebooks(paths):
    """The notebooks named, with folders replaced by the notebooks directly inside them."""
    found = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return found


def cmd_grade(args):
    from d2lite.grading.gradebook import grade_all
    from d2lite.grading.scoreboard import render, rows

    paths = _notebooks(args.paths)
    why_not = _why_not_isolated(args)
    if why_not:
        print(f"Not isolated ({why_not}): the notebook runs as you, guarded only against accidents; "
              "fine for your own work, not for other people's.", file=sys.stderr)
    graded = [sub for _, sub in grade_all([(str(p), p) for p in paths], args.chapter, _limits(args, not why_not),
                                          args.jobs, progress=False)]
    if args.json:
        print(json.dumps([sub.to_dict() for sub in graded], indent=1))
    else:
        for sub in graded:
            print(f"{sub.path} ({sub.chapter or 'chapter unknown'}): {sub.earned:g}/{sub.points:g} points")
            if sub.exercises:
                print(render(rows(sub.exercises)))
            for problem in sub.problems:
                print(f"  ! {problem}")
            print()
    return 0 if graded and all(sub.passed for sub in graded) else 1


def cmd_gradebook(args):
    from d2lite.grading.gradebook import find_submissions, grade_all, write_gradebook

    why_not = _why_not_isolated(args)
    if why_not and not args.no_sandbox:
        print(f"Refusing to grade other people's notebooks without an OS sandbox: {why_not}.\n"
              "Install bubblewrap (see docs/grading.md, 'Grading on a shared server'), or pass --no-sandbox "
              "if every notebook is trusted.", file=sys.stderr)
        return 2
    pairs = find_submissions(args.target)
    if not pairs:
        print(f"No notebooks found in {args.target}.", file=sys.stderr)
        return 1
    warning = (f"NOT ISOLATED ({why_not}): each kernel ran as the grader's user, guarded only by Python hooks."
               if why_not else "")
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
    graded = grade_all(pairs, args.chapter, _limits(args, not why_not), args.jobs, progress=not args.quiet)
    csv_path = write_gradebook(graded, args.out, args.feedback, warning=warning)
    flagged = sum(bool(sub.problems) for _, sub in graded)
    print(f"Graded {len(graded)} notebook(s) into {csv_path}, {Path(args.out) / 'gradebook.json'} and "
          f"{Path(args.out) / 'feedback'}/" + (f"; {flagged} with problems (see that column)." if flagged else ".")
          + (f"\nWarning: {warning}" if warning else ""))
    return 0


def _grading_options(parser, jobs):
    parser.add_argument("--chapter", help="grade every notebook as this chapter (default: from file name or content)")
    parser.add_argument("--jobs", type=int, default=jobs, help=f"notebooks graded at once (default {jobs})")
    parser.add_argument("--timeout", type=float, default=300,
                        help="CPU seconds for all of a notebook's cells together (default 300)")
    parser.add_argument("--memory", type=int, default=4096,
                        help="resident memory per kernel in MB, all its processes together (default 4096)")
    parser.add_argument("--call-timeout", type=float, default=None,
                        help="cap in CPU seconds on each graded call (default: each exercise's own, 10 s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without the OS sandbox (bubblewrap), as your own user: trusted notebooks "
                             "only (default: the sandbox when it is available; gradebook refuses without it)")


def build_parser():
    parser = argparse.ArgumentParser(prog="d2lite", description="Tools for the d2lite book and its exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="regenerate exercises/ from solutions/ (or --check that they agree)")
    ex.add_argument("--solutions", type=Path, default=Path("solutions"))
    ex.add_argument("--exercises", type=Path, default=Path("exercises"))
    ex.add_argument("--check", action="store_true", help="change nothing; exit 1 if exercises/ is out of date")
    ex.set_defaults(run=cmd_exercises)
    grade = sub.add_parser("grade", help="run notebooks in fresh kernels and print a score table each",
                           description="Run each notebook in a fresh, limited kernel, grade its exercises with the "
                                       "installed d2lite (its own check cells do not count) and print a score table. "
                                       "Exit status 0 only when every exercise passes.")
    grade.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
    grade.add_argument("--json", action="store_true", help="print the results as JSON")
    _grading_options(grade, jobs=1)
    grade.set_defaults(run=cmd_grade)
    book = sub.add_parser("gradebook", help="grade a class's submissions into a CSV/JSON gradebook and feedback files",
                          description="Grade every notebook under TARGET (a folder, e.g. submissions/<student>/"
                                      "<chapter>.ipynb, or a quoted glob), each in its own kernel and temporary "
                                      "folder, and write gradebook.csv, gradebook.json and feedback/<student>.md "
                                      "to --out.")
    book.add_argument("target", help="a folder searched for *.ipynb, or a glob such as 'subs/*/01_*.ipynb'")
    book.add_argument("--out", type=Path, required=True, help="folder for the gradebook and feedback files")
    book.add_argument("--feedback", choices=["md", "html"], default="md", help="feedback file format (default md)")
    book.add_argument("--quiet", action="store_true", help="no progress bar")
    _grading_options(book, jobs=os.cpu_count() or 1)
    book.set_defaults(run=cmd_gradebook)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
