"""A fresh, limited kernel for one submission, driven from the grader.

`Kernel` starts `d2lite.grading.sandbox` (memory cap, file guard) as an IPython
kernel whose working directory is a new temporary folder, inside bubblewrap when
`isolated` (isolation.py), runs code in it with a time limit, and notices when the
kernel dies. Time limits count the CPU seconds of the kernel's processes, not the
clock, so a verdict does not depend on how busy the machine is; the clock only stops a
kernel that neither works nor answers (WALL_FACTOR times the limit, plus WALL_SLACK), and a
cell that waits without computing (IDLE_SECONDS with almost no CPU) sooner.
Everything the kernel sends is untrusted: messages over MAX_MESSAGE_BYTES are dropped
by ZeroMQ before they are read.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from d2lite.grading.isolation import Watch, bwrap_argv, first_inside, kill_tree
from d2lite.grading import limits  # the clock's limits: a kernel that sleeps or waits is stopped too
from d2lite.grading.sandbox import CPU_SECONDS, ISOLATED, MEMORY_MB, SANDBOX_DIR

KERNEL_NAME = "d2lite-sandbox"
MAX_MESSAGE_BYTES = 128 << 20
MAX_DISPLAYS = 4  # kept per execution, whatever the kernel sends
INTERRUPT_GRACE = 2.0             # CPU seconds an interrupted kernel may use before it is killed (15 s on the clock)
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_PASSED_ON = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")  # into the sandbox; nothing else of the grader's environment


class KernelFailed(RuntimeError):
    """The kernel could not be started."""


@dataclass
class Execution:
    """How running one piece of code went."""
    status: str                                   # "ok", "error", "timeout" or "died" (error then says why, if known)
    error: str = ""                               # "NameError: name 'np' is not defined" when status is "error"
    displays: list = field(default_factory=list)  # data dicts of the display_data messages asked for


def _kernel_specs(folder, argv):
    """A kernelspec manager that knows only the sandboxed kernel, started by `argv`."""
    spec_dir = Path(folder) / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": argv, "display_name": "d2lite grader (sandboxed)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(folder)])


class Kernel:
    """Use as `with Kernel(memory_mb=4096) as k: k.execute(code, timeout)`; the temporary folder goes away after.

    `memory_mb` limits resident memory (the kernel and everything it starts, together), `cpu_seconds` (if
    given) the kernel's CPU time in all; `isolated` runs it in bubblewrap (isolation.unavailable() must be "").
    """

    def __init__(self, memory_mb, startup_timeout=120.0, isolated=False, cpu_seconds=None):
        self.memory_mb = memory_mb
        self.startup_timeout = startup_timeout
        self.isolated, self.cpu_seconds = isolated, cpu_seconds
        self.folder = Path(tempfile.mkdtemp(prefix="d2lite-grade-"))
        self.workdir = self.folder / "work"       # the submission's cwd: the only place it may write
        self.control = self.folder / "control"    # connection file, sockets, kernelspec: the grader's
        self.sockets = self.control / "sockets"   # the kernel's ZeroMQ sockets (the only part of control it sees)
        self.manager = self.client = self.watch = None
        self.killed = False                       # True once the grader had to stop a runaway kernel
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _environment(self):
        base = {k: v for k, v in os.environ.items() if k in _PASSED_ON} if self.isolated else dict(os.environ)
        env = dict(base, **{SANDBOX_DIR: str(self.workdir), MEMORY_MB: str(self.memory_mb),
                            "TMPDIR": str(self.workdir), "IPYTHONDIR": str(self.workdir / ".ipython"),
                            "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
        if self.isolated:
            env.update({"HOME": str(self.workdir), "MPLCONFIGDIR": str(self.workdir / ".matplotlib"), ISOLATED: "1"})
        if self.cpu_seconds:
            env[CPU_SECONDS] = str(int(self.cpu_seconds))
        env.update({name: "1" for name in _THREAD_VARIABLES})  # kernels side by side: one core each
        return env

    def _argv(self, connection_file):
        argv = [sys.executable, "-m", "d2lite.grading.sandbox", "-f", str(connection_file)]
        return bwrap_argv(argv, self.workdir, self.sockets, connection_file) if self.isolated else argv

    def _start(self):
        self.workdir.mkdir()
        self.control.mkdir(mode=0o700)
        self.sockets.mkdir(mode=0o700)
        connection_file = self.control / "connection.json"
        specs = _kernel_specs(self.control / "specs", self._argv(connection_file))
        self.manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc",
                                     ip=str(self.sockets / "kernel"), context=self.context,
                                     connection_file=str(connection_file))
        self.manager.start_kernel(cwd=str(self.workdir), env=self._environment(),  # its output would garble ours:
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.watch = Watch(self.manager.provisioner.process.pid, self.memory_mb)
        self.client = self.manager.client(context=self.context)
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as e:  # the kernel died or did not answer in time
            raise KernelFailed(str(e).strip().splitlines()[0] if str(e).strip() else "no answer") from None

    @property
    def alive(self):
        return self.manager is not None and self.manager.is_alive()

    def clock(self):
        """The kernel's CPU seconds so far (its whole process tree), or the wall clock where that is unknown."""
        return self.watch.clock()

    @property
    def stopped(self):
        """Why the grader stopped the kernel for using too much (memory, processes), or ""."""
        return self.watch.stopped if self.watch else ""

    def execute(self, code, timeout, store_history=True, keep=None):
        """Run `code`; give up after `timeout` CPU seconds of the kernel, or WALL_FACTOR * timeout + WALL_SLACK
        seconds on the clock (interrupting it, or killing the kernel if that fails).

        The data of the first few displays for which `keep(data)` is true are kept in the Execution.
        """
        if not self.alive:
            return Execution("died", self.stopped)
        msg_id = self.client.execute(code, store_history=store_history, allow_stdin=False)
        outcome = self._collect(msg_id, timeout, keep)
        if outcome.status == "timeout":
            self._interrupt()
            if self._collect(msg_id, INTERRUPT_GRACE, None, wall=15.0).status == "timeout":
                self.manager.shutdown_kernel(now=True)  # it ignored the interrupt: stop it for good
                self.killed = True
        return outcome

    def _interrupt(self):
        """SIGINT to the kernel. In the sandbox, to the kernel alone: bubblewrap itself would die of it."""
        if not self.isolated:
            self.manager.interrupt_kernel()
            return
        pid = first_inside(self.watch.pid)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:  # it ended meanwhile
                pass

    def _collect(self, msg_id, budget, keep, wall=None):
        """Read the kernel's messages about `msg_id` until it is idle, dead or out of time: `budget` seconds
        on the watch's clock (CPU time where known) or `wall` seconds on the clock (default from `budget`)."""
        outcome = Execution("ok")
        busy_cpu, busy_at = self.watch.clock(), time.monotonic()  # CPU time at the last sign of work, and when
        deadline = busy_cpu + budget
        by_cpu = self.watch.cpu is not None
        wall_deadline = busy_at + (wall or (limits.WALL_FACTOR * budget + limits.WALL_SLACK if by_cpu else budget))
        while True:
            cpu, now = self.watch.clock(), time.monotonic()
            if cpu >= deadline or now >= wall_deadline:
                return Execution("timeout", displays=outcome.displays)
            if not by_cpu or cpu - busy_cpu >= limits.IDLE_CPU:
                busy_cpu, busy_at = cpu, now
            elif now - busy_at >= limits.IDLE_SECONDS:
                return Execution("timeout", f"it waited {now - busy_at:.0f} s without computing", outcome.displays)
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.alive:
                    return Execution("died", self.stopped, displays=outcome.displays)
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "error":
                outcome.status = "error"
                outcome.error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".strip().rstrip(":")
            elif kind == "display_data" and keep and len(outcome.displays) < MAX_DISPLAYS and keep(content["data"]):
                outcome.displays.append(content["data"])
            elif kind == "status" and content.get("execution_state") == "idle":
                return outcome

    def close(self):
        if self.client is not None:
            self.client.stop_channels()
        if self.watch is not None:
            self.watch.close()
            kill_tree(self.watch.pid)  # whatever the kernel started goes with it
        if self.manager is not None and self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)
        self.context.destroy(linger=0)
        shutil.rmtree(self.folder, ignore_errors=True)
