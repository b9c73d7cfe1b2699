"""Weight initialisation: draw weights whose scale keeps activations and gradients steady through depth.

Fans follow the book's layouts: a dense weight is (inputs, outputs), so
fan_in = shape[0]; a convolution weight is (C_out, C_in, kh, kw), so
fan_in = C_in·kh·kw and fan_out = C_out·kh·kw.
"""
import math

import numpy as np


def fans(shape):
    """(fan_in, fan_out) of a dense (in, out) or convolution (C_out, C_in, kh, kw) weight shape."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) >= 3:
        field = math.prod(shape[2:])
        return shape[1] * field, shape[0] * field
    raise ValueError(f"fans need a 2-D dense or a 3-D+ convolution weight shape, got {tuple(shape)}")


def xavier_std(shape, gain=1.0):
    """Glorot and Bengio (2010): Var(w) = 2 / (fan_in + fan_out), for activations symmetric around 0 (tanh)."""
    fan_in, fan_out = fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def he_std(shape, mode="fan_in"):
    """He et al. (2015): Var(w) = 2 / fan, which makes up for ReLU zeroing half its inputs."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(shape)
    return math.sqrt(2.0 / (fan_in if mode == "fan_in" else fan_out))


def xavier_uniform(shape, rng, gain=1.0):
    """Uniform in ±√3·std (a uniform on ±a has variance a²/3), std from xavier_std."""
    bound = math.sqrt(3.0) * xavier_std(shape, gain)
    return rng.uniform(-bound, bound, shape)


def xavier_normal(shape, rng, gain=1.0):
    return rng.normal(0.0, xavier_std(shape, gain), shape)


def he_normal(shape, rng, mode="fan_in"):
    return rng.normal(0.0, he_std(shape, mode), shape)


def he_uniform(shape, rng, mode="fan_in"):
    bound = math.sqrt(3.0) * he_std(shape, mode)
    return rng.uniform(-bound, bound, shape)
