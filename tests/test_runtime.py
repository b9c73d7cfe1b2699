import random

import numpy as np
import pytest
import torch

import d2lite


def test_device_defaults_to_an_available_device(monkeypatch):
    monkeypatch.delenv("D2LITE_DEVICE", raising=False)
    dev = d2lite.device()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.type == expected


def test_env_var_forces_cpu(monkeypatch):
    monkeypatch.setenv("D2LITE_DEVICE", "cpu")
    assert d2lite.device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_forcing_missing_cuda_says_what_to_do(monkeypatch):
    monkeypatch.setenv("D2LITE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        d2lite.device()


def test_seed_makes_every_generator_repeat():
    def draw():
        rng = d2lite.seed(123)
        return random.random(), np.random.rand(), torch.rand(1).item(), rng.random()

    assert draw() == draw()
    d2lite.seed(124)
    assert draw() != (random.random(), np.random.rand(), torch.rand(1).item(), 0.0)
