"""Embedding from scratch: a lookup table of learned vectors, one row per token id."""
import numpy as np

from d2lite.scratch.layers import Module, Parameter


class Embedding(Module):
    """out[..., :] = weight[ids[...]], with weight (num_embeddings, dim) drawn from N(0, 1) as in PyTorch.

    A lookup is a product with one-hot rows, so the gradient of row j is the sum of dout
    over every position where token j was looked up (np.add.at adds repeated ids). Ids are
    integers, not differentiable: backward returns None.
    """

    def __init__(self, num_embeddings, dim, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        self.weight = Parameter(rng.standard_normal((num_embeddings, dim)).astype(dtype))

    def forward(self, ids):
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Embedding takes integer token ids; got dtype {ids.dtype}.")
        self.ids = ids
        return self.weight.data[ids]

    def backward(self, dout):
        np.add.at(self.weight.grad, self.ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))
        return None
