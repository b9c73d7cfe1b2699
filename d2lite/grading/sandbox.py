"""Start a submission's kernel under limits: a memory cap and a guard on files, processes and signals.

The grader launches kernels as `python -m d2lite.grading.sandbox -f CONNECTION_FILE`
(inside bubblewrap when it isolates them: isolation.py) with the environment variables
below. Before the IPython kernel starts, this module

- caps the memory a process can write to (RLIMIT_DATA: heap and private writable
  mappings, not the address space a library merely reserves, such as a CUDA build of
  torch's 3 GB) at D2LITE_MEMORY_MB, so a huge allocation raises MemoryError instead of
  taking the machine down; the grader also sums the resident memory of all the kernel's
  processes (isolation.Watch); caps CPU time at D2LITE_CPU_SECONDS, file sizes and core dumps;
- installs a Python audit hook (it cannot be removed) that raises PermissionError for
  writing, creating, deleting, renaming or changing files outside D2LITE_SANDBOX_DIR,
  for starting processes (a shell command would escape the hook), for signalling other
  processes and for raising the limits above.

The audit hook is a guard against accidents and ordinary code, not a sandbox against a
determined attacker: Python code can step around it (native code through ctypes, paths
relative to a folder descriptor, ...). Against hostile submissions the grader relies on
the operating system's isolation (bubblewrap); see docs/grading.md.
"""
import os
import resource
import signal
import sys

SANDBOX_DIR = "D2LITE_SANDBOX_DIR"
MEMORY_MB = "D2LITE_MEMORY_MB"
CPU_SECONDS = "D2LITE_CPU_SECONDS"
ISOLATED = "D2LITE_ISOLATED"  # set when the kernel runs in bubblewrap
MAX_FILE_BYTES = 1 << 30
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_ALWAYS_WRITABLE = {os.devnull}

# event -> ((index of a changed path, index of its dir_fd or None), ...), whether links are followed.
# Argument lists differ between Python versions (shutil.rmtree gained dir_fd in 3.11): an index past the
# end of the event's arguments means "not given".
_FILE_EVENTS = {
    "os.remove": (((0, 1),), False), "os.rmdir": (((0, 1),), False), "os.mkdir": (((0, 2),), False),
    "os.rename": (((0, 2), (1, 3)), False), "os.link": (((0, 2), (1, 3)), False), "os.symlink": (((1, 2),), False),
    "os.chmod": (((0, 2),), True), "os.chown": (((0, 3),), True), "os.utime": (((0, 3),), True),
    "os.truncate": (((0, None),), True), "os.setxattr": (((0, None),), True), "os.removexattr": (((0, None),), True),
    "shutil.rmtree": (((0, 1),), False), "shutil.move": (((0, None), (1, None)), False),
    "sqlite3.connect": (((0, None),), True),
}
_PROCESS_EVENTS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                   "subprocess.Popen", "pty.spawn"}
_LIMIT_EVENTS = {"resource.setrlimit", "resource.prlimit"}


def _resolve(path, dir_fd=None, follow=True):
    """The absolute path an operation on `path` touches (links followed only where the operation follows them)."""
    path = os.fsdecode(path)
    if dir_fd is not None and dir_fd >= 0 and not os.path.isabs(path):  # audit events say -1 for "no dir_fd"
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
    path = os.path.abspath(path)
    if follow:
        return os.path.realpath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def make_guard(root):
    """The audit hook that confines changes to the folder `root`."""
    root = os.path.realpath(root)
    pid = os.getpid()

    def inside(path, dir_fd=None, follow=True):
        if isinstance(path, int) or path in (None, ":memory:", ""):
            return True  # an open file descriptor (checked when it was opened) or an in-memory database
        try:
            target = _resolve(path, dir_fd, follow)
        except OSError:
            return False
        return target == root or target.startswith(root + os.sep) or target in _ALWAYS_WRITABLE

    def refuse(what, path=None):
        why = "not allowed while grading" if path is None else f"{os.fsdecode(path)} is outside the submission's folder"
        raise PermissionError(f"d2lite grader refused {what}: {why}")

    def guard(event, args):
        if event == "open":
            path, mode, flags = args
            if flags & _WRITE_FLAGS:
                if not inside(path):
                    refuse("writing a file", path)
            elif mode is None and not inside(path) and os.path.isdir(path):
                refuse("opening a folder with os.open", path)
        elif event in _FILE_EVENTS:
            paths, follow = _FILE_EVENTS[event]
            for at, fd_at in paths:
                dir_fd = args[fd_at] if fd_at is not None and fd_at < len(args) else None
                if at < len(args) and not inside(args[at], dir_fd, follow):
                    refuse(event, args[at])
        elif event in _PROCESS_EVENTS:
            refuse(f"starting a process ({event})")
        elif event == "os.killpg" or (event == "os.kill" and args[0] != pid):
            refuse(f"signalling another process ({event})")
        elif event in _LIMIT_EVENTS:
            refuse("changing resource limits")

    return guard


def limit_resources(memory_mb, cpu_seconds=None):
    """Cap writable memory, CPU time, file size and core dumps (hard limits too, so the kernel cannot raise them)."""
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds)))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises OSError instead of killing


def main(argv=None):
    limit_resources(os.environ[MEMORY_MB], os.environ.get(CPU_SECONDS))
    if os.environ.get(ISOLATED):  # its parent is the sandbox's init, which dies with the grader (--die-with-parent);
        os.environ.pop("JPY_PARENT_PID", None)  # ipykernel would take that parent for a dead grader
    sys.addaudithook(make_guard(os.environ[SANDBOX_DIR]))
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance(argv=sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
