"""Counting, pruning, int8 quantization (scratch and torch twins) and the distillation loss."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from d2lite.scratch import quantize as squant
from d2lite.torch import compress
from d2lite.torch import quantize as tquant


def small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 5, 7))


def test_counts_parameters_buffers_and_flops():
    model = small_model()
    model.register_buffer("table", torch.zeros(3, 2))
    assert compress.count_parameters(model) == (4 * 9 + 4) + (120 * 7 + 7) + 6
    x = torch.zeros(2, 1, 6, 5)
    # convolution: 2 · N · C_out · H · W · C_in · k · k; linear: 2 · N · in · out
    assert compress.count_flops(model, x) == 2 * 2 * 4 * 6 * 5 * 9 + 2 * 2 * 120 * 7


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.8])
def test_magnitude_pruning_removes_the_smallest_weights_across_layers(fraction):
    model = small_model()
    before = {n: p.detach().clone() for n, p in compress.prunable(model).items()}
    biases = [model[0].bias.detach().clone(), model[3].bias.detach().clone()]
    masks = compress.magnitude_prune(model, fraction)
    assert compress.sparsity(model) == pytest.approx(fraction, abs=1 / 876)
    kept = torch.cat([before[n][m] for n, m in masks.items()]).abs()
    dropped = torch.cat([before[n][~m] for n, m in masks.items()]).abs()
    if fraction > 0:
        assert dropped.max() <= kept.min()                  # global ranking, not per layer
    assert torch.equal(model[0].bias, biases[0]) and torch.equal(model[3].bias, biases[1])
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    compress.apply_masks(model, masks)
    assert compress.sparsity(model) == pytest.approx(fraction, abs=1 / 876)


def test_pruning_rejects_a_fraction_outside_zero_to_one():
    with pytest.raises(ValueError, match="fraction"):
        compress.magnitude_prune(small_model(), 80)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_int8_twins_agree_and_bound_the_error(axis):
    w = np.random.default_rng(0).normal(size=(5, 3)) * np.array([[1.0], [0.01], [10.0], [0.5], [0.0]])
    q, scale = squant.quantize_int8(w, axis=axis)
    tq, tscale = tquant.quantize_int8(torch.from_numpy(w), axis=axis)
    assert q.dtype == np.int8 and tq.dtype == torch.int8
    np.testing.assert_array_equal(tq.numpy(), q)
    np.testing.assert_allclose(tscale.numpy(), scale, rtol=1e-6)
    assert np.abs(q).max() <= 127
    err = np.abs(squant.dequantize(q, scale) - w)
    assert np.all(err <= scale / 2 + 1e-6)
    np.testing.assert_allclose(tquant.dequantize(tq, tscale).numpy(), squant.dequantize(q, scale))


def test_int8_linear_is_close_to_the_float_product():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(4, 6)), rng.normal(size=(6, 3)), rng.normal(size=3)
    q, scale = squant.quantize_int8(w, axis=1)
    out = squant.int8_linear(x, q, scale, b)
    np.testing.assert_allclose(out, x @ w + b, atol=0.05)


def test_distillation_loss_mixes_soft_and_hard_targets():
    rng = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 4, generator=rng), torch.randn(5, 4, generator=rng)
    y = torch.tensor([0, 3, 1, 1, 2])
    hard = F.cross_entropy(s, y)
    assert compress.distillation_loss(s, t, y, temperature=3.0, alpha=0.0) == pytest.approx(hard.item())
    p_t, p_s = F.softmax(t / 3, dim=1), F.softmax(s / 3, dim=1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(dim=1).mean()
    assert compress.distillation_loss(s, t, y, temperature=3.0, alpha=1.0) == pytest.approx(9 * kl.item(), rel=1e-5)
    assert compress.distillation_loss(t, t, y, temperature=2.0, alpha=1.0) == pytest.approx(0.0, abs=1e-6)
