"""LeNet speed in PyTorch: d2lite.torch.lenet (fused kernels, and unfold) against the same network in torch.nn.

    .venv/bin/python benchmarks/lenet_bench.py [--repeat 7] [--number 10] [--threads 1] [--clock cpu]

One training step each (forward, cross-entropy, backward) on a batch of 64 28×28
images, float32, on the CPU. The three models have the same layers and the same
weights: d2lite.torch.lenet(image_size=28) as the notebooks train it (F.conv2d and
F.max_pool2d inside), the same with fused=False (convolution by unfold + matmul,
pooling by unfold + max: the versions that teach), and the architecture written
with torch.nn. Ratios are against torch.nn; each time is the best of `--repeat` runs.
"""
import argparse

import torch
from torch import nn
from torch.nn import functional as F

import d2lite
import d2lite.torch as dt
from conv_bench import best_times, clocks, machine_line


def torch_nn_lenet():
    """d2lite.torch.lenet(image_size=28), layer for layer, from torch.nn."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def copy_weights(ours, reference):
    """Load d2lite's parameters into the torch.nn model (its Linear stores the transpose)."""
    with torch.no_grad():
        for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
            q.copy_(p.T if p.ndim == 2 else p)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=10, help="steps per timed run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=list(clocks), default="wall")
    args = parser.parse_args()
    d2lite.limit_threads(args.threads)
    d2lite.seed(0)
    models = {"d2lite.torch.lenet": dt.lenet(device="cpu", image_size=28),
              "torch.nn": torch_nn_lenet(),
              "d2lite.torch.lenet(fused=False)": dt.lenet(device="cpu", image_size=28, fused=False)}
    copy_weights(models["d2lite.torch.lenet"], models["torch.nn"])
    models["d2lite.torch.lenet(fused=False)"].load_state_dict(models["d2lite.torch.lenet"].state_dict())
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    logits = [m(x) for m in models.values()]
    assert all(torch.allclose(logits[0], other, atol=1e-5) for other in logits[1:]), "the models must agree"

    def step(model):
        def run():
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
        return run

    times = best_times({name: step(m) for name, m in models.items()}, args.repeat, args.number, clocks[args.clock])
    print(f"{machine_line()}; batch 64, 1×28×28, float32; {args.clock} clock, "
          f"best of {args.repeat} runs of {args.number} steps")
    reference = times["torch.nn"]
    for name, seconds in times.items():
        print(f"{name:<34}{seconds * 1e3:8.2f} ms per step (forward + backward){seconds / reference:7.2f}× torch.nn")


if __name__ == "__main__":
    main()
