"""Convolution speed: d2lite.scratch (NumPy) against PyTorch on the CPU, at LeNet's shapes, float32.

    .venv/bin/python benchmarks/conv_bench.py [--repeat 7] [--threads 1] [--clock cpu]

For each layer it times forward + backward (dx, dweight, dbias) of the fast
NumPy Conv2d (im2col + matmul) and of torch.nn.functional.conv2d with
autograd, and the forward pass alone of the loop version (it has no backward)
against PyTorch's forward. Each figure is the best of `--repeat` runs, which
is the least disturbed by other work on the machine. Ratios are NumPy / PyTorch.
`--threads N` gives both libraries N threads (PyTorch's intra-op pool and NumPy's
BLAS); on a busy machine one thread each is the steadier comparison, and with
one thread `--clock cpu` (process CPU time instead of wall time) leaves out the
time spent waiting for a core. With more threads CPU time counts every thread's work.
"""
import argparse
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

import d2lite
from d2lite import scratch

# (name, batch, C_in, H=W, C_out, kernel): LeNet-5's two convolutions.
SHAPES = [("conv1 1->6 28x28 k5", 64, 1, 28, 6, 5), ("conv2 6->16 14x14 k5", 64, 6, 14, 16, 5)]
# wall time, or the process's CPU time (which leaves out waiting for a core; with one thread only)
clocks = {"wall": time.perf_counter, "cpu": time.process_time}


def machine_line():
    """Cores, load average, torch version and its thread count: the header of a benchmark's report."""
    return (f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__} with "
            f"{torch.get_num_threads()} thread(s)")


def best_times(fns, repeat, number, clock=time.perf_counter):
    """Seconds per call of each function: the best of `repeat` runs of `number` calls each.

    The runs of the functions take turns, so a burst of other work on the
    machine hits them alike. One warm-up call each comes first.
    """
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (clock() - start) / number)
    return best


def measure(batch, c_in, size, c_out, k, repeat, number, clock):
    rng = np.random.default_rng(0)
    layer = scratch.Conv2d(c_in, c_out, k, rng=rng, dtype=np.float32)
    x = rng.standard_normal((batch, c_in, size, size)).astype(np.float32)
    dout = rng.standard_normal(layer.forward(x).shape).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(layer.weight.data.copy()).requires_grad_()
    tb = torch.from_numpy(layer.bias.data.copy()).requires_grad_()
    tdout = torch.from_numpy(dout)

    def numpy_step():
        layer.forward(x)
        layer.backward(dout)

    def torch_step():
        tx.grad = tw.grad = tb.grad = None
        F.conv2d(tx, tw, tb).backward(tdout)

    def torch_forward():
        with torch.no_grad():
            F.conv2d(tx, tw, tb)

    def loops_forward():
        scratch.conv2d_loops(x, layer.weight.data, layer.bias.data)

    times = best_times({"torch": torch_step, "numpy": numpy_step, "torch_fwd": torch_forward}, repeat, number, clock)
    times.update(best_times({"loops_fwd": loops_forward}, max(1, repeat // 3), 1, clock))  # slow: fewer runs
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20, help="calls per timed run")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: as set up)")
    parser.add_argument("--clock", choices=list(clocks), default="wall")
    args = parser.parse_args()
    from threadpoolctl import threadpool_info

    if args.threads:
        d2lite.limit_threads(args.threads)

    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; numpy {np.__version__} with {', '.join(blas) or 'unknown BLAS'}; "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    clock = clocks[args.clock]
    print(f"float32, {args.clock} clock, best of {args.repeat} runs; ratio = NumPy time / PyTorch time\n")
    header = (f"{'layer (batch 64)':<22}{'torch f+b':>11}{'numpy f+b':>11}{'ratio':>7}"
              f"{'torch fwd':>11}{'loops fwd':>11}{'ratio':>8}")
    print(header)
    print("-" * len(header))
    for name, *shape in SHAPES:
        r = measure(*shape, args.repeat, args.number, clock)
        print(f"{name:<22}{r['torch'] * 1e3:>9.2f}ms{r['numpy'] * 1e3:>9.2f}ms{r['numpy'] / r['torch']:>6.2f}x"
              f"{r['torch_fwd'] * 1e3:>9.2f}ms{r['loops_fwd'] * 1e3:>9.1f}ms{r['loops_fwd'] / r['torch_fwd']:>7.0f}x")


if __name__ == "__main__":
    main()
