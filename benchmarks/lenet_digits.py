"""LeNet on the 8×8 digits: test accuracy and training time, PyTorch (Trainer) and scratch (NumPy).

    .venv/bin/python benchmarks/lenet_digits.py [--seeds 3] [--epochs 20] [--threads 1] [--torch-only]

The torch model trains with d2lite.training.Trainer on d2lite.device(); the
scratch model with d2lite.scratch's SGD in a plain loop. Same settings for both.
Models this small gain nothing from several threads, and on a busy machine
PyTorch's thread pool can slow them down many times over: `--threads 1` avoids that.
"""
import argparse
import time

import numpy as np

import d2lite
from d2lite import scratch
from d2lite.data import load_digits, minibatches, to_loaders
from d2lite.training import Trainer

LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.03, 0.9, 5e-4, 32


def train_torch(split, seed, epochs):
    import d2lite.torch as dt

    d2lite.seed(seed)
    train, test = to_loaders(split, batch_size=BATCH, seed=seed)
    model = dt.lenet()
    optimizer = dt.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    trainer = Trainer(model, optimizer, dt.SoftmaxCrossEntropy(), live=False, progress=False)
    return trainer.fit(train, epochs, test)["test_acc"]


def train_scratch(split, seed, epochs):
    rng = d2lite.seed(seed)
    model, loss = scratch.lenet(rng=rng, dtype=np.float32), scratch.SoftmaxCrossEntropy()
    optimizer = scratch.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    accuracies = []
    for _ in range(epochs):
        for X, y in minibatches(split.X_train, split.y_train, BATCH, rng=rng):
            optimizer.zero_grad()
            loss.forward(model.forward(X), y)
            model.backward(loss.backward())
            optimizer.step()
        accuracies.append(float((model.forward(split.X_test).argmax(axis=1) == split.y_test).mean()))
    return accuracies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--torch-only", action="store_true", help="skip the scratch model")
    parser.add_argument("--threads", type=int, default=None, help="threads for PyTorch and NumPy's BLAS")
    args = parser.parse_args()
    if args.threads:
        d2lite.limit_threads(args.threads)
    split = load_digits(images=True)
    print(f"digits: {len(split.X_train)} train / {len(split.X_test)} test images; SGD lr={LR} "
          f"momentum={MOMENTUM} weight_decay={WEIGHT_DECAY} batch={BATCH}; device {d2lite.device()}")
    runs = [("torch", train_torch)] + [("scratch", train_scratch)] * (not args.torch_only)
    for name, train in runs:
        for seed in range(args.seeds):
            start = time.perf_counter()
            acc = train(split, seed, args.epochs)
            print(f"{name:<8} seed {seed}: test accuracy {acc[-1]:.3f} after {args.epochs} epochs "
                  f"(best {max(acc):.3f}), {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
