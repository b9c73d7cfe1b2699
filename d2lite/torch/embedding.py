"""Embedding in PyTorch: torch.nn.Embedding is exactly d2lite.scratch.Embedding (weight (V, d), rows
drawn from N(0, 1), out = weight[ids]); autograd adds the gradients of repeated ids as np.add.at does."""
from torch.nn import Embedding

__all__ = ["Embedding"]
