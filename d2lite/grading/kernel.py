"""A fresh, limited kernel for one submission, driven from the grader.

`Kernel` starts `d2lite.grading.sandbox` (memory cap, file guard) as an IPython
kernel whose working directory is a new temporary folder, runs code in it with a
wall-clock limit, and notices when the kernel dies. Everything the kernel sends is
untrusted: messages over MAX_MESSAGE_BYTES are dropped by ZeroMQ before they are read.
"""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from d2lite.grading.sandbox import MEMORY_MB, SANDBOX_DIR

KERNEL_NAME = "d2lite-sandbox"
MAX_MESSAGE_BYTES = 128 << 20
MAX_DISPLAYS = 4  # kept per execution, whatever the kernel sends
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class KernelFailed(RuntimeError):
    """The kernel could not be started."""


@dataclass
class Execution:
    """How running one piece of code went."""
    status: str                                   # "ok", "error", "timeout" or "died"
    error: str = ""                               # "NameError: name 'np' is not defined" when status is "error"
    displays: list = field(default_factory=list)  # data dicts of the display_data messages asked for


def _kernel_specs(folder):
    """A kernelspec manager that knows only the sandboxed kernel."""
    spec_dir = Path(folder) / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "d2lite.grading.sandbox", "-f", "{connection_file}"],
            "display_name": "d2lite grader (sandboxed)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(folder)])


class Kernel:
    """Use as `with Kernel(memory_mb=4096) as k: k.execute(code, timeout)`; the temporary folder goes away after."""

    def __init__(self, memory_mb, startup_timeout=60.0):
        self.memory_mb = memory_mb
        self.startup_timeout = startup_timeout
        self.folder = Path(tempfile.mkdtemp(prefix="d2lite-grade-"))
        self.workdir = self.folder / "work"       # the submission's cwd: the only place it may write
        self.control = self.folder / "control"    # connection file, sockets, kernelspec: the grader's
        self.manager = self.client = None
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
        env = dict(os.environ, **{SANDBOX_DIR: str(self.workdir), MEMORY_MB: str(self.memory_mb),
                                  "TMPDIR": str(self.workdir), "IPYTHONDIR": str(self.workdir / ".ipython"),
                                  "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
        env.update({name: "1" for name in _THREAD_VARIABLES})  # kernels side by side: one core each
        return env

    def _start(self):
        self.workdir.mkdir()
        self.control.mkdir(mode=0o700)
        self.manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=_kernel_specs(self.control / "specs"),
                                     transport="ipc", ip=str(self.control / "ipc"), context=self.context,
                                     connection_file=str(self.control / "connection.json"))
        self.manager.start_kernel(cwd=str(self.workdir), env=self._environment(),  # its output would garble ours:
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = self.manager.client(context=self.context)
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as e:  # the kernel died or did not answer in time
            raise KernelFailed(str(e).strip().splitlines()[0] if str(e).strip() else "no answer") from None

    @property
    def alive(self):
        return self.manager is not None and self.manager.is_alive()

    def execute(self, code, timeout, store_history=True, keep=None):
        """Run `code`; give up after `timeout` seconds (interrupting it, or killing the kernel if that fails).

        The data of the first few displays for which `keep(data)` is true are kept in the Execution.
        """
        if not self.alive:
            return Execution("died")
        msg_id = self.client.execute(code, store_history=store_history, allow_stdin=False)
        outcome = self._collect(msg_id, time.monotonic() + timeout, keep)
        if outcome.status == "timeout":
            self.manager.interrupt_kernel()
            if self._collect(msg_id, time.monotonic() + 3, None).status == "timeout":
                self.manager.shutdown_kernel(now=True)  # it ignored the interrupt: stop it for good
                self.killed = True
        return outcome

    def _collect(self, msg_id, deadline, keep):
        """Read the kernel's messages about `msg_id` until it is idle, dead or out of time."""
        outcome = Execution("ok")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Execution("timeout", displays=outcome.displays)
            try:
                msg = self.client.get_iopub_msg(timeout=min(0.2, left))
            except queue.Empty:
                if not self.alive:
                    return Execution("died", displays=outcome.displays)
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
        if self.manager is not None and self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)
        self.context.destroy(linger=0)
        shutil.rmtree(self.folder, ignore_errors=True)
