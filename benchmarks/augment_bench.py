"""Augmentation throughput on the CPU: d2lite.torch.augment against its NumPy twin d2lite.scratch.augment, in images/s.

    .venv/bin/python benchmarks/augment_bench.py [--batch 256] [--repeat 5] [--number 10] [--threads 1] [--clock cpu]

Each transform runs on a batch of 1×28×28 glyphs (d2lite.data.load_glyphs("test")),
float32 for torch and float64 for NumPy (its default), with the parameters of
section 4.6 (±15°, zoom 0.85–1.15, shift ±12%, crop padding 3, noise σ 0.1). For
scale, one training step (forward, backward, Adam) of the glyph CNN of sections
4.6 and 4.7 (d2lite.torch.lenet(image_size=28), 100 classes) on the same batch.
"""
import argparse

import numpy as np
import torch

import d2lite
import d2lite.torch as dt
from conv_bench import best_times, clocks, machine_line
from d2lite.data import load_glyphs
from d2lite.scratch import augment as np_augment
from d2lite.torch import augment as torch_augment


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=10, help="calls per timed run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=list(clocks), default="wall")
    args = parser.parse_args()
    d2lite.limit_threads(args.threads)
    d2lite.seed(0)
    rng = np.random.default_rng(0)
    images = load_glyphs("test").images[:args.batch]
    x, x_np = torch.from_numpy(images), images.astype(np.float64)
    chain = torch_augment.Augment(degrees=15, scale=(0.85, 1.15), shift=0.12, noise=0.1)
    net = dt.lenet(device="cpu", image_size=28, num_classes=100)
    optimizer = torch.optim.Adam(net.parameters())
    labels = torch.randint(0, 100, (len(x),))

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        dt.cross_entropy(net(x), labels).backward()
        optimizer.step()

    fns = {
        "random affine, torch": lambda: torch_augment.random_affine(x, 15, (0.85, 1.15), 0.12),
        "random affine, NumPy": lambda: np_augment.random_affine(x_np, rng, 15, (0.85, 1.15), 0.12),
        "random crop, torch": lambda: torch_augment.random_crop(x, 3),
        "random crop, NumPy": lambda: np_augment.random_crop(x_np, 3, rng),
        "noise, torch": lambda: torch_augment.add_noise(x, 0.1),
        "noise, NumPy": lambda: np_augment.add_noise(x_np, 0.1, rng),
        "Augment(affine + noise), torch": lambda: chain(x),
        "CNN training step (for scale)": train_step,
    }
    times = best_times(fns, args.repeat, args.number, clocks[args.clock])
    print(f"{machine_line()}; batch {len(x)}, 1×28×28; {args.clock} clock, "
          f"best of {args.repeat} runs of {args.number} calls")
    step = times["CNN training step (for scale)"]
    for name, seconds in times.items():
        print(f"{name:<32}{len(x) / seconds:>12,.0f} images/s{seconds / step:8.3f}× a training step")


if __name__ == "__main__":
    main()
