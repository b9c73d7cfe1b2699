"""GPU check: the book's PyTorch models take the same training steps on the GPU as on the CPU.

    .venv/bin/python benchmarks/gpu_check.py [--steps 5]      (or: make gpu-check)

For each model it copies one set of initial weights to the CPU and to the GPU
(CUDA, else Apple's MPS), runs `--steps` training steps on the same batches with
the same optimizer in float32 (TF32 switched off, so both do full float32
arithmetic), and compares the losses and the final weights within stated
tolerances: the devices sum in different orders, so the results agree to about
float32 rounding grown over a few steps, not bit for bit. It then times a
training step on each device (synchronising before reading the clock) and reports
the speed-up and the GPU's peak memory. On a machine without a GPU it says so and
exits successfully: there is nothing to compare.
Exit status: 0 if every model agrees (or there is no GPU), 1 otherwise.
"""
import argparse
import copy
import sys
import time

import torch
from torch import nn

import d2lite.torch as dt

LOSS_RTOL = 1e-3      # relative difference allowed between CPU and GPU losses
WEIGHT_ATOL = 1e-3    # absolute difference allowed in any final weight (weights are O(0.1-1))


def models():
    """(name, model factory on the CPU, input shape, number of classes, batch size) of the book's torch models."""
    return [
        ("chapter 1 MLP 64-128-10", lambda: dt.mlp([64, 128, 10], device="cpu"), (64,), 10, 64),
        ("chapter 2 LeNet on 8×8 digits", lambda: dt.lenet(device="cpu"), (1, 8, 8), 10, 64),
        ("chapter 2 LeNet on 28×28 images", lambda: dt.lenet(device="cpu", image_size=28), (1, 28, 28), 10, 128),
        ("chapter 4 MLP with BatchNorm1d", lambda: nn.Sequential(
            dt.Linear(64, 256), dt.BatchNorm1d(256), dt.ReLU(), dt.Linear(256, 256), dt.BatchNorm1d(256),
            dt.ReLU(), dt.Linear(256, 10)), (64,), 10, 128),
        ("chapter 4 CNN with BatchNorm2d on 28×28 glyphs", lambda: nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), dt.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), dt.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 100)), (1, 28, 28), 100, 128),
    ]


def gpu():
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return None


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def train_steps(model, batches, device):
    """Losses of len(batches) Adam steps, and the final weights (on the CPU)."""
    model = model.to(device)
    opt = dt.Adam(model.parameters(), lr=1e-3)
    losses = []
    for X, y in batches:
        loss = nn.functional.cross_entropy(model(X.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu() for p in model.parameters()]


def seconds_per_step(model, X, y, device, repeat=20):
    model, X, y = model.to(device), X.to(device), y.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    for _ in range(3):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    sync(device)
    return (time.perf_counter() - start) / repeat


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20, help="timed steps per model and device")
    args = parser.parse_args()
    device = gpu()
    if device is None:
        print(f"No GPU found (torch {torch.__version__}: CUDA not available, MPS not available): "
              "nothing to compare. The CPU path is what the rest of the test suite checks.")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else {"mps": "Apple MPS"}.get(device.type, str(device))
    print(f"GPU: {name} ({device}), torch {torch.__version__}; {args.steps} Adam steps per model, float32, TF32 off")
    print(f"tolerances: losses rtol {LOSS_RTOL:g}, final weights atol {WEIGHT_ATOL:g}")
    failures = 0
    for label, factory, shape, classes, batch in models():
        torch.manual_seed(0)
        model = factory()
        batches = [(torch.randn(batch, *shape), torch.randint(0, classes, (batch,))) for _ in range(args.steps)]
        cpu_losses, cpu_weights = train_steps(copy.deepcopy(model), batches, torch.device("cpu"))
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        gpu_losses, gpu_weights = train_steps(copy.deepcopy(model), batches, device)
        loss_err = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(cpu_losses, gpu_losses))
        weight_err = max((a - b).abs().max().item() for a, b in zip(cpu_weights, gpu_weights))
        ok = loss_err <= LOSS_RTOL and weight_err <= WEIGHT_ATOL
        failures += not ok
        X, y = batches[0]
        t_cpu = seconds_per_step(copy.deepcopy(model), X, y, torch.device("cpu"), args.repeat)
        t_gpu = seconds_per_step(copy.deepcopy(model), X, y, device, args.repeat)
        peak = f", peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**20:.1f} MiB" if device.type == "cuda" else ""
        print(f"{'ok  ' if ok else 'FAIL'} {label}: loss rel. diff {loss_err:.1e}, weight abs. diff {weight_err:.1e}; "
              f"step {t_cpu * 1e3:.2f} ms CPU, {t_gpu * 1e3:.2f} ms GPU, speed-up {t_cpu / t_gpu:.1f}×{peak}")
    print("all models agree" if not failures else f"{failures} model(s) disagree beyond the tolerances")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
