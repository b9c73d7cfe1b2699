"""The OS sandbox (bubblewrap) against submissions that attack their classmates, the grader or the machine.

A class with honest students and attackers is graded in one batch, two at a time, in
sandboxes: each attacker must earn only what its own code earns, each classmate its own
grade; nothing outside the batch's temporary folder changes and no process outlives the
batch. Without the sandbox every attack here works (see docs/grading.md).

These tests need bubblewrap: they skip, with the reason, where it is missing, and fail
instead when the environment variable CI is set (CI installs it: .ci/run).
"""
import csv
import hashlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from d2lite import cli
from d2lite.grading.isolation import NOBODY, unavailable
from d2lite.grading.kernel import Kernel
from grading_corpus import CHAPTER, POINTS, ROOT, insert_after, replace, solutions, stubs, write

WRONG_FORWARD = "def linear_forward(x, W, b):\n    return x @ W\n"
TOKEN = f"d2lite-survivor-{os.getpid()}"


@pytest.fixture(scope="module")
def sandbox_required():
    why = unavailable()
    if why and os.environ.get("CI"):
        pytest.fail(f"CI must run the sandbox tests, but there is no OS sandbox: {why}")
    if why:
        pytest.skip(f"no OS sandbox here ({why}): the isolation tests need bubblewrap")


def _reach_classmate(tmp, marker, code):
    """A cell that waits (up to 60 s) for the kernel whose folder holds the file `marker`, and runs `code` in it."""
    return (f"import glob, os, time\nfrom jupyter_client import BlockingKernelClient\nend = time.time() + 60\n"
            f"while time.time() < end:\n"
            f"    found = glob.glob({str(tmp)!r} + '/d2lite-grade-*/work/{marker}')\n"
            f"    if found:\n"
            f"        c = BlockingKernelClient(connection_file=os.path.dirname(os.path.dirname(found[0]))\n"
            f"                                 + '/control/connection.json')\n"
            f"        c.load_connection_file()\n"
            f"        c.start_channels()\n"
            f"        c.execute({code!r})\n"
            f"        time.sleep(2)\n"
            f"        break\n"
            f"    time.sleep(0.3)\n")


def _victim(nb, marker):
    """`nb`, leaving `marker` in its folder and waiting 20 s after its last exercise (its classmate's chance)."""
    nb = insert_after(nb, "import numpy", f"open({marker!r}, 'w').close()\n")
    return insert_after(nb, 'check("1.7"', "import time\ntime.sleep(20)\n")


def _exec_notebook(path):
    """A cell that runs the code cells of the notebook at `path` (someone else's work) in this kernel."""
    return (f"import json\nfor cell in json.load(open({str(path)!r}))['cells']:\n"
            f"    text = ''.join(cell['source'])\n"
            f"    if cell['cell_type'] == 'code' and 'load_digits' not in text and not text.startswith('check('):\n"
            f"        exec(text)\n")


def _escapes(outside, out, tmp):
    """A cell that tries to write outside its folder around the Python audit hook; each try may fail."""
    return (f"import ctypes, os\ntries = []\n"
            f"def via_dir_fd():\n"
            f"    fd = os.open({str(outside)!r}, os.O_RDONLY)\n"
            f"    os.close(os.open('sentinel.txt', os.O_WRONLY | os.O_TRUNC, dir_fd=fd))\n"
            f"def via_libc():\n"
            f"    ctypes.CDLL(None).system(b'echo 0 > {outside}/pwned.txt; echo 0 > {out}/planted.csv; "
            f"echo 0 > /tmp/{TOKEN}-escaped')\n"
            f"def via_realpath():\n"
            f"    real, os.path.realpath = os.path.realpath, lambda p, **k: os.getcwd()\n"
            f"    try:\n"
            f"        open({str(outside / 'victim' / 'precious.txt')!r}, 'w').write('gone')\n"
            f"    finally:\n"
            f"        os.path.realpath = real\n"
            f"def via_grader_folder():\n"
            f"    import glob\n"
            f"    for path in glob.glob({str(tmp)!r} + '/*/control'):\n"
            f"        open(path + '/mine.txt', 'w')\n"
            f"for attempt in (via_dir_fd, via_libc, via_realpath, via_grader_folder):\n"
            f"    try:\n        attempt()\n    except Exception as e:\n        tries.append(repr(e))\n")


