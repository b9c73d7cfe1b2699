"""Trainer overhead: d2lite's Trainer against a bare PyTorch loop, same model, data, optimizer and batches.

    .venv/bin/python benchmarks/trainer_bench.py [--repeat 11] [--epochs 3] [--threads 1]

Models: chapter 1's MLP on the 8×8 digits (64-128-10, batch 50) and a wider MLP
(64-1024-1024-10, batch 256), so that the fixed cost per batch shows against a
small and a larger step. The bare loop does forward, loss, zero_grad, backward
and step, nothing else; the Trainer does the same plus its bookkeeping (loss and
accuracy summed on the device, progress bar, one read per epoch; no live plot, no
test set). Runs take turns (who goes first alternates) and each figure is the
median of `--repeat`, in CPU time of this process with one thread (`--threads 1`),
which leaves out time spent waiting for a core on a busy machine; the overhead is
the median of the per-round ratios Trainer / bare loop, so that a slow spell that
hits both runs of a round cancels. A second bare loop in every round, set against
the first in the same way, shows the noise floor: an overhead smaller than the
bare loop's difference from itself cannot be told from noise on that run. On a
GPU the clock is wall time after a synchronisation.

On a busy machine the end-to-end ratio is noisy (a few percent either way), so the
script also times the Trainer's per-batch bookkeeping alone (summing loss and
accuracy, advancing the progress bar) and prints it as a share of a bare step.
"""
import argparse
import io
import os
import platform
import statistics
import time

import torch
from tqdm.std import tqdm

import d2lite
import d2lite.torch as dt
from d2lite.data import load_digits, to_loaders
from d2lite.training import Trainer, _Tally, accuracy_metric

MODELS = [("chapter 1 MLP 64-128-10, batch 50", [64, 128, 10], 50),
          ("wide MLP 64-1024-1024-10, batch 256", [64, 1024, 1024, 10], 256)]


def bare_loop(model, optimizer, loss_fn, loader, epochs, device):
    model.train()
    for _ in range(epochs):
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def setup(sizes, batch, device, split):
    d2lite.seed(0)
    model = dt.mlp(sizes, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train, _ = to_loaders(split, batch_size=batch, seed=0)
    return model, optimizer, dt.SoftmaxCrossEntropy(), train


def timed(prepare, run, device, clock):
    """Seconds taken by run(*prepare()), the preparation (model, loader) left out."""
    args = prepare()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = clock()
    run(*args)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return clock() - start


def bookkeeping_seconds(batch, device, clock, calls=2000, repeat=5):
    """Seconds per batch of what the Trainer adds to a bare step: tally.add (chunked sums) and bar.update."""
    outputs, y = torch.randn(batch, 10, device=device), torch.randint(0, 10, (batch,), device=device)
    loss = torch.ones((), device=device)
    bar = tqdm(total=calls * repeat, file=io.StringIO())  # what d2lite.progress draws, into a buffer
    best = float("inf")
    for _ in range(repeat):
        tally = _Tally({"acc": accuracy_metric}, device)
        start = clock()
        for _ in range(calls):
            tally.add(loss, outputs, y)
            bar.update(1)
        tally.results({"acc": accuracy_metric})
        best = min(best, (clock() - start) / calls)
    bar.close()
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    d2lite.limit_threads(args.threads)
    os.environ.setdefault("D2LITE_PROGRESS", "text")
    device = d2lite.device()
    clock = time.process_time if device.type == "cpu" and args.threads == 1 else time.perf_counter
    print(f"device {device}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} thread(s), median of {args.repeat}, {args.epochs} epochs each, clock {clock.__name__}")
    split = load_digits()
    for name, sizes, batch in MODELS:
        def prepare():
            return setup(sizes, batch, device, split)

        def trainer(model, optimizer, loss_fn, loader):
            Trainer(model, optimizer, loss_fn, device=device, live=False, progress=True).fit(loader, args.epochs)

        def bare(*a):
            bare_loop(*a, args.epochs, device)

        runs = {"bare loop": bare, "bare loop again": bare, "Trainer": trainer}
        times = {label: [] for label in runs}
        for run in runs.values():  # warm-up
            timed(prepare, run, device, clock)
        for i in range(args.repeat):
            order = list(runs) if i % 2 == 0 else list(runs)[::-1]  # alternate who goes first
            for label in order:
                times[label].append(timed(prepare, runs[label], device, clock))
        median = {label: statistics.median(t) for label, t in times.items()}

        def paired_ratio(label):
            return statistics.median(t / b for t, b in zip(times[label], times["bare loop"]))

        paired, floor = paired_ratio("Trainer"), paired_ratio("bare loop again")
        print(f"{name}: median bare loop {median['bare loop'] * 1e3:.1f} ms, Trainer {median['Trainer'] * 1e3:.1f} ms, "
              f"ratio {median['Trainer'] / median['bare loop']:.3f}; median of the {args.repeat} paired ratios "
              f"{paired:.3f} (overhead {100 * (paired - 1):+.1f}%); best of each: ratio "
              f"{min(times['Trainer']) / min(times['bare loop']):.3f}; noise floor: the bare loop against "
              f"itself {floor:.3f} ({100 * (floor - 1):+.1f}%)")
        per_batch = median["bare loop"] / (args.epochs * -(-len(split.X_train) // batch))
        extra = bookkeeping_seconds(batch, device, clock)
        print(f"    bookkeeping alone: {extra * 1e6:.1f} µs per batch = {100 * extra / per_batch:.2f}% "
              f"of a bare step ({per_batch * 1e6:.0f} µs)")


if __name__ == "__main__":
    main()
