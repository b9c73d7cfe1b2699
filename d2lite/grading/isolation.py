"""Operating-system isolation for a submission's kernel (bubblewrap), and a watch on what it uses.

`bwrap_argv` wraps the kernel's command in bubblewrap (https://github.com/containers/bubblewrap):
new user, PID, network, IPC, UTS and cgroup namespaces; uid and gid 65534 (nobody) inside; a
read-only view of only what Python needs (the system's /usr, the Python install, the
virtual environment and the d2lite package, a few files of /etc), so the solutions, the other
submissions and the grader's output are not there; one writable folder (the submission's
own, outside /tmp and removed by the grader afterwards); the kernel's sockets in a folder of
their own; no network. `--die-with-parent` and the PID namespace mean that every process
the kernel starts dies with the sandbox, whatever it does (setsid, double fork).

`Watch` polls the kernel's process tree from the grader (Linux /proc): CPU seconds used,
resident memory (private anonymous pages plus shared memory, summed over the processes) and
the number of tasks. It stops the whole tree when the memory or task limit is passed,
and the grader counts its time limits in the tree's CPU seconds, so that a verdict does not
depend on how busy the machine is.
"""
import functools
import os
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from pathlib import Path

import d2lite

NOBODY = 65534
MAX_TASKS = 256        # processes and threads of one kernel, all together
POLL_SECONDS = 0.1
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group", "hosts",
        "mime.types")


@functools.lru_cache(maxsize=None)
def unavailable():
    """"" when bubblewrap can make a sandbox here, else why not (one sentence)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    tool = shutil.which("bwrap")
    if tool is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run([tool, "--unshare-all", "--ro-bind", "/", "/", "--uid", str(NOBODY), "true"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap did not run ({e})"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"bubblewrap cannot create namespaces here ({reason})"
    return ""


def _read_only_paths():
    """What the kernel needs to read, as (path, path) pairs for --ro-bind: the system and this Python."""
    package = Path(d2lite.__file__).resolve().parent
    wanted = [Path("/usr"), Path(sys.base_prefix), Path(sys.prefix), package, Path(site.getusersitepackages())]
    wanted += [Path("/etc") / name for name in _ETC]
    found = []
    for path in wanted:
        real = path.resolve()
        if real.exists() and not any(real.is_relative_to(p) for p in found):
            found = [p for p in found if not p.is_relative_to(real)] + [real]
    return sorted(found)


def bwrap_argv(command, writable, sockets, connection_file):
    """`command` wrapped in bubblewrap: `writable` is its working folder, `sockets` where it binds its sockets."""
    argv = [shutil.which("bwrap"), "--unshare-all", "--die-with-parent",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox"]
    for path in _read_only_paths():
        argv += ["--ro-bind", str(path), str(path)]
    for name in ("lib", "lib64", "bin", "sbin"):  # merged /usr (Debian 12, Ubuntu, Fedora) or real folders
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",  # no writable /dev/shm (memory outside RSS)
             "--bind", str(writable), str(writable), "--bind", str(sockets), str(sockets),
             "--ro-bind", str(connection_file), str(connection_file), "--chdir", str(writable),
             "--remount-ro", "/"]  # the sandbox's own root (a tmpfs holding the mount points): RAM outside RSS
    return argv + ["--"] + list(command)


def _children(pid):
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:  # it ended meanwhile
        pass
    return kids


def tree(pid):
    """`pid` and every process below it (a process that left the tree by double-forking is not seen
    without the sandbox; inside it, orphans go to the sandbox's own init, still below `pid`)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def _usage_of(pid):
    """(CPU seconds including reaped children, resident private + shared-memory bytes, tasks) of one process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    rss = tasks = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssShmem"):
                rss += int(value.split()[0]) << 10
            elif key == "Threads":
                tasks = int(value)
    return ticks / os.sysconf("SC_CLK_TCK"), rss, tasks


def usage(pid):
    """(CPU seconds, resident bytes, tasks) summed over the tree below `pid`, or None where /proc can't tell."""
    total = [0.0, 0, 0]
    for p in tree(pid):
        try:
            for i, x in enumerate(_usage_of(p)):
                total[i] += x
        except (OSError, ValueError, IndexError):
            if p == pid:
                return None
    return tuple(total)


def first_inside(pid):
    """The first process bubblewrap `pid` started in its PID namespace (the kernel: pid 2 there), or None."""
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                ids = next(line for line in f if line.startswith("NSpid:")).split()[1:]
        except (OSError, StopIteration):
            continue
        if ids[-1] == "2" and len(ids) > 1:
            return p
    return None


def kill_tree(pid):
    """SIGKILL `pid` and everything below it, leaves first (with the sandbox, the kernel's whole PID namespace)."""
    for p in reversed(tree(pid)):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


class Watch:
    """Polls the tree below `pid`; stops it once it holds more than `memory_mb` resident or MAX_TASKS tasks."""

    def __init__(self, pid, memory_mb):
        self.pid, self.limit = pid, int(memory_mb) << 20
        self.cpu = 0.0 if usage(pid) is not None else None  # None: CPU time unknown (no /proc), go by the clock
        self.peak = 0
        self.stopped = ""  # why the watch stopped the kernel, once it has
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"d2lite-watch-{pid}")
        self._thread.start()

    def _run(self):
        while not self._done.wait(POLL_SECONDS):
            now = usage(self.pid)
            if now is None:
                return
            self.cpu, rss, tasks = now
            self.peak = max(self.peak, rss)
            if rss > self.limit or tasks > MAX_TASKS:
                self.stopped = (f"it used more than {self.limit >> 20} MB of memory" if rss > self.limit else
                                f"it ran more than {MAX_TASKS} processes and threads at once")
                kill_tree(self.pid)
                return

    def clock(self):
        """Seconds to count a time limit in: the tree's CPU time where known, else the wall clock."""
        if self.cpu is None:
            return time.monotonic()
        now = usage(self.pid)
        return now[0] if now is not None else self.cpu

    def close(self):
        self._done.set()
        self._thread.join()