def corpus(root):
    """student -> (notebook, what the student's own code earns)."""
    outside, out, tmp = root / "outside", root / "out", root / "tmp"
    inject = ("import d2lite.exercises.fundamentals as f\n"
              "globals().update({k: v for k, v in vars(f).items() if k[0] != '_'})")
    python = sys.executable.encode()
    return {
        # Graded two at a time in this order: each attacker is graded while its victim still is.
        "a_injector": (insert_after(stubs(), "import numpy", _reach_classmate(tmp, "victim-a", inject)), 0),
        "a_victim": (_victim(stubs(), "victim-a"), 0),
        "b_killer": (insert_after(stubs(), "import numpy", _reach_classmate(tmp, "victim-b", "import os\nos._exit(1)")),
                     0),
        "b_target": (_victim(solutions(), "victim-b"), POINTS),
        "c_alice": (solutions(), POINTS),
        "c_peeker": (insert_after(stubs(), 'check("1.7"', _exec_notebook(ROOT / "solutions" / f"{CHAPTER}.ipynb")),
                     0),
        "d_copier": (insert_after(stubs(), 'check("1.7"', _exec_notebook(root / "submissions" / "c_alice" /
                                                                         f"{CHAPTER}.ipynb")), 0),
        "d_escaper": (insert_after(replace(solutions(), "def linear_forward", WRONG_FORWARD), "import numpy",
                                   _escapes(outside, out, tmp)), POINTS - 2),
        "e_survivor": (insert_after(solutions(), "import numpy",
                                    f"import ctypes\nctypes.CDLL(None).system(b\"setsid sh -c ': {TOKEN}; sleep 90; "
                                    f"echo e_survivor,{POINTS} >> {out}/gradebook.csv' </dev/null >/dev/null 2>&1 "
                                    "&\")\n"), POINTS),
        "e_memory_hog": (insert_after(solutions(), 'check("1.7"',
                                      "import ctypes\nctypes.CDLL(None).system(b'for i in 1 2 3; do " + python.decode()
                                      + " -c \"a = b\\'x\\' * (400 << 20); import time; time.sleep(60)\" & done; "
                                      "wait')\n"), 0),
        "f_forker": (insert_after(solutions(), 'check("1.7"', "import ctypes\nctypes.CDLL(None).system(b'for i in "
                                  "$(seq 400); do sleep 60 & done; wait')\n"), 0),
    }


