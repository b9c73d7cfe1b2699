import numpy as np
import pytest
import torch

import d2lite
import d2lite.torch as dt
from d2lite.data import Split, to_loaders
from d2lite.plotting import LivePlot, plot_history
from d2lite.training import BestCheckpoint, EarlyStopping, Trainer, lr_range_test, mean_absolute_error, perplexity


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


# ---- what chapters 3-5 need: resume, callbacks, schedules, clipping, metrics, mixed precision -----

class Interrupt(Exception):
    pass


class InterruptingLoader:
    """Wraps a DataLoader and raises after `after` batches in total, like a run killed mid-epoch."""

    def __init__(self, loader, after):
        self.loader, self.after, self.seen = loader, after, 0
        self.generator = loader.generator

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            if self.seen == self.after:
                raise Interrupt
            self.seen += 1
            yield batch


def resumable_run(checkpoint, epochs, wrap=None, resume=False):
    """A run with everything that draws random numbers: shuffling, dropout, a schedule, early stopping."""
    d2lite.seed(123)  # the same initial weights in every run ...
    model = torch.nn.Sequential(dt.Linear(2, 32), dt.ReLU(), dt.Dropout(0.3), dt.Linear(32, 2))
    if resume:
        d2lite.seed(999)  # ... and a different global random state: resuming must restore it
    optimizer = dt.AdamW(model.parameters(), lr=0.02)
    scheduler = dt.Scheduler(optimizer, lambda t: dt.cosine_warmup_lr(t, 0.02, 5, 60))
    train, test = to_loaders(tiny_split(), 16, seed=0)
    trainer = Trainer(model, optimizer, dt.SoftmaxCrossEntropy(), device="cpu", live=False, progress=False,
                      checkpoint=checkpoint, scheduler=scheduler, clip_grad_norm=1.0,
                      callbacks=[EarlyStopping("test_loss", patience=50)])
    history = trainer.fit(train if wrap is None else wrap(train), epochs, test, resume=resume)
    return model, history


def test_an_interrupted_and_resumed_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path):
    model_a, history_a = resumable_run(None, 6)
    ckpt = str(tmp_path / "run.pt")
    with pytest.raises(Interrupt):  # killed in the middle of epoch 4 (10 batches per epoch)
        resumable_run(ckpt, 6, wrap=lambda loader: InterruptingLoader(loader, after=35))
    assert torch.load(ckpt, weights_only=False)["epoch"] == 3
    model_b, history_b = resumable_run(ckpt, 6, resume=True)
    assert history_b == history_a
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_without_a_checkpoint_file_starts_from_scratch(tmp_path):
    _, history = resumable_run(str(tmp_path / "new.pt"), 2, resume=True)
    assert history["epoch"] == [1, 2]


def test_early_stopping_stops_and_best_checkpoint_keeps_the_best_epoch(tmp_path):
    d2lite.seed(0)
    train, test = to_loaders(tiny_split(), 16)
    model = dt.mlp([2, 32, 2], device="cpu")
    best = BestCheckpoint(str(tmp_path / "best.pt"), monitor="test_loss", mode="min")
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=2.0), dt.SoftmaxCrossEntropy(), live=False,
                      progress=False, callbacks=[EarlyStopping("test_loss", patience=2), best])
    history = trainer.fit(train, 40, test)
    losses = history["test_loss"]
    assert len(losses) < 40
    assert min(losses[:-2]) <= min(losses[-2:])  # the last two epochs did not improve
    saved = torch.load(best.path, weights_only=False)
    assert saved["epoch"] == best.best_epoch == 1 + losses.index(min(losses))


def test_scheduler_hook_per_batch_and_per_epoch():
    train, _ = to_loaders(tiny_split(), 50)  # 3 batches per epoch
    for per, expected in (("batch", 0.1 * 0.5 ** 6), ("epoch", 0.1 * 0.5 ** 2)):
        model = dt.mlp([2, 4, 2], device="cpu")
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        sched = dt.Scheduler(opt, lambda t: dt.exponential_lr(t, 0.1, 0.5))
        Trainer(model, opt, dt.SoftmaxCrossEntropy(), live=False, progress=False, scheduler=sched,
                schedule_per=per).fit(train, 2)
        assert opt.param_groups[0]["lr"] == pytest.approx(expected)


def test_gradient_clipping_bounds_the_step():
    X = torch.tensor([[1000.0, -1000.0]])
    loader = [(X, torch.tensor([1]))]
    model = torch.nn.Linear(2, 2)
    before = [p.detach().clone() for p in model.parameters()]
    Trainer(model, torch.optim.SGD(model.parameters(), lr=1.0), torch.nn.CrossEntropyLoss(), device="cpu",
            live=False, progress=False, clip_grad_norm=0.5).train_epoch(loader)
    step = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    assert step.norm().item() == pytest.approx(0.5, rel=1e-5)


