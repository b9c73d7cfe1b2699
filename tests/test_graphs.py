"""The GCN twins: Â is D^-1/2 (A + I) D^-1/2, the scratch backward matches numerical gradients, torch agrees."""
import numpy as np
import pytest
import torch

from d2lite.scratch import graphs as sg
from d2lite.scratch.gradcheck import numerical_gradient, relative_error
from d2lite.torch import graphs as tg

# Two graphs in one batch: a triangle with a tail (nodes 0-3) and a pair plus an isolated node (4-6).
BONDS = [(0, 1), (1, 2), (2, 0), (2, 3), (4, 5)]
EDGES = np.array(BONDS + [(t, s) for s, t in BONDS])
SEGMENT = np.array([0, 0, 0, 0, 1, 1, 1])
N = 7


def dense_normalized(edges, n):
    a = np.zeros((n, n))
    a[edges[:, 1], edges[:, 0]] = 1.0
    a += np.eye(n)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]


def to_dense(adjacency):
    m = np.zeros((adjacency.n_nodes, adjacency.n_nodes))
    np.add.at(m, (np.asarray(adjacency.target), np.asarray(adjacency.source)), np.asarray(adjacency.weight))
    return m


def test_normalized_adjacency_is_the_dense_formula_and_symmetric():
    adj = sg.normalized_adjacency(EDGES, N)
    dense = to_dense(adj)
    np.testing.assert_allclose(dense, dense_normalized(EDGES, N), rtol=1e-12)
    np.testing.assert_allclose(dense, dense.T)
    assert dense[6, 6] == 1.0                              # an isolated node keeps itself, nothing divides by 0
    assert dense[0, 4] == 0.0                               # the two graphs do not touch
    np.testing.assert_allclose(to_dense(tg.normalized_adjacency(EDGES, N, dtype=torch.float64)), dense, rtol=1e-12)


def test_segment_sum_and_mean_readout():
    h = np.arange(14.0).reshape(7, 2)
    np.testing.assert_allclose(sg.segment_sum(h, SEGMENT, 2), [h[:4].sum(0), h[4:].sum(0)])
    np.testing.assert_allclose(sg.MeanReadout().forward(h, SEGMENT, 3), [h[:4].mean(0), h[4:].mean(0), [0, 0]])
    np.testing.assert_allclose(sg.SumReadout().forward(h, SEGMENT, 2), [h[:4].sum(0), h[4:].sum(0)])
    out = tg.mean_readout(torch.from_numpy(h), torch.from_numpy(SEGMENT), 2)
    np.testing.assert_allclose(out.numpy(), [h[:4].mean(0), h[4:].mean(0)])


def test_gcn_layer_is_a_h_w_plus_b():
    rng = np.random.default_rng(0)
    layer = sg.GCNLayer(3, 5, rng=rng)
    h = rng.normal(size=(N, 3))
    expected = dense_normalized(EDGES, N) @ h @ layer.weight.data + layer.bias.data
    np.testing.assert_allclose(layer.forward(h, sg.normalized_adjacency(EDGES, N)), expected, rtol=1e-12)


@pytest.mark.parametrize("seed,readout", [(0, sg.MeanReadout), (1, sg.SumReadout)])
def test_scratch_backward_matches_numerical_gradients(seed, readout):
    """Two GCN layers, a ReLU, a read-out and a weighted sum: every gradient checked."""
    rng = np.random.default_rng(seed)
    adj = sg.normalized_adjacency(EDGES, N)
    first, second, readout = sg.GCNLayer(3, 4, rng=rng), sg.GCNLayer(4, 2, rng=rng), readout()
    h = rng.normal(size=(N, 3))
    r = rng.normal(size=(2, 2))

    def forward(x):
        z = first.forward(x, adj)
        return second.forward(np.maximum(z, 0), adj), z

    def loss(_):
        return float(np.sum(readout.forward(forward(h)[0], SEGMENT, 2) * r))

    for p in first.parameters() + second.parameters():
        p.zero_grad()
    out, z = forward(h)
    readout.forward(out, SEGMENT, 2)
    dh = first.backward(second.backward(readout.backward(r)) * (z > 0))
    assert relative_error(dh, numerical_gradient(loss, h)) < 1e-7
    for p in first.parameters() + second.parameters():
        assert relative_error(p.grad, numerical_gradient(loss, p.data)) < 1e-7


def test_torch_twin_agrees_with_scratch_on_outputs_and_gradients():
    rng = np.random.default_rng(3)
    s = sg.GCNLayer(3, 4, rng=rng)
    t = tg.GCNLayer(3, 4, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(s.weight.data))
        t.bias.copy_(torch.from_numpy(s.bias.data))
    h = rng.normal(size=(N, 3))
    dout = rng.normal(size=(N, 4))
    out = s.forward(h, sg.normalized_adjacency(EDGES, N))
    dh = s.backward(dout)
    th = torch.tensor(h, requires_grad=True)
    t_out = t(th, tg.normalized_adjacency(EDGES, N, dtype=torch.float64))
    (t_out * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(t_out.detach().numpy(), out, rtol=1e-12)
    np.testing.assert_allclose(th.grad.numpy(), dh, rtol=1e-10)
    np.testing.assert_allclose(t.weight.grad.numpy(), s.weight.grad, rtol=1e-10)
    np.testing.assert_allclose(t.bias.grad.numpy(), s.bias.grad, rtol=1e-10)


@pytest.mark.parametrize("readout", ["mean", "sum"])
def test_gcn_model_gives_one_number_per_graph_and_ignores_node_order_within_a_graph(readout):
    torch.manual_seed(0)
    model = tg.GCN(3, hidden=(8, 8), head=(8,), readout=readout, dtype=torch.float64)
    h = torch.randn(N, 3, dtype=torch.float64)
    seg = torch.from_numpy(SEGMENT)
    out = model(h, tg.normalized_adjacency(EDGES, N, dtype=torch.float64), seg, 2)
    assert out.shape == (2, 1)
    perm = np.array([2, 0, 3, 1, 6, 4, 5])                  # renumber the nodes inside each graph
    inverse = np.argsort(perm)
    moved = model(h[perm], tg.normalized_adjacency(inverse[EDGES], N, dtype=torch.float64), seg, 2)
    torch.testing.assert_close(moved, out)


def test_gcn_model_refuses_an_unknown_readout():
    with pytest.raises(ValueError, match="readout must be 'mean' or 'sum'"):
        tg.GCN(3, readout="max")
