"""Speed of chapter 4's parts: optimizer steps, batch norm, augmentation; scratch (NumPy) beside PyTorch.

    .venv/bin/python benchmarks/training_parts_bench.py [--repeat 5] [--threads 1]

Each figure is the best of `--repeat` runs (wall clock, CPU; one thread by default,
the steadier choice on a busy machine). Optimizers: one step on 1M float32
parameters in 4 tensors. Batch norm: forward + backward of BatchNorm2d(32) on
(64, 32, 14, 14). Augmentation: images per second for 256 images of 28×28.
"""
import argparse
import time

import numpy as np
import torch

import d2lite
import d2lite.torch as dt
from d2lite import scratch
from d2lite.scratch import augment as sa
from d2lite.torch import augment as ta


def best(fn, repeat, number=3):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def optimizers(repeat):
    shapes = [(512, 1024), (1024, 256), (256, 512), (64, 1024)]  # about 1M parameters
    rng = np.random.default_rng(0)
    rows = []
    for name in ("SGD", "Adam"):
        kwargs = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=1e-3)
        sp = [scratch.Parameter(rng.normal(size=s).astype(np.float32)) for s in shapes]
        for p in sp:
            p.grad[...] = rng.normal(size=p.data.shape)
        s_opt = getattr(scratch, name)(sp, **kwargs)
        times = {"scratch (NumPy)": best(s_opt.step, repeat)}
        for label, cls in (("d2lite.torch", getattr(dt, name)), ("torch.optim", getattr(torch.optim, name))):
            tp = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in sp]
            for p, s in zip(tp, sp):
                p.grad = torch.from_numpy(s.grad.copy())
            times[label] = best(cls(tp, **kwargs).step, repeat)
        rows.append((f"{name} step, 1M parameters", times))
    return rows


def batchnorm(repeat):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 32, 14, 14)).astype(np.float32)
    dout = rng.normal(size=x.shape).astype(np.float32)
    s = scratch.BatchNorm2d(32, dtype=np.float32)

    def scratch_step():
        s.forward(x)
        s.backward(dout)

    def torch_step(layer):
        xt = torch.from_numpy(x).requires_grad_()
        layer(xt).backward(torch.from_numpy(dout))
    return [("BatchNorm2d(32) forward+backward, (64, 32, 14, 14)", {
        "scratch (NumPy)": best(scratch_step, repeat),
        "d2lite.torch": best(lambda: torch_step(dt.BatchNorm2d(32)), repeat),
        "torch.nn": best(lambda: torch_step(torch.nn.BatchNorm2d(32)), repeat)})]


def augmentation(repeat):
    x = np.random.default_rng(0).random((256, 1, 28, 28), dtype=np.float32)
    xt = torch.from_numpy(x)
    rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(1)
    rows = []
    for name, s_fn, t_fn in [
        ("random_affine", lambda: sa.random_affine(x, rng), lambda: ta.random_affine(xt, generator=gen)),
        ("random_crop, pad 2", lambda: sa.random_crop(x, 2, rng), lambda: ta.random_crop(xt, 2, gen)),
    ]:
        rows.append((f"{name}, 256 images 28×28 (images/s)", {
            "scratch (NumPy)": len(x) / best(s_fn, repeat), "d2lite.torch": len(x) / best(t_fn, repeat)}))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    d2lite.limit_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, {args.threads} thread(s), best of {args.repeat}")
    for title, rows in (("seconds per call", optimizers(args.repeat) + batchnorm(args.repeat)),
                        ("throughput", augmentation(args.repeat))):
        for name, figures in rows:
            unit = (lambda v: f"{v:,.0f}/s") if title == "throughput" else (lambda v: f"{v * 1e3:.2f} ms")
            print(f"{name}: " + ", ".join(f"{k} {unit(v)}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
