"""The kernel's in-process limits (sandbox.py): memory counted as written memory, audit events of every
supported Python version."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from d2lite.grading import sandbox
from d2lite.grading.sandbox import make_guard

RESERVE = textwrap.dedent("""
    import json, mmap
    from d2lite.grading.sandbox import limit_resources
    limit_resources(1024)
    out = {}
    try:  # a library reserving address space it never writes to, as a CUDA build of torch does (3 GB)
        reserved = mmap.mmap(-1, 6 << 30, prot=mmap.PROT_READ)
        out["reserve 6 GiB"] = "ok"
    except BaseException as e:
        out["reserve 6 GiB"] = type(e).__name__
    try:
        written = b"x" * (2 << 30)
        out["write 2 GiB"] = "ok"
    except BaseException as e:
        out["write 2 GiB"] = type(e).__name__
    print(json.dumps(out))
""")


def test_the_memory_limit_counts_written_memory_not_reserved_address_space():
    done = subprocess.run([sys.executable, "-c", RESERVE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"reserve 6 GiB": "ok", "write 2 GiB": "MemoryError"}


# Argument lists as each supported Python version raises them (docs.python.org, "Audit events table").
EVENTS = [
    ("shutil.rmtree", lambda p: (p,)),               # 3.10
    ("shutil.rmtree", lambda p: (p, None)),          # 3.11+
    ("os.remove", lambda p: (p, -1)),
    ("os.rmdir", lambda p: (p, -1)),
    ("os.mkdir", lambda p: (p, 0o777, -1)),
    ("os.rename", lambda p: (p, p + "2", -1, -1)),
    ("os.chmod", lambda p: (p, 0o777, -1)),
    ("os.utime", lambda p: (p, None, None, -1)),
    ("os.truncate", lambda p: (p, 0)),
    ("shutil.move", lambda p: (p, p + "2")),
]


@pytest.mark.parametrize("event, args", EVENTS, ids=[f"{e}{len(a('p'))}" for e, a in EVENTS])
def test_file_events_outside_are_refused_whatever_their_argument_list(tmp_path, event, args):
    work = tmp_path / "work"
    work.mkdir()
    guard = make_guard(work)
    with pytest.raises(PermissionError, match=f"d2lite grader refused {event}: .*outside the submission's folder"):
        guard(event, args(str(tmp_path / "outside")))
    guard(event, args(str(work / "mine")))  # inside: allowed


GUARD_ALONE = textwrap.dedent("""
    import importlib.util, os, shutil, sys
    spec = importlib.util.spec_from_file_location("sandbox", sys.argv[1])  # stdlib only: no numpy needed
    sandbox = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sandbox)
    work, outside = sys.argv[2], sys.argv[3]
    sys.addaudithook(sandbox.make_guard(work))
    for name, attempt in [("rmtree", lambda: shutil.rmtree(outside)), ("remove", lambda: os.remove(outside + "/f")),
                          ("mkdir", lambda: os.mkdir(outside + "/d")), ("move", lambda: shutil.move(outside, work))]:
        try:
            attempt()
            print(name, "done")
        except BaseException as e:
            print(name, type(e).__name__, str(e)[:60])
""")


def _pythons():
    """This Python and every other supported one found beside it (pyenv's versions)."""
    found = {sys.executable}
    for version in ("3.10", "3.11", "3.12", "3.13"):
        found.update(str(p) for p in Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python{version}"))
        on_path = shutil.which(f"python{version}")
        if on_path and "/shims/" not in on_path:  # pyenv's shims answer only for the selected version
            found.add(on_path)
    return sorted(found)


@pytest.mark.parametrize("python", _pythons())
def test_the_guard_refuses_with_its_reason_on_every_python_found(tmp_path, python):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "f").write_text("keep")
    done = subprocess.run([python, "-c", GUARD_ALONE, sandbox.__file__, str(work), str(outside)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert " PermissionError d2lite grader refused" in line, (python, line)
    assert (outside / "f").read_text() == "keep"
