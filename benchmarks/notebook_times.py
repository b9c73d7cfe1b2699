"""How long each notebook of a chapter takes: wall-clock and CPU time, each in a fresh kernel.

    .venv/bin/python benchmarks/notebook_times.py [chapters/03_sequences] [--timeout 900]

Every notebook runs top to bottom in its own new kernel (nbclient, outputs kept in memory: the files
are not changed). CPU time is the kernel's own (user + system, from the operating system's account of
the finished child process), so it stays meaningful on a busy machine where wall-clock time does not:
a notebook that uses one thread and gets a whole core has wall ≈ CPU. The book's target is under 60 s
on two cores for each notebook.
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebook(path, timeout):
    """(wall seconds, kernel CPU seconds, error or "") for one notebook run in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    cpu, wall, error = children_cpu(), time.perf_counter(), ""
    try:
        client.execute()
    except Exception as e:    # a failing cell: report it and go on with the next notebook
        error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:80] if str(e).strip() else ''}"
    return time.perf_counter() - wall, children_cpu() - cpu, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", nargs="?", default="chapters/03_sequences", help="a folder of notebooks")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args()
    folder = Path(args.chapter)
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        sys.exit(f"no notebooks in {folder}: name a chapter folder such as chapters/03_sequences")
    os.environ.setdefault("D2LITE_PROGRESS", "text")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{'notebook':40s} {'wall s':>8s} {'CPU s':>8s}  status")
    total_wall = total_cpu = 0.0
    for path in notebooks:
        wall, cpu, error = run_notebook(path, args.timeout)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"{path.name:40s} {wall:8.1f} {cpu:8.1f}  {error or ('ok' if wall < 60 else 'over 60 s')}", flush=True)
    print(f"{'total':40s} {total_wall:8.1f} {total_cpu:8.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
