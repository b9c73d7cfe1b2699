"""The `d2lite` command: `d2lite exercises` regenerates exercises/ from solutions/."""
import argparse
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


def build_parser():
    parser = argparse.ArgumentParser(prog="d2lite", description="Tools for the d2lite book and its exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="regenerate exercises/ from solutions/ (or --check that they agree)")
    ex.add_argument("--solutions", type=Path, default=Path("solutions"))
    ex.add_argument("--exercises", type=Path, default=Path("exercises"))
    ex.add_argument("--check", action="store_true", help="change nothing; exit 1 if exercises/ is out of date")
    ex.set_defaults(run=cmd_exercises)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
