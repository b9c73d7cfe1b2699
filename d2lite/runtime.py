"""Where computation runs (`device`) and how it is made repeatable (`seed`)."""
import os
import random

import numpy as np

DEVICE_ENV = "D2LITE_DEVICE"


def device():
    """The torch device the book runs on: CUDA, then Apple's MPS, else the CPU.

    Set the environment variable D2LITE_DEVICE (to "cpu", "cuda", "cuda:1", "mps")
    to force one, for example D2LITE_DEVICE=cpu to compare against a GPU run.
    """
    import torch

    forced = os.environ.get(DEVICE_ENV, "").strip()
    if forced:
        dev = torch.device(forced)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{DEVICE_ENV}={forced} but PyTorch sees no CUDA device; "
                               f"unset {DEVICE_ENV} or install a CUDA build of torch (README, 'GPU').")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"{DEVICE_ENV}={forced} but MPS is not available on this machine.")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n=0):
    """Seed Python's, NumPy's and PyTorch's generators (all CUDA devices too).

    Returns a fresh `numpy.random.Generator` seeded with `n` for code that
    prefers an explicit generator.
    """
    random.seed(n)
    np.random.seed(n)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(n)  # seeds every CUDA device as well
    return np.random.default_rng(n)
