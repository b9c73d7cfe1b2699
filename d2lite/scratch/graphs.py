"""Graph convolution from scratch: a normalised adjacency, the GCN layer and a read-out per graph.

A batch of graphs is one big graph whose pieces do not touch: node features `h` (n_nodes, F),
directed `edges` (E, 2) as (source, target) rows with each undirected bond listed both ways, and
`segment` (n_nodes,), the graph each node belongs to. Kipf and Welling's (2017) layer is

    H' = Â H W + b,   Â = D^-1/2 (A + I) D^-1/2,   D = the degrees of A + I,

and Â is kept as an edge list with one weight per edge (self-loops included), so a product
Â H is a segment sum over edges: out[t] = Σ_{(s, t)} weight · h[s]. The modules follow the
protocol of `d2lite.scratch.layers`: forward remembers, backward returns the input gradient and
adds the parameters' gradients.
"""
from typing import NamedTuple

import numpy as np

from d2lite.scratch.layers import Module, Parameter


def segment_sum(values, segment, n_segments):
    """Sum the rows of `values` that share a segment id: out[g] = Σ_{i: segment[i] = g} values[i]."""
    out = np.zeros((n_segments,) + values.shape[1:], dtype=values.dtype)
    np.add.at(out, segment, values)
    return out


class Adjacency(NamedTuple):
    """Â as an edge list: Â[target, source] = weight; `n_nodes` rows and columns."""
    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    n_nodes: int


def normalized_adjacency(edges, n_nodes):
    """Â = D^-1/2 (A + I) D^-1/2 from directed `edges` (E, 2), with a self-loop added on every node.

    The weight of edge (s, t) is 1 / sqrt(d_s d_t), where d counts a node's edges plus its self-loop,
    so a node with no edges keeps its own features (weight 1) instead of dividing by zero.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    loops = np.arange(n_nodes)
    source, target = np.r_[edges[:, 0], loops], np.r_[edges[:, 1], loops]
    degree = np.bincount(target, minlength=n_nodes).astype(np.float64)
    return Adjacency(source, target, 1.0 / np.sqrt(degree[source] * degree[target]), n_nodes)


def propagate(adjacency, h):
    """Â h: each node gathers its neighbours' rows (and its own), weighted by Â."""
    return segment_sum(adjacency.weight[:, None] * h[adjacency.source], adjacency.target, adjacency.n_nodes)


def propagate_transposed(adjacency, dout):
    """Âᵀ dout, the backward of `propagate`: each edge sends the gradient back to its source."""
    return segment_sum(adjacency.weight[:, None] * dout[adjacency.target], adjacency.source, adjacency.n_nodes)


class GCNLayer(Module):
    """y = Â h @ weight + bias, weight of shape (in_features, out_features), uniform in ±1/sqrt(in_features)."""

    def __init__(self, in_features, out_features, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, size=(in_features, out_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=out_features).astype(dtype))

    def forward(self, h, adjacency):
        self.adjacency = adjacency
        self.mixed = propagate(adjacency, h)
        return self.mixed @ self.weight.data + self.bias.data

    def backward(self, dout):
        """dweight = (Â h)ᵀ dout,  dbias = Σ_nodes dout,  dh = Âᵀ (dout weightᵀ)."""
        self.weight.grad += self.mixed.T @ dout
        self.bias.grad += dout.sum(axis=0)
        return propagate_transposed(self.adjacency, dout @ self.weight.data.T)


class SumReadout(Module):
    """One row per graph: the sum of its nodes' rows, out[g] = Σ_{i in g} h[i] (it grows with the graph)."""

    def forward(self, h, segment, n_graphs):
        self.segment = np.asarray(segment)
        return segment_sum(h, self.segment, n_graphs)

    def backward(self, dout):
        """dh[i] = dout[g(i)]: every node receives its graph's gradient."""
        return dout[self.segment]


class MeanReadout(Module):
    """One row per graph: the mean of its nodes' rows, out[g] = Σ_{i in g} h[i] / n_g."""

    def forward(self, h, segment, n_graphs):
        self.segment = np.asarray(segment)
        self.counts = np.maximum(np.bincount(self.segment, minlength=n_graphs), 1).astype(h.dtype)
        return segment_sum(h, self.segment, n_graphs) / self.counts[:, None]

    def backward(self, dout):
        """dh[i] = dout[g(i)] / n_g(i): every node of a graph gets an equal share."""
        return dout[self.segment] / self.counts[self.segment, None]
