"""Where computation runs (`device`, `limit_threads`), how it is made repeatable (`seed`), and progress bars."""
import io
import os
import random

import numpy as np
from tqdm.std import tqdm as std_tqdm

DEVICE_ENV = "D2LITE_DEVICE"
PROGRESS_ENV = "D2LITE_PROGRESS"


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


def limit_threads(n=1):
    """Run PyTorch and NumPy's BLAS on `n` threads; returns threadpoolctl's limiter (`.restore_original_limits()` undoes the BLAS part).

    The book's models are small: on a shared or 2-core machine, one thread per matrix
    product is often several times faster than many threads fighting for the cores.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    return threadpool_limits(n)


def progress(iterable=None, **kwargs):
    """A tqdm progress bar: a widget in a live notebook, a bar in a terminal.

    With D2LITE_PROGRESS=text (how the committed notebooks are executed) it prints
    only the finished bar as one line of text, which every static viewer shows,
    instead of a widget that they render as an empty "0%" bar.
    """
    if os.environ.get(PROGRESS_ENV, "").strip() == "text":
        return _FinalLineBar(iterable, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


class _FinalLineBar(std_tqdm):
    """Draws nowhere while running; prints its final state as one line when closed."""

    def __init__(self, *args, **kwargs):
        kwargs["file"] = io.StringIO()
        kwargs["mininterval"] = float("inf")  # nothing shows until close: formatting a bar mid-run is wasted work
        super().__init__(*args, **kwargs)

    def close(self):
        if self.disable:
            return
        line = str(self)
        super().close()
        print(line, flush=True)
