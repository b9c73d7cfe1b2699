"""Recurrent layers: scratch BPTT agrees with numerical gradients; torch twins agree with torch.nn; clipping."""
import numpy as np
import pytest
import torch

from d2lite import scratch
from d2lite import torch as dtorch

KINDS = {"RNN": (scratch.RNN, dtorch.RNN, torch.nn.RNN), "LSTM": (scratch.LSTM, dtorch.LSTM, torch.nn.LSTM),
         "GRU": (scratch.GRU, dtorch.GRU, torch.nn.GRU)}


def _state_loss(layer, x, r_out, r_state, state0):
    out, state = layer.forward(x, state0)
    states = state if isinstance(state, tuple) else (state,)
    return float(np.sum(out * r_out) + sum(np.sum(s * r) for s, r in zip(states, r_state)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,t,i,h", [(2, 4, 3, 5), (1, 1, 2, 3)])
def test_scratch_bptt_matches_numerical_gradients(kind, n, t, i, h):
    rng = np.random.default_rng(1)
    layer = KINDS[kind][0](i, h, rng=rng)
    states = 2 if kind == "LSTM" else 1
    x = rng.normal(size=(n, t, i))
    state0 = tuple(rng.normal(size=(n, h)) for _ in range(states))
    state0_arg = state0 if states == 2 else state0[0]
    r_out = rng.normal(size=(n, t, h))
    r_state = tuple(rng.normal(size=(n, h)) for _ in range(states))

    def loss(_):
        return _state_loss(layer, x, r_out, r_state, state0_arg)

    layer.zero_grad()  # tolerance 1e-5: entries near 1e-4 carry ~1e-11 of finite-difference noise
    layer.forward(x, state0_arg)
    dx = layer.backward(r_out, r_state if states == 2 else r_state[0])
    dstate0 = layer.dstate0 if states == 2 else (layer.dstate0,)
    assert scratch.relative_error(dx, scratch.numerical_gradient(loss, x)) < 1e-5
    for s, ds in zip(state0, dstate0):
        assert scratch.relative_error(ds, scratch.numerical_gradient(loss, s)) < 1e-5
    for p in layer.parameters():
        assert scratch.relative_error(p.grad, scratch.numerical_gradient(loss, p.data)) < 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_scratch_and_torch_twin_agree_with_torch_nn(kind):
    ours_np, ours_t, theirs_cls = KINDS[kind]
    torch.manual_seed(0)
    theirs = theirs_cls(3, 4, batch_first=True).double()
    ours = ours_t(3, 4, dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())       # the same names and layout
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    out_ref, state_ref = theirs(x)
    out, state = ours(x)
    assert torch.allclose(out, out_ref, atol=1e-12)
    refs = state_ref if isinstance(state_ref, tuple) else (state_ref,)
    mine = state if isinstance(state, tuple) else (state,)
    for a, b in zip(mine, refs):
        assert torch.allclose(a, b[0], atol=1e-12)
    # gradients through time agree too
    g_ref = torch.autograd.grad(out_ref.square().sum(), [x, *theirs.parameters()])
    g = torch.autograd.grad(out.square().sum(), [x, *ours.parameters()])
    for a, b in zip(g, g_ref):
        assert torch.allclose(a, b, atol=1e-10)
    # and so does the scratch layer, with the same weights
    layer = ours_np(3, 4)
    layer.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    out_np, _ = layer.forward(x.detach().numpy())
    assert np.allclose(out_np, out_ref.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("cell,kind,extra", [("rnn_cell", "RNN", 0), ("lstm_cell", "LSTM", 1), ("gru_cell", "GRU", 0)])
def test_cell_functions_equal_one_step_of_the_layer(cell, kind, extra):
    rng = np.random.default_rng(2)
    layer = KINDS[kind][0](3, 4, rng=rng)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    w = layer.state_dict()
    args = (w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
    state = (h, c) if extra else h
    out, final = layer.forward(x[:, None], state)
    got = getattr(scratch, cell)(x, h, *((c,) if extra else ()), *args)
    got_t = getattr(dtorch, cell)(*(torch.from_numpy(a) for a in (x, h, *((c,) if extra else ()), *args)))
    expected = final if extra else (final,)
    got, got_t = (got if extra else (got,)), (got_t if extra else (got_t,))
    for e, a, b in zip(expected, got, got_t):
        assert np.allclose(a, e) and np.allclose(b.numpy(), e)
    assert np.allclose(out[:, 0], expected[0])


def test_truncated_bptt_carries_state_and_float32_stays_float32():
    rng = np.random.default_rng(3)
    layer = scratch.LSTM(2, 3, rng=rng, dtype=np.float32)
    x = rng.normal(size=(1, 6, 2)).astype(np.float32)
    whole, _ = layer.forward(x)
    first, state = layer.forward(x[:, :4])
    second, _ = layer.forward(x[:, 4:], state)
    assert whole.dtype == np.float32
    assert np.allclose(np.concatenate([first, second], axis=1), whole, atol=1e-6)


def test_scratch_embedding_adds_gradients_of_repeated_ids():
    emb = scratch.Embedding(5, 3, rng=np.random.default_rng(0))
    ids = np.array([[1, 4, 1], [0, 1, 2]])
    out = emb.forward(ids)
    assert np.array_equal(out, emb.weight.data[ids])
    dout = np.arange(18.0).reshape(2, 3, 3)
    emb.backward(dout)
    assert np.allclose(emb.weight.grad[1], dout[0, 0] + dout[0, 2] + dout[1, 1])
    assert np.allclose(emb.weight.grad[3], 0)
    with pytest.raises(TypeError, match="integer"):
        emb.forward(np.array([0.5]))


def test_wrong_input_shape_says_batch_first():
    with pytest.raises(ValueError, match="batch first"):
        scratch.GRU(3, 2).forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="batch first"):
        dtorch.GRU(3, 2)(torch.zeros(4, 3))


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(3, 2)), rng.normal(size=5) * 10]
    params = [scratch.Parameter(np.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad[...] = g
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    mine = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for a, b, g in zip(tparams, mine, grads):
        a.grad, b.grad = torch.from_numpy(g.copy()), torch.from_numpy(g.copy())
    norm_ref = torch.nn.utils.clip_grad_norm_(tparams, max_norm)
    norm_np = scratch.clip_grad_norm(params, max_norm)
    norm_t = dtorch.clip_grad_norm(mine, max_norm)
    assert np.isclose(norm_np, norm_ref.item()) and np.isclose(norm_t.item(), norm_ref.item())
    for p, a, b in zip(params, tparams, mine):
        assert np.allclose(p.grad, a.grad.numpy()) and torch.allclose(b.grad, a.grad)
    clipped = np.sqrt(sum(np.sum(p.grad ** 2) for p in params))
    assert clipped <= max_norm * (1 + 1e-6)
