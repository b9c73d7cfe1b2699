"""Attention and LayerNorm: scratch backward agrees with numerical gradients; torch twins agree with torch."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from d2lite import scratch
from d2lite import torch as dtorch


def _close(analytic, numeric, tol):
    """Errors relative to the array's scale (a gradient that is exactly zero, like that of the keys' bias, has none)."""
    return np.abs(analytic - numeric).max() <= tol * max(np.abs(numeric).max(), 1e-3)


def _grad_check(forward, backward, inputs, params, tol=1e-6, seed=0):
    """forward(*inputs) -> out; backward(r) -> input gradients; compare all with central differences."""
    r = np.random.default_rng(seed).normal(size=forward(*inputs).shape)

    def loss(_):
        return float(np.sum(forward(*inputs) * r))

    for p in params:
        p.zero_grad()
    forward(*inputs)
    grads = backward(r)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for x, g in zip(inputs, grads):
        assert _close(g, scratch.numerical_gradient(loss, x), tol)
    for p in params:
        assert _close(p.grad, scratch.numerical_gradient(loss, p.data), tol)


def test_masks():
    assert np.array_equal(scratch.causal_mask(3), np.tril(np.ones((3, 3), bool)))
    assert np.array_equal(scratch.causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])
    assert np.array_equal(scratch.lengths_mask(np.array([1, 3]), 3), [[[1, 0, 0]], [[1, 1, 1]]])
    assert scratch.lengths_mask(np.array([[1, 2], [0, 3]]), 3).shape == (2, 2, 3)
    assert torch.equal(dtorch.causal_mask(2, 4), torch.from_numpy(scratch.causal_mask(2, 4)))
    assert torch.equal(dtorch.lengths_mask(torch.tensor([[1, 2], [0, 3]]), 3),
                       torch.from_numpy(scratch.lengths_mask(np.array([[1, 2], [0, 3]]), 3)))


def test_masked_softmax_ignores_masked_scores_and_zeroes_empty_rows():
    scores = np.array([[[1e4, 2.0, -1e4], [0.0, 5.0, 7.0]]])
    mask = np.array([[[False, True, True], [False, False, False]]])
    p = scratch.masked_softmax(scores, mask)
    assert np.allclose(p[0, 0], [0, 1 / (1 + np.exp(-1e4 - 2)), 0]) and np.allclose(p[0, 1], 0)
    pt = dtorch.masked_softmax(torch.from_numpy(scores), torch.from_numpy(mask))
    assert np.allclose(pt.numpy(), p)


def test_scaled_dot_product_attention_matches_torch_and_its_gradients():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 6))
    mask = scratch.lengths_mask(np.array([2, 5]), 5)
    out, w = scratch.scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(mask))
    assert np.allclose(out, ref.numpy()) and np.allclose(w.sum(-1), 1) and np.all(w[0, :, 2:] == 0)
    att = scratch.DotProductAttention()
    _grad_check(lambda a, b, c: att.forward(a, b, c, mask), att.backward, (q, k, v), [])


def test_additive_attention_gradients_and_torch_twin():
    rng = np.random.default_rng(2)
    att = scratch.AdditiveAttention(3, 5, 4, rng=rng)
    q, k, v = rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 4, 3))
    mask = scratch.lengths_mask(np.array([3, 1]), 4)
    _grad_check(lambda a, b, c: att.forward(a, b, c, mask), att.backward, (q, k, v), att.parameters())
    twin = dtorch.AdditiveAttention(3, 5, 4, dtype=torch.float64)
    with torch.no_grad():
        for name in ("w_q", "w_k", "w_v"):
            getattr(twin, name).copy_(torch.from_numpy(getattr(att, name).data))
    got = twin(*(torch.from_numpy(a) for a in (q, k, v)), torch.from_numpy(mask))
    assert np.allclose(got.detach().numpy(), att.forward(q, k, v, mask))


def test_heads_split_and_merge():
    x = np.arange(2 * 3 * 8.0).reshape(2, 3, 8)
    h = scratch.split_heads(x, 4)
    assert h.shape == (2, 4, 3, 2) and np.array_equal(h[1, 2, 0], x[1, 0, 4:6])
    assert np.array_equal(scratch.merge_heads(h), x)
    assert torch.equal(dtorch.split_heads(torch.from_numpy(x), 4), torch.from_numpy(h))
    with pytest.raises(ValueError, match="divide"):
        scratch.split_heads(x, 3)


def test_positional_encoding_formula_odd_width():
    p = scratch.positional_encoding(6, 5, base=100.0)
    assert p.shape == (6, 5)
    assert np.isclose(p[3, 2], np.sin(3 / 100 ** (2 / 5))) and np.isclose(p[3, 3], np.cos(3 / 100 ** (2 / 5)))
    assert np.allclose(p[0], [0, 1, 0, 1, 0])
    assert np.allclose(dtorch.positional_encoding(6, 5, base=100.0).numpy(), p, atol=1e-7)


def test_multi_head_attention_gradients():
    rng = np.random.default_rng(3)
    mha = scratch.MultiHeadAttention(6, 3, rng=rng)
    q, kv = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 4, 6))
    mask = scratch.causal_mask(3, 4)
    _grad_check(lambda a, b, c: mha.forward(a, b, c, mask), mha.backward, (q, kv, kv.copy()), mha.parameters())


def test_multi_head_attention_matches_torch_nn_and_scratch():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    ours = dtorch.load_torch_mha(dtorch.MultiHeadAttention(8, 2, dtype=torch.float64), theirs)
    x, mem = torch.randn(3, 5, 8, dtype=torch.float64), torch.randn(3, 7, 8, dtype=torch.float64)
    keep = torch.ones(3, 7, dtype=torch.bool)
    keep[1, 4:] = False
    ref, ref_w = theirs(x, mem, mem, key_padding_mask=~keep)
    mask = keep[:, None, None, :]
    fast = ours(x, mem, mem, mask=mask)
    slow = ours(x, mem, mem, mask=mask, need_weights=True)
    assert torch.allclose(fast, ref, atol=1e-10) and torch.allclose(slow, ref, atol=1e-10)
    assert torch.allclose(ours.weights.mean(1), ref_w, atol=1e-10)
    causal = ours(x, x, x, causal=True)
    assert torch.allclose(causal, theirs(x, x, x, attn_mask=~dtorch.causal_mask(5))[0], atol=1e-10)
    # the scratch layer, same weights (both store x @ W layouts)
    sc = scratch.MultiHeadAttention(8, 2)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        getattr(sc, name).weight.data = getattr(ours, name).weight.detach().numpy().copy()
        getattr(sc, name).bias.data = getattr(ours, name).bias.detach().numpy().copy()
    assert np.allclose(sc.forward(x.numpy(), mem.numpy(), mem.numpy(), mask.numpy()), ref.detach().numpy())


@pytest.mark.parametrize("shape", [(1, 5), (2, 3, 7)])
def test_layer_norm_gradients_and_parity(shape):
    rng = np.random.default_rng(4)
    ln = scratch.LayerNorm(shape[-1])
    ln.weight.data = rng.normal(size=shape[-1])
    ln.bias.data = rng.normal(size=shape[-1])
    x = rng.normal(size=shape) * 3 + 1
    _grad_check(ln.forward, ln.backward, (x,), ln.parameters())
    ref = torch.nn.LayerNorm(shape[-1]).double()
    twin = dtorch.LayerNorm(shape[-1], dtype=torch.float64)
    with torch.no_grad():
        for m in (ref, twin):
            m.weight.copy_(torch.from_numpy(ln.weight.data))
            m.bias.copy_(torch.from_numpy(ln.bias.data))
    xt = torch.from_numpy(x)
    assert torch.allclose(twin(xt), ref(xt), atol=1e-12)
    assert np.allclose(ln.forward(x), ref(xt).detach().numpy())
    assert twin.state_dict().keys() == ref.state_dict().keys()
