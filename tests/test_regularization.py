"""Initialisation, dropout and batch normalization: scratch gradient checks, torch parity with torch.nn."""
import numpy as np
import pytest
import torch
from torch import nn

import d2lite.torch as dt
from d2lite import scratch
from d2lite.scratch import init as sinit
from d2lite.torch import init as tinit
from d2lite.torch.normalization import batch_norm

TOL = dict(rtol=1e-9, atol=1e-11)


# ---- initialisation ------------------------------------------------------------------------------

def test_fans_follow_the_book_layouts():
    assert sinit.fans((64, 10)) == (64, 10)                 # dense (in, out)
    assert sinit.fans((16, 3, 5, 5)) == (75, 400)            # conv (C_out, C_in, kh, kw)
    with pytest.raises(ValueError, match="dense"):
        sinit.fans((7,))


def test_scales_match_torch_nn_init_on_torch_layouts():
    # torch.nn.init reads a 2-D weight as (out, in): our (in, out) weight is its transpose.
    w = torch.empty(30, 200)  # torch layout (out=30, in=200) = ours (in=200, out=30)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert sinit.he_std((200, 30)) == pytest.approx(np.sqrt(2 / 200))
    assert w.std().item() == pytest.approx(sinit.he_std((200, 30)), rel=0.05)
    nn.init.xavier_uniform_(w)
    assert w.abs().max().item() <= np.sqrt(3) * sinit.xavier_std((200, 30)) + 1e-7
    assert w.std().item() == pytest.approx(sinit.xavier_std((200, 30)), rel=0.05)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "he_normal", "he_uniform"])
def test_scratch_and_torch_draws_have_the_stated_std(name):
    shape = (300, 120)
    std = sinit.he_std(shape) if name.startswith("he") else sinit.xavier_std(shape)
    drawn = getattr(sinit, name)(shape, np.random.default_rng(0))
    t = getattr(tinit, name + "_")(torch.empty(shape), generator=torch.Generator().manual_seed(0))
    for w in (drawn, t.numpy()):
        assert w.shape == shape and abs(w.mean()) < 0.05 * std
        assert w.std() == pytest.approx(std, rel=0.03)


def test_he_keeps_relu_activations_steady_where_default_init_shrinks_them():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 256))
    h_he, h_small = x, x
    for _ in range(10):
        h_he = np.maximum(h_he @ sinit.he_normal((256, 256), rng), 0)
        h_small = np.maximum(h_small @ rng.uniform(-1 / 16, 1 / 16, (256, 256)), 0)
    assert 0.5 < np.mean(h_he ** 2) / np.mean(x ** 2) < 2
    assert np.mean(h_small ** 2) < 1e-6


# ---- dropout --------------------------------------------------------------------------------------

def test_scratch_dropout_follows_the_mask_contract_and_backward_uses_it():
    x = np.random.default_rng(1).normal(size=(6, 5))
    layer = scratch.Dropout(0.3, rng=np.random.default_rng(7))
    y = layer.forward(x)
    keep = np.random.default_rng(7).random(x.shape) >= 0.3
    np.testing.assert_allclose(y, np.where(keep, x / 0.7, 0.0))
    dout = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dout), np.where(keep, dout / 0.7, 0.0))
    layer.eval()
    assert np.array_equal(layer.forward(x), x) and np.array_equal(layer.backward(dout), dout)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_mean_in_both_halves(p):
    x = np.ones((400, 500))
    s = scratch.Dropout(p, rng=np.random.default_rng(0)).forward(x)
    t = dt.dropout(torch.ones(400, 500), p, generator=torch.Generator().manual_seed(0)).numpy()
    for y in (s, t):
        assert y.mean() == pytest.approx(1.0, abs=0.02)
        assert (y == 0).mean() == pytest.approx(p, abs=0.01)
        np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - p)], rtol=1e-6)


def test_torch_dropout_is_identity_in_eval_and_gradient_matches_the_mask():
    layer = dt.Dropout(0.4)
    x = torch.randn(8, 6, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y.detach() != 0).float() / 0.6)
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dt.Dropout(1.0)


# ---- batch normalization --------------------------------------------------------------------------

