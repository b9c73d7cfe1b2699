"""Run the test suite under several Pythons, each in its own virtual environment (`make test-matrix`).

For each version asked for, finds an interpreter (pyenv's newest X.Y.Z, else `pythonX.Y` on the
PATH), sets up `.venv-X.Y` with `make setup`, runs the suite there and prints one line: set-up time,
venv size, torch build and pytest's summary. A version that is not on this machine gets a line
saying it was skipped. `--lower-bounds X.Y` adds `.venv-lower`: Python X.Y with every requirement
in pyproject.toml pinned to its lower bound. Each run's output is kept in the venv's
`matrix.log`. The exit status is 0 only when every run passed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# core: all but the chapter notebooks and the browser tests (those need the [book] extra, which only the default
# .venv installs, and check the book and JupyterLab rather than the Python version)
SUITES = {"full": [], "core": ["tests", "solutions", "--ignore=tests/test_browser.py"]}


def lower_bound_pins(pyproject_text):
    """'name==X' for every quoted requirement 'name>=X' in pyproject.toml (build, run and every extra)."""
    found = re.findall(r'"([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*>=\s*([0-9][^",;\s]*)', pyproject_text)
    return [f"{name}=={version}" for name, version in found]


def _patch_versions(root, version):
    pattern = re.compile(re.escape(version) + r"\.(\d+)$")
    found = [(int(m.group(1)), p) for p in Path(root).glob(version + ".*") if (m := pattern.match(p.name))]
    return [p / "bin" / f"python{version}" for _, p in sorted(found, reverse=True)]


def find_python(version, pyenv_root=None, which=shutil.which):
    """The interpreter for 'X.Y': pyenv's newest patch release, else pythonX.Y on the PATH, else None."""
    pyenv_root = pyenv_root or os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")
    candidates = _patch_versions(Path(pyenv_root) / "versions", version) + [which(f"python{version}")]
    for exe in candidates:
        if exe and _reports_version(exe, version):
            return str(exe)
    return None


def _reports_version(exe, version):
    # pyenv's shims exist on the PATH for every version and fail unless that version is selected.
    try:
        out = subprocess.run([str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def summary(log_text):
    """pytest's closing line ('496 passed, 2 failed in 300.1s') and its FAILED/ERROR lines."""
    lines = log_text.splitlines()
    closing = [m.group(1) for line in lines if (m := re.match(r"^=+ (.*\d+ (?:passed|failed|error).*?) =+$", line))]
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return (closing[-1] if closing else "no pytest summary"), failures


def venv_size(path):
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True)
    return f"{int(out.stdout.split()[0]) / 1024**2:.1f} GB" if out.returncode == 0 else "?"


def run_one(label, python, venv, suite, make_args=(), env=None, pytest_args=()):
    """Set up venv with `make setup`, run the suite, print one line; True when everything passed."""
    venv = ROOT / venv
    venv.mkdir(exist_ok=True)
    log = venv / "matrix.log"
    with open(log, "w") as out:
        start = time.monotonic()
        setup = subprocess.call(["make", "--no-print-directory", "setup", f"VENV={venv.name}",
                                 f"PYTHON={python}", *make_args], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        setup_s = time.monotonic() - start
        if setup != 0:
            print(f"{label}: set-up FAILED after {setup_s:.0f} s (see {log.relative_to(ROOT)})", flush=True)
            return False
        torch = subprocess.run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
                               capture_output=True, text=True).stdout.strip() or "?"
        out.write(f"\n=== torch {torch}; pytest ===\n")
        out.flush()
        start = time.monotonic()
        status = subprocess.call([str(venv / "bin" / "python"), "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
                                  *SUITES[suite], *pytest_args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        test_s = time.monotonic() - start
    result, failures = summary(log.read_text())
    print(f"{label}: set-up {setup_s:.0f} s, venv {venv_size(venv)}, torch {torch}; "
          f"{suite} suite: {result} (wall {test_s:.0f} s)", flush=True)
    for line in failures:
        print(f"    {line}", flush=True)
    return status == 0


def find_or_say(version):
    python = find_python(version)
    if python is None:
        print(f"Python {version}: not found on this machine (pyenv or python{version} on the PATH), skipped",
              flush=True)
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", help="Python versions, e.g. 3.10 3.13")
    parser.add_argument("--suite", choices=SUITES, default="full",
                        help="full: the whole suite; core: without the chapter notebooks and the browser tests")
    parser.add_argument("--lower-bounds", metavar="X.Y",
                        help="also run this Python with every requirement at its lower bound")
    parser.add_argument("--pytest-args", default="", help="further pytest arguments, as one string")
    opts = parser.parse_args(argv)
    pytest_args = opts.pytest_args.split()
    ok = True
    for version in opts.versions:
        python = find_or_say(version)
        if python:
            ok &= run_one(f"Python {version}", python, f".venv-{version}", opts.suite, pytest_args=pytest_args)
    if opts.lower_bounds and (python := find_or_say(opts.lower_bounds)):
        venv = ROOT / ".venv-lower"
        venv.mkdir(exist_ok=True)
        pins = lower_bound_pins((ROOT / "pyproject.toml").read_text())
        (venv / "lower-bounds.txt").write_text("\n".join(pins) + "\n")
        torch = next(p.split("==")[1] for p in pins if p.startswith("torch=="))
        # PIP_CONSTRAINT reaches every pip that make setup starts, build environments included.
        env = dict(os.environ, PIP_CONSTRAINT=str(venv / "lower-bounds.txt"))
        ok &= run_one(f"Python {opts.lower_bounds}, lower bounds", python, venv.name, opts.suite,
                      make_args=[f"TORCH_VERSION={torch}"], env=env, pytest_args=pytest_args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
