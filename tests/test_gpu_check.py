"""benchmarks/gpu_check.py passes without a GPU by saying so, and its comparison runs (CPU against CPU here)."""
import torch
from scripts import load_script


def load():
    return load_script("benchmarks/gpu_check.py")


def test_without_a_gpu_it_says_so_and_passes(monkeypatch, capsys):
    gpu_check = load()
    monkeypatch.setattr(gpu_check, "gpu", lambda: None)
    monkeypatch.setattr("sys.argv", ["gpu_check.py"])
    assert gpu_check.main() == 0
    assert "No GPU found" in capsys.readouterr().out


def test_the_comparison_runs_and_agrees_with_itself(monkeypatch, capsys):
    gpu_check = load()
    every = gpu_check.models()
    small = [(name, make, shape, classes, 4) for name, make, shape, classes, _ in every[::2]]  # small batches: fast
    monkeypatch.setattr(gpu_check, "models", lambda: small)
    monkeypatch.setattr(gpu_check, "gpu", lambda: torch.device("cpu"))
    monkeypatch.setattr("sys.argv", ["gpu_check.py", "--steps", "2", "--repeat", "1"])
    assert gpu_check.main() == 0
    out = capsys.readouterr().out
    assert out.count("ok  ") == len(small) and "all models agree" in out
