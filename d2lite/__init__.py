"""d2lite: the library behind the book.

Every component exists twice: `d2lite.scratch` (NumPy, explicit forward and
backward) and `d2lite.torch` (PyTorch, autograd), module for module.
"""
from d2lite.runtime import device, limit_threads, progress, seed

__version__ = "0.1.0"
__all__ = ["device", "limit_threads", "progress", "seed", "__version__"]