def test_regression_metrics_and_perplexity():
    X = torch.linspace(-1, 1, 40).reshape(-1, 1)
    loader = [(X[:25], 3 * X[:25]), (X[25:], 3 * X[25:])]  # uneven batches: a mean over examples
    model = torch.nn.Linear(1, 1)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.MSELoss(), device="cpu",
                      live=False, progress=False, metrics={"mae": mean_absolute_error})
    loss, metrics = trainer.evaluate(loader)
    with torch.no_grad():
        err = model(X) - 3 * X
    assert loss == pytest.approx((err ** 2).mean().item(), rel=1e-6)
    assert metrics["mae"] == pytest.approx(err.abs().mean().item(), rel=1e-6)
    logits, y = torch.randn(30, 5), torch.randint(0, 5, (30,))
    trainer = Trainer(torch.nn.Identity(), None, torch.nn.CrossEntropyLoss(), device="cpu", live=False,
                      progress=False, metrics={"ppl": perplexity})
    _, metrics = trainer.evaluate([(logits, y)])
    assert metrics["ppl"] == pytest.approx(torch.nn.functional.cross_entropy(logits, y).exp().item(), rel=1e-6)


def test_bf16_autocast_on_the_cpu_trains_and_bad_options_are_explained():
    d2lite.seed(0)
    train, test = to_loaders(tiny_split(), 16)
    model = dt.mlp([2, 16, 2], device="cpu")
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), 0.03), torch.nn.CrossEntropyLoss(), device="cpu",
                      live=False, progress=False, amp="bf16")
    history = trainer.fit(train, 10, test)
    assert history["test_acc"][-1] > 0.8
    assert next(model.parameters()).dtype == torch.float32  # autocast leaves the weights in float32
    with pytest.raises(ValueError, match="bf16"):
        Trainer(model, None, None, device="cpu", amp="fp16")
    with pytest.raises(ValueError, match="'batch' or 'epoch'"):
        Trainer(model, None, None, device="cpu", schedule_per="step")
    with pytest.raises(ValueError, match="checkpoint=path"):
        Trainer(model, None, None, device="cpu", live=False, progress=False).fit(train, 1, resume=True)


def _least_squares(n=20, seed=0):
    """A one-weight linear model on the quadratic loss mean((x·w)²), whose curvature 2·mean(x²) is known."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, generator=gen)
    model = torch.nn.Linear(1, 1, bias=False)
    return model, [(X, torch.zeros(n, 1))], (2 * X.pow(2).mean()).item()


def test_lr_range_test_blows_up_only_past_two_over_the_largest_curvature():
    model, loader, lam_max = _least_squares()
    scan = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.functional.mse_loss, loader,
                         lr_min=1e-3, lr_max=10.0, steps=200, smoothing=0.0)
    assert 2 / lam_max < scan["lr"][-1] < 1.5 * 2 / lam_max  # stopped at the blow-up, just past the limit
    model, loader, lam_max = _least_squares()
    calm = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.functional.mse_loss, loader,
                         lr_min=1e-3, lr_max=0.95 * 2 / lam_max, steps=200, smoothing=0.0)
    assert len(calm["lr"]) == 200  # below 2/λ_max full-batch descent converges: no blow-up
    lowest = scan["lr"][int(np.argmin(scan["smoothed"]))]
    assert lowest < 2 / lam_max and scan["suggested"] == pytest.approx(lowest / 10)
    ratios = np.diff(np.log(scan["lr"]))
    assert np.allclose(ratios, np.log(1e4) / 199)  # geometric growth from lr_min to lr_max


def test_lr_range_test_restores_the_model_and_the_optimizer_and_cycles_the_loader():
    d2lite.seed(0)
    model = dt.mlp([4, 8, 3], device="cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    X, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    loss_fn = dt.SoftmaxCrossEntropy()
    loss_fn(model(X), y).backward()
    optimizer.step()  # a momentum buffer exists before the test
    before = {k: v.clone() for k, v in model.state_dict().items()}
    buffers = [optimizer.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    scan = lr_range_test(model, optimizer, loss_fn, [(X[:3], y[:3]), (X[3:], y[3:])], lr_min=1e-6, lr_max=1e-5,
                         steps=7)
    assert len(scan["lr"]) == 7 == len(scan["loss"]) == len(scan["smoothed"])  # two batches, cycled
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(b, optimizer.state[p]["momentum_buffer"]) for b, p in zip(buffers, model.parameters()))
    assert optimizer.param_groups[0]["lr"] == 0.05
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        lr_range_test(model, optimizer, loss_fn, [(X, y)], lr_min=1.0, lr_max=0.1)
