"""The LeNet-style models: scratch and torch agree layer for layer; the scratch one passes gradient checks."""
import numpy as np
import pytest
import torch

import d2lite
import d2lite.torch as dt
from d2lite import scratch
from d2lite.data import load_digits
from d2lite.training import Trainer


def copy_scratch_into_torch(s_model, t_model):
    with torch.no_grad():
        for p, q in zip(s_model.parameters(), t_model.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.data))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("image_size", [8, 28])
def test_scratch_and_torch_lenet_compute_the_same_function(image_size, fused):
    s = scratch.lenet(rng=np.random.default_rng(0), image_size=image_size)
    m = dt.lenet(device="cpu", image_size=image_size, fused=fused).double()
    copy_scratch_into_torch(s, m)
    x = np.random.default_rng(1).random((3, 1, image_size, image_size))
    out = s.forward(x)
    assert out.shape == (3, 10)
    np.testing.assert_allclose(m(torch.from_numpy(x)).detach().numpy(), out, rtol=1e-10, atol=1e-12)


def test_scratch_lenet_gradients_match_numerical():
    model = scratch.lenet(rng=np.random.default_rng(0), channels=(2, 3), hidden=5)
    x = np.random.default_rng(1).random((2, 1, 8, 8))
    errors = scratch.check_module_gradients(model, x)
    assert max(errors.values()) < 1e-5, errors


def test_torch_lenet_goes_to_the_default_device():
    assert next(dt.lenet().parameters()).device.type == d2lite.device().type


def test_torch_lenet_trains_with_the_trainer():
    d2lite.seed(0)
    split = load_digits(images=True)
    batch = [(torch.from_numpy(split.X_train[:64]), torch.from_numpy(split.y_train[:64]))]
    model = dt.lenet(device="cpu")
    trainer = Trainer(model, dt.SGD(model.parameters(), lr=0.05, momentum=0.9), dt.SoftmaxCrossEntropy(),
                      device="cpu", live=False, progress=False)
    losses = trainer.fit(batch, epochs=5)["train_loss"]
    assert losses[-1] < losses[0], losses  # accuracy over full training: benchmarks/lenet_digits.py


def test_torch_lenet_trains_on_fused_kernels_and_keeps_the_unfold_versions():
    fused, spelled = dt.lenet(device="cpu"), dt.lenet(device="cpu", fused=False)
    convs = [m for m in fused.modules() if isinstance(m, (dt.Conv2d, dt.MaxPool2d))]
    assert len(convs) == 4 and all(m.fused for m in convs)
    assert not any(m.fused for m in spelled.modules() if isinstance(m, (dt.Conv2d, dt.MaxPool2d)))
    spelled.load_state_dict(fused.state_dict())  # the same parameter names: weights interchange
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(fused(x), spelled(x), rtol=1e-5, atol=1e-6)


def test_relu_module_and_spelled_out_relu_agree_including_the_kink():
    x = torch.tensor([-2.0, -0.0, 0.0, 1e-30, 3.0], dtype=torch.float64)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    dt.ReLU()(a).sum().backward()
    dt.relu(b).sum().backward()
    assert torch.equal(dt.relu(x), dt.ReLU()(x)) and torch.equal(a.grad, b.grad)
    assert a.grad.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
