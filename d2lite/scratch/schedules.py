"""Learning-rate schedules: the learning rate as a function of the step count t = 0, 1, 2, ...

Each schedule is a plain function `f(t, lr, ...)` of the step and the base rate;
`Scheduler` applies one to an optimizer: call `step()` once per optimizer step
(or once per epoch, if t counts epochs). d2lite.torch.schedules uses the same functions.
"""
import math


def step_lr(t, lr, step_size, gamma=0.1):
    """lr · γ^⌊t / step_size⌋: multiply by γ every `step_size` steps (torch's StepLR)."""
    return lr * gamma ** (t // step_size)


def exponential_lr(t, lr, gamma):
    """lr · γᵗ (torch's ExponentialLR)."""
    return lr * gamma ** t


def cosine_warmup_lr(t, lr, warmup, total, min_lr=0.0):
    """A linear warm-up to `lr` over `warmup` steps, then a half cosine down to `min_lr` at step `total`.

    Warm-up: lr·(t + 1)/warmup for t < warmup (it reaches lr at t = warmup − 1).
    Then min_lr + (lr − min_lr)·(1 + cos(π·(t − warmup)/(total − warmup)))/2, and min_lr after `total`.
    """
    if not 0 <= warmup < total:
        raise ValueError(f"need 0 <= warmup < total, got warmup={warmup}, total={total}")
    if t < warmup:
        return lr * (t + 1) / warmup
    progress = min(t - warmup, total - warmup) / (total - warmup)
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2


def inverse_sqrt_lr(t, lr, warmup):
    """The Transformer's schedule: linear warm-up to `lr` at step `warmup`, then lr·√(warmup / s), s = t + 1."""
    s = t + 1
    return lr * min(s / warmup, math.sqrt(warmup / s))


class Scheduler:
    """Sets `optimizer.lr = schedule(t)`; `step()` advances t. Starts at t = 0.

    `schedule` is a function of t alone, e.g. `lambda t: cosine_warmup_lr(t, 0.1, 5, 100)`.
    """

    def __init__(self, optimizer, schedule):
        self.optimizer, self.schedule, self.t = optimizer, schedule, 0
        optimizer.lr = schedule(0)

    def step(self):
        self.t += 1
        self.optimizer.lr = self.schedule(self.t)
