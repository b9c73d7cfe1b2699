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


def test_text_progress_prints_one_final_line(monkeypatch, capsys):
    from d2lite.runtime import progress

    monkeypatch.setenv("D2LITE_PROGRESS", "text")
    for _ in progress(range(4), desc="epochs"):
        pass
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\r" not in out
    assert out.startswith("epochs: 100%") and "4/4" in out


def test_limit_threads_sets_torch_and_blas():
    import torch
    from threadpoolctl import threadpool_info

    from d2lite.runtime import limit_threads

    before = torch.get_num_threads()
    limiter = limit_threads(1)
    try:
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    finally:
        limiter.restore_original_limits()
        torch.set_num_threads(before)