def bn_input(kind, rng, n=5):
    return rng.normal(3.0, 2.0, size=(n, 4) if kind == "1d" else (n, 3, 4, 5))


@pytest.mark.parametrize("kind", ["1d", "2d"])
@pytest.mark.parametrize("training", [True, False])
def test_scratch_batchnorm_passes_the_gradient_check(kind, training):
    rng = np.random.default_rng(3)
    x = bn_input(kind, rng)
    layer = (scratch.BatchNorm1d(4) if kind == "1d" else scratch.BatchNorm2d(3))
    layer.weight.data[...] = rng.normal(size=layer.num_features)
    layer.bias.data[...] = rng.normal(size=layer.num_features)
    layer.running_mean[...] = rng.normal(size=layer.num_features)
    layer.running_var[...] = rng.uniform(0.5, 2, size=layer.num_features)
    layer.momentum = 0.0  # the gradient check calls forward many times: keep running stats still
    layer.train(training)
    errors = scratch.check_module_gradients(layer, x)
    assert max(errors.values()) < 1e-5, errors


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_scratch_and_torch_batchnorm_match_torch_nn_in_train_and_eval(kind):
    rng = np.random.default_rng(4)
    c = 4 if kind == "1d" else 3
    ref = (nn.BatchNorm1d(c, momentum=0.2) if kind == "1d" else nn.BatchNorm2d(c, momentum=0.2)).double()
    ours = (dt.BatchNorm1d(c, momentum=0.2) if kind == "1d" else dt.BatchNorm2d(c, momentum=0.2)).double()
    sc = scratch.BatchNorm1d(c, momentum=0.2) if kind == "1d" else scratch.BatchNorm2d(c, momentum=0.2)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(rng.normal(size=c)))
        ref.bias.copy_(torch.from_numpy(rng.normal(size=c)))
    ours.load_state_dict(ref.state_dict())  # same names: state dicts interchange
    sc.weight.data[...], sc.bias.data[...] = ref.weight.detach().numpy(), ref.bias.detach().numpy()
    spelled_stats = (torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64))

    def spelled(xt):  # the written-out batch_norm that the fused module stands for
        return batch_norm(xt, ref.weight.detach(), ref.bias.detach(), *spelled_stats, True, 0.2, 1e-5)
    for step in range(3):  # several batches: running statistics accumulate
        x = bn_input(kind, rng, n=6 + step)
        dout = rng.normal(size=x.shape)
        outs = []
        for layer in (ref, ours, spelled):
            xt = torch.tensor(x, requires_grad=True)
            y = layer(xt)
            y.backward(torch.from_numpy(dout))
            outs.append((y.detach().numpy(), xt.grad.numpy()))
        y_s = sc.forward(x)
        sc.zero_grad()
        dx_s = sc.backward(dout)
        for y, dx in outs[1:] + [(y_s, dx_s)]:
            np.testing.assert_allclose(y, outs[0][0], **TOL)
            np.testing.assert_allclose(dx, outs[0][1], **TOL)
    for mean, var in ((ours.running_mean, ours.running_var), (sc.running_mean, sc.running_var), spelled_stats):
        np.testing.assert_allclose(np.asarray(torch.as_tensor(mean)), ref.running_mean.numpy(), **TOL)
        np.testing.assert_allclose(np.asarray(torch.as_tensor(var)), ref.running_var.numpy(), **TOL)
    assert ours.num_batches_tracked.item() == 3
    ref.eval(), ours.eval(), sc.eval()
    x = bn_input(kind, rng, n=1)  # eval mode handles a batch of one
    expected = ref(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), expected, **TOL)
    np.testing.assert_allclose(sc.forward(x), expected, **TOL)
    got = batch_norm(torch.from_numpy(x), ref.weight.detach(), ref.bias.detach(), *spelled_stats, False, 0.2, 1e-5)
    np.testing.assert_allclose(got.numpy(), expected, **TOL)


def test_batchnorm_explains_bad_input():
    with pytest.raises(ValueError, match="4-D input with 3 channels"):
        scratch.BatchNorm2d(3).forward(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="batch of at least 2"):
        dt.BatchNorm1d(3)(torch.zeros(1, 3))
