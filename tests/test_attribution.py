"""Attribution methods: scratch and torch twins agree, and the torch ones agree with Captum."""
import numpy as np
import pytest
import torch

import d2lite.torch as dt
from d2lite import scratch
from d2lite.scratch import attribution as sattr
from d2lite.torch import attribution as tattr


def twin_lenets(seed=0):
    s = scratch.lenet(rng=np.random.default_rng(seed), channels=(4, 6), hidden=12)
    t = dt.lenet(device="cpu", channels=(4, 6), hidden=12).double()
    with torch.no_grad():
        for p, q in zip(s.parameters(), t.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.data))
    return s, t


X = np.random.default_rng(3).random((3, 1, 8, 8))
TARGET = np.array([2, 7, 2])


@pytest.mark.parametrize("method", ["input_gradient", "saliency", "gradient_x_input"])
def test_scratch_and_torch_gradients_agree(method):
    s, t = twin_lenets()
    ours = getattr(sattr, method)(s, X, TARGET)
    theirs = getattr(tattr, method)(t, torch.from_numpy(X), torch.from_numpy(TARGET))
    np.testing.assert_allclose(theirs.numpy(), ours, rtol=1e-9, atol=1e-12)
    assert all(np.all(p.grad == 0) for p in s.parameters())       # no gradients left behind


def test_scratch_and_torch_integrated_gradients_agree_and_are_complete():
    s, t = twin_lenets(1)
    baseline = np.full((1, 1, 8, 8), 0.2)
    ig, delta = sattr.integrated_gradients(s, X, TARGET, baseline=baseline, steps=64)
    t_ig, t_delta = tattr.integrated_gradients(t, torch.from_numpy(X), torch.from_numpy(TARGET),
                                               baseline=torch.from_numpy(baseline), steps=64)
    np.testing.assert_allclose(t_ig.numpy(), ig, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t_delta.numpy(), delta, rtol=1e-7, atol=1e-10)
    assert np.abs(delta).max() < 0.05


def test_occlusion_of_a_linear_model_is_its_weight_times_input():
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3, bias=True)).double()
    x = torch.rand(2, 1, 3, 4, dtype=torch.float64)
    target = torch.tensor([1, 0])
    w = linear[1].weight[target].view(2, 1, 3, 4)
    np.testing.assert_allclose(tattr.occlusion(linear, x, target, window=(1, 1)).numpy(),
                               (w * x).detach().numpy(), rtol=1e-10)


captum_attr = pytest.importorskip("captum.attr")
pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")


@pytest.fixture
def model_and_inputs():
    _, t = twin_lenets(2)
    t.eval()
    x = torch.from_numpy(np.random.default_rng(4).random((4, 1, 8, 8)))
    return t, x, torch.tensor([0, 3, 9, 3])


def test_saliency_and_gradient_x_input_match_captum(model_and_inputs):
    model, x, target = model_and_inputs
    torch.testing.assert_close(tattr.saliency(model, x, target), captum_attr.Saliency(model).attribute(x, target=target))
    torch.testing.assert_close(tattr.gradient_x_input(model, x, target),
                               captum_attr.InputXGradient(model).attribute(x, target=target))


@pytest.mark.parametrize("steps", [7, 50])
def test_integrated_gradients_match_captum(model_and_inputs, steps):
    model, x, target = model_and_inputs
    baseline = torch.full_like(x, 0.1)
    ours, delta = tattr.integrated_gradients(model, x, target, baseline=baseline, steps=steps)
    theirs, their_delta = captum_attr.IntegratedGradients(model).attribute(
        x, baselines=baseline, target=target, n_steps=steps, method="riemann_middle", return_convergence_delta=True)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(delta, their_delta.to(delta.dtype))


@pytest.mark.parametrize("window, stride", [((2, 2), 1), ((3, 2), (2, 1))])
def test_occlusion_matches_captum(model_and_inputs, window, stride):
    model, x, target = model_and_inputs
    strides = (1, stride, stride) if isinstance(stride, int) else (1, *stride)
    theirs = captum_attr.Occlusion(model).attribute(x, sliding_window_shapes=(1, *window), strides=strides,
                                                     baselines=0.0, target=target)
    ours = tattr.occlusion(model, x, target, window=window, stride=stride)
    torch.testing.assert_close(ours, theirs.to(ours.dtype), rtol=1e-5, atol=1e-6)   # Captum sums in float32


def test_grad_cam_matches_captum(model_and_inputs):
    model, x, target = model_and_inputs
    layer = model[3]                                         # the second convolution
    theirs = captum_attr.LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
    torch.testing.assert_close(tattr.grad_cam(model, layer, x, target), theirs)
