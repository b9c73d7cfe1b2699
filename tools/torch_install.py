"""Install PyTorch into the running Python's environment, choosing the build for this platform.

`make setup` runs this with the virtual environment's Python, before d2lite itself is installed, so
it uses only the standard library. The rules (README, "GPU"):

* a torch already importable here is kept, unless `--spec` asks for something else;
* `--spec` (the Makefile's TORCH_SPEC) is installed as given, e.g. "torch" or
  "torch --index-url https://download.pytorch.org/whl/cu126" for a CUDA build;
* otherwise torch==VERSION: on Linux x86-64 and aarch64 from PyTorch's CPU wheel index (the
  default index's Linux torch is a CUDA build with about 3 GB of NVIDIA libraries), falling back
  to the default index, with one line saying so, where that index cannot be reached; on macOS
  and Windows from the default index, whose builds are already CPU (MPS on Apple) builds.

`--dry-run` prints what would be installed; `--platform SYSTEM/MACHINE` pretends to be another
platform (e.g. `--platform Linux/x86_64`), for the dry run and the tests.
"""
import argparse
import importlib.util
import platform
import shlex
import subprocess
import sys
import urllib.request

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_INDEX_PLATFORMS = {("Linux", "x86_64"), ("Linux", "aarch64")}
PROBE_TIMEOUT_S = 5


def pip_commands(system, machine, version, spec=None, torch_present=False):
    """The pip argument lists to try in turn (an empty list: nothing to install).

    The second list, where there is one, is the fallback used when the first one's index cannot be
    reached or its install fails.
    """
    if spec:
        return [shlex.split(spec)]
    if torch_present:
        return []
    default = [f"torch=={version}"]
    if (system, machine) in CPU_INDEX_PLATFORMS:
        return [["--index-url", CPU_INDEX, *default], default]
    return [default]


def index_reachable(url, timeout=PROBE_TIMEOUT_S):
    """One request with a short time limit and no retries: True when the index answers."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def install(commands, pip, reachable=index_reachable, say=print):
    """Try each command but the last; on an unreachable index or a failure, say so once and go on."""
    if not commands:
        return 0
    *tries, fallback = commands
    for args in tries:
        url = args[args.index("--index-url") + 1]
        if not reachable(url + "/torch/"):
            say(f"torch: {url} cannot be reached; installing torch from the default package index instead")
        elif pip(args) == 0:
            return 0
        else:
            say(f"torch: installing from {url} failed; trying the default package index instead")
    return pip(fallback)


def run_pip(args):
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the torch version installed by default")
    parser.add_argument("--spec", default="", help="install this instead (pip arguments, as one string)")
    parser.add_argument("--platform", help="SYSTEM/MACHINE to plan for instead of this one")
    parser.add_argument("--dry-run", action="store_true", help="print the pip commands, run nothing")
    opts = parser.parse_args(argv)
    system, machine = (opts.platform.split("/") if opts.platform
                       else (platform.system(), platform.machine()))
    present = not opts.platform and importlib.util.find_spec("torch") is not None
    commands = pip_commands(system, machine, opts.version, opts.spec, present)
    if opts.dry_run:
        if not commands:
            print("torch: already installed here, kept")
        for i, args in enumerate(commands):
            print(("if that index cannot be reached or fails: " if i else "") + "pip install " + shlex.join(args))
        return 0
    return install(commands, run_pip)


if __name__ == "__main__":
    sys.exit(main())