def _tree(folder):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _survivors():
    """Processes whose command line carries TOKEN."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if TOKEN.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory, sandbox_required):
    root = tmp_path_factory.mktemp("hostile")
    (root / "outside" / "victim").mkdir(parents=True)
    (root / "outside" / "sentinel.txt").write_text("do not touch")
    (root / "outside" / "victim" / "precious.txt").write_text("precious")
    (root / "tmp").mkdir()
    (root / "out").mkdir()
    for student, (nb, _) in corpus(root).items():
        write(nb, root / "submissions" / student / f"{CHAPTER}.ipynb")
    before = _tree(root)
    saved, tempfile.tempdir = tempfile.tempdir, str(root / "tmp")  # the grader's temporary folders go here
    try:
        status = cli.main(["gradebook", str(root / "submissions"), "--out", str(root / "out"), "--jobs", "2",
                           "--timeout", "60", "--call-timeout", "2", "--memory", "1024", "--quiet"])
    finally:
        tempfile.tempdir = saved
    survivors = _survivors()
    for pid in survivors:  # started by this test's own submission: don't leave them to the machine
        os.kill(pid, signal.SIGKILL)
    out = root / "out"
    return {"status": status, "root": root, "before": before, "survivors": survivors, "out": out,
            "rows": {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv"))},
            "json": {s["student"]: s for s in json.loads((out / "gradebook.json").read_text())["students"]}}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("student", list(corpus(Path("/x"))))
def test_everyone_earns_what_their_own_code_earns(batch, student):
    _, honest = corpus(Path("/x"))[student]
    row = batch["rows"][student]
    assert row["total"] == str(honest), row


def test_kernels_cannot_reach_each_other(batch):
    # Without the sandbox the injector gives its victim the references' points and the killer zeroes its target.
    assert batch["rows"]["a_victim"]["total"] == "0" and batch["rows"]["b_target"]["total"] == str(POINTS)
    assert batch["rows"]["b_target"]["problems"] == ""


def test_nothing_outside_the_batch_folder_changes(batch):
    root = batch["root"]
    after = {p: h for p, h in _tree(root).items() if not p.startswith(str(batch["out"]) + os.sep)}
    assert after == batch["before"], set(after.items()) ^ set(batch["before"].items())
    assert not (batch["out"] / "planted.csv").exists() and not Path(f"/tmp/{TOKEN}-escaped").exists()
    assert not list((root / "tmp").iterdir()), "the grader's temporary folders were left behind"


def test_no_process_outlives_the_batch(batch):
    assert not batch["survivors"], f"processes left running: {batch['survivors']}"


def test_limits_on_memory_and_processes_name_the_reason(batch):
    memory = batch["rows"]["e_memory_hog"]["problems"]
    assert "the kernel died in code cell" in memory and "stopped by the grader: it used more than 1024 MB" in memory
    processes = batch["rows"]["f_forker"]["problems"]
    assert "stopped by the grader: it ran more than 256 processes and threads at once" in processes


def test_a_sandboxed_kernel_sees_only_what_it_needs(tmp_path, sandbox_required):
    probe = ("import json, os, socket, sys\n"
             "def fails(f):\n    try:\n        f()\n        return False\n    except OSError:\n        return True\n"
             f"print(json.dumps({{'uid': os.getuid(), 'pid': os.getpid(), 'root': sorted(os.listdir('/')),\n"
             f"  'tmp': os.listdir('/tmp'), 'repo': sorted(os.listdir({str(ROOT)!r})), 'home': os.environ['HOME'],\n"
             f"  'net': fails(lambda: socket.create_connection(('127.0.0.1', 22), timeout=1)),\n"
             f"  'usr': fails(lambda: open('/usr/d2lite-test', 'w')),\n"
             f"  'here': os.path.exists({str(tmp_path)!r}), 'secret': 'SECRET_TOKEN' in os.environ}}))\n")
    os.environ["SECRET_TOKEN"] = "x"
    try:
        with Kernel(memory_mb=1024, isolated=True) as kernel:
            run = kernel.execute(f"from IPython.display import display\nimport io, contextlib\nbuf = io.StringIO()\n"
                                 f"with contextlib.redirect_stdout(buf):\n    exec({probe!r})\n"
                                 "display({'text/plain': buf.getvalue()}, raw=True)", timeout=30, keep=lambda d: True)
    finally:
        del os.environ["SECRET_TOKEN"]
    seen = json.loads(run.displays[0]["text/plain"])
    assert seen["uid"] == NOBODY and seen["pid"] == 2  # its own PID namespace: the sandbox's init is 1
    # the package and the environment (.venv, or .venv-3.10 in make test-matrix): no solutions/, tests/, ...
    venv = {Path(sys.prefix).name} if Path(sys.prefix).parent == ROOT else set()
    assert set(seen["repo"]) <= {"d2lite"} | venv
    # /tmp holds the kernel's own folder, and the mount point of the package where the checkout itself is in /tmp
    checkout = {ROOT.relative_to("/tmp").parts[0]} if ROOT.is_relative_to("/tmp") else set()
    assert set(seen["tmp"]) - checkout == {Path(kernel.folder).name} and seen["home"].startswith(str(kernel.folder))
    assert seen["net"] and seen["usr"] and not seen["here"] and not seen["secret"]


def test_without_a_sandbox_grade_says_so_and_gradebook_refuses_unless_told(tmp_path, monkeypatch, capsys):
    write(solutions(), tmp_path / "subs" / "ann" / f"{CHAPTER}.ipynb")
    monkeypatch.setattr("d2lite.grading.isolation.unavailable", lambda: "bubblewrap is not installed")
    assert cli.main(["grade", str(tmp_path / "subs" / "ann" / f"{CHAPTER}.ipynb")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("Not isolated (bubblewrap is not installed)") and len(err.splitlines()) == 1
    assert cli.main(["gradebook", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "Refusing to grade other people's notebooks without an OS sandbox" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert cli.main(["gradebook", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--quiet", "--no-sandbox",
                     "--jobs", "1"]) == 0
    book = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    assert book["warning"].startswith("NOT ISOLATED (--no-sandbox was given)")
    assert book["students"][0]["earned"] == POINTS
    assert "Warning: NOT ISOLATED" in capsys.readouterr().out
