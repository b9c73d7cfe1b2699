import numpy as np
import torch

import d2lite
import d2lite.torch as dt
from d2lite.data import Split, to_loaders
from d2lite.plotting import LivePlot, plot_history
from d2lite.training import Trainer


def tiny_split():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR-like quadrants: needs a hidden layer
    return Split(X[:150], X[150:], y[:150], y[150:])


def test_trainer_learns_and_returns_history(tmp_path, capsys):
    d2lite.seed(0)
    train, test = to_loaders(tiny_split(), 16)
    model = dt.mlp([2, 32, 2])
    ckpt = tmp_path / "ckpt" / "model.pt"
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), 0.02), dt.SoftmaxCrossEntropy(),
                      checkpoint=str(ckpt), progress=False)
    history = trainer.fit(train, 15, test)
    assert history["epoch"] == list(range(1, 16))
    assert history["test_acc"][-1] > 0.85
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert "epoch  15" in capsys.readouterr().out  # the live plot degrades to text outside a notebook
    state = torch.load(ckpt, weights_only=False)
    assert state["epoch"] == 15 and set(state) >= {"model", "optimizer", "history"}
    assert list(ckpt.parent.iterdir()) == [ckpt]  # no temporary files left behind


def test_plot_history_has_loss_and_accuracy_axes():
    fig = plot_history({"train_loss": [1.0, 0.5], "test_acc": [0.5, 0.8]})
    assert len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]


def test_live_plot_collects_history_without_a_notebook(capsys):
    plot = LivePlot(notebook=False)
    plot.update(1, train_loss=0.5)
    plot.update(2, train_loss=0.25)
    assert plot.history == {"train_loss": [0.5, 0.25]}
    assert "train_loss 0.2500" in capsys.readouterr().out
