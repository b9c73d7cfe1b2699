"""A small Trainer for the PyTorch path: device placement, progress bar, live plot, checkpoints.

It adds almost nothing to a bare training loop: losses and metrics are summed
on the device and read once per epoch (a `.item()` per batch would make the CPU
wait for the GPU at every step). Around the loop it offers what longer runs need:
a learning-rate schedule, gradient clipping, mixed precision, callbacks (early
stopping, best checkpoint) and checkpoints from which a run resumes exactly.
`lr_range_test` finds a learning rate before training (Smith, 2017).
"""
import contextlib
import copy
import math
import os
import random
import tempfile

import numpy as np
import torch

from d2lite.plotting import LivePlot
from d2lite.runtime import device as default_device
from d2lite.runtime import progress


class Metric:
    """A quantity averaged over an epoch: `batch_sum(outputs, targets)` is summed on the device over
    the examples, divided by their number, then passed through `finish`. Without `batch_sum`
    the metric is `finish(mean loss)` (perplexity is exp of the mean cross-entropy)."""

    def __init__(self, batch_sum=None, finish=None):
        self.batch_sum, self.finish = batch_sum, finish

    def result(self, total, count, mean_loss):
        mean = mean_loss if self.batch_sum is None else total / count
        return self.finish(mean) if self.finish else mean


def _correct(outputs, targets):
    return (outputs.argmax(dim=1) == targets).sum()


def _absolute_error(outputs, targets):
    return (outputs - targets).abs().reshape(len(targets), -1).mean(dim=1).sum()


accuracy_metric = Metric(_correct)                    # fraction of rows whose largest output is the label
mean_absolute_error = Metric(_absolute_error)         # regression: mean |prediction − target|
perplexity = Metric(finish=math.exp)                  # language models: exp(mean cross-entropy)


class _Tally:
    """Sums of the loss and metrics over a pass. Batches are kept (detached) and reduced in
    chunks, so that the per-batch cost is a list append, not a handful of tiny tensor ops."""

    MAX_BATCHES, MAX_ELEMENTS = 64, 1 << 22

    def __init__(self, metrics, device):
        self.metrics = {k: m for k, m in metrics.items() if m.batch_sum is not None}
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.sums = {k: torch.zeros((), device=device, dtype=dtype) for k in ["loss", *self.metrics]}
        self.count, self.pending, self.elements = 0, [], 0

    def add(self, loss, outputs, targets):
        if self.metrics:
            self.pending.append((loss.detach(), outputs.detach(), targets))
            self.elements += outputs.numel()
        else:  # only the loss is summed: keep no outputs
            self.pending.append((loss.detach(), None, targets))
        self.count += len(targets)
        if len(self.pending) >= self.MAX_BATCHES or self.elements >= self.MAX_ELEMENTS:
            self.flush()

    @torch.no_grad()
    def flush(self):
        if not self.pending:
            return
        losses, outputs, targets = zip(*self.pending)
        dtype = self.sums["loss"].dtype
        sizes = [len(t) for t in targets]
        if min(sizes) == max(sizes):  # the usual case: skip building a tensor of sizes
            self.sums["loss"] += torch.stack(losses).to(dtype).sum() * sizes[0]
        else:
            weights = torch.tensor(sizes, dtype=dtype).to(losses[0].device, non_blocking=True)
            self.sums["loss"] += (torch.stack(losses).to(dtype) * weights).sum()
        if self.metrics:
            outputs, targets = torch.cat(outputs), torch.cat(targets)
            for name, metric in self.metrics.items():
                self.sums[name] += metric.batch_sum(outputs, targets)
        self.pending, self.elements = [], 0

    def results(self, metrics):
        self.flush()
        if self.count == 0:
            raise ValueError("the loader yielded no batches")
        totals = {k: v.item() for k, v in self.sums.items()}  # the one synchronisation per pass
        mean_loss = totals["loss"] / self.count
        return {"loss": mean_loss, **{name: m.result(totals.get(name), self.count, mean_loss)
                                      for name, m in metrics.items()}}


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is at the true label."""
    return (logits.argmax(dim=1) == labels).float().mean().item()


def save_checkpoint(state, path):
    """Write with torch.save to a temporary file, then rename: a crash never leaves half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _better(value, best, mode):
    return best is None or (value < best if mode == "min" else value > best)


class EarlyStopping:
    """Stop when `monitor` (a history key such as "test_loss") has not improved for `patience` epochs."""

    def __init__(self, monitor="test_loss", patience=3, mode="min"):
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.best, self.bad_epochs = None, 0

    def on_epoch_end(self, trainer, epoch, metrics):
        if _better(metrics[self.monitor], self.best, self.mode):
            self.best, self.bad_epochs = metrics[self.monitor], 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience  # True: stop training

    def state_dict(self):
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]


class BestCheckpoint:
    """Save the model's weights to `path` whenever `monitor` reaches its best value so far."""

    def __init__(self, path, monitor="test_acc", mode="max"):
        self.path, self.monitor, self.mode = path, monitor, mode
        self.best, self.best_epoch = None, None

    def on_epoch_end(self, trainer, epoch, metrics):
        if _better(metrics[self.monitor], self.best, self.mode):
            self.best, self.best_epoch = metrics[self.monitor], epoch
            save_checkpoint({"epoch": epoch, self.monitor: self.best, "model": trainer.model.state_dict()}, self.path)
        return False

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


def _rng_states(loaders):
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "loaders": [loader.generator.get_state() if getattr(loader, "generator", None) is not None else None
                        for loader in loaders]}


def _set_rng_states(state, loaders):
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for loader, saved in zip(loaders, state["loaders"]):
        if saved is not None:
            loader.generator.set_state(saved)


class Trainer:
    """Fits a model: `Trainer(model, optimizer, loss_fn).fit(train_loader, epochs, test_loader)`.

    The model and every batch go to `device` (default d2lite.device()). `fit`
    returns the history: a dict of lists, one entry per epoch ("train_loss",
    "train_acc", "test_loss", "test_acc", ...). With `live=True` a plot redraws
    after each epoch in a notebook (a text line in a terminal).

    Options: `metrics` maps names to Metric objects (default {"acc": accuracy_metric};
    use {} for regression, or {"mae": mean_absolute_error}, {"ppl": perplexity});
    `scheduler` is stepped after every batch (`schedule_per="batch"`) or epoch;
    `clip_grad_norm` rescales gradients whose global norm exceeds it; `amp`
    ("bf16", "fp16" or None) runs forward and loss under torch.autocast (fp16 with a
    gradient scaler, on CUDA); `callbacks` get `on_epoch_end(trainer, epoch, metrics)`
    and stop training by returning True. With `checkpoint` set, everything needed to
    continue (model, optimizer, scheduler, scaler, callbacks, random states, history)
    is saved there after each epoch, and `fit(..., resume=True)` continues from it:
    on the CPU the resumed run ends bit for bit where the uninterrupted one would.
    """

    def __init__(self, model, optimizer, loss_fn, device=None, live=True, checkpoint=None, progress=True,
                 metrics=None, scheduler=None, schedule_per="batch", clip_grad_norm=None, amp=None,
                 callbacks=()):
        self.device = default_device() if device is None else torch.device(device)
        self.model = model.to(self.device)
        self.optimizer, self.loss_fn = optimizer, loss_fn
        self.live, self.checkpoint, self.progress = live, checkpoint, progress
        self.metrics = {"acc": accuracy_metric} if metrics is None else dict(metrics)
        if schedule_per not in ("batch", "epoch"):
            raise ValueError(f"schedule_per must be 'batch' or 'epoch', got {schedule_per!r}")
        self.scheduler, self.schedule_per, self.clip_grad_norm = scheduler, schedule_per, clip_grad_norm
        amp_dtypes = {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}
        if amp not in amp_dtypes:
            raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
        if amp == "fp16" and self.device.type == "cpu":
            raise ValueError("fp16 autocast needs a GPU; on the CPU use amp='bf16'")
        self.amp_dtype = amp_dtypes[amp]
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp == "fp16")
        self._scaled = self.scaler.is_enabled()  # fixed at construction; asked once, not at every batch
        self.callbacks = list(callbacks)

    _NO_AUTOCAST = contextlib.nullcontext()  # reusable: one object for every batch

    def _autocast(self):
        if self.amp_dtype is None:
            return self._NO_AUTOCAST
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _step(self, loss):
        """Backward, update and (per-batch) schedule step; with fp16 the gradient scaler scales the loss and unscales before clipping."""
        self.optimizer.zero_grad(set_to_none=True)
        scaled = self._scaled
        (self.scaler.scale(loss) if scaled else loss).backward()
        if self.clip_grad_norm is not None:
            if scaled:
                self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        if scaled:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None and self.schedule_per == "batch":
            self.scheduler.step()

    def _run(self, loader, train, bar=None):
        """One pass over `loader`; sums stay on the device and are read once at the end."""
        tally = _Tally(self.metrics, self.device)
        device, model, loss_fn, add = self.device, self.model, self.loss_fn, tally.add  # looked up once per pass
        for X, y in loader:
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with self._autocast():
                outputs = model(X)
                loss = loss_fn(outputs, y)
            if train:
                self._step(loss)
            add(loss, outputs, y)
            if bar is not None:
                bar.update(1)
        return tally.results(self.metrics)

    def train_epoch(self, loader, bar=None):
        """One training pass over `loader`; returns (mean loss, accuracy), or (mean loss, {metric: value})
        when the metrics are not the default. `bar` (tqdm) advances per batch."""
        self.model.train()
        return self._pair(self._run(loader, train=True, bar=bar))

    @torch.no_grad()
    def evaluate(self, loader):
        """(mean loss, accuracy) of the model on every batch of `loader` (see train_epoch for other metrics)."""
        self.model.eval()
        return self._pair(self._run(loader, train=False))

    def _pair(self, results):
        rest = {k: v for k, v in results.items() if k != "loss"}
        return (results["loss"], rest["acc"]) if list(rest) == ["acc"] else (results["loss"], rest)

    def _state(self, epoch, history, loaders):
        return {"epoch": epoch, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "scaler": self.scaler.state_dict(), "history": history,
                "callbacks": [getattr(cb, "state_dict", dict)() for cb in self.callbacks],
                "rng": _rng_states(loaders)}

    def _restore(self, state, loaders):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        for cb, saved in zip(self.callbacks, state["callbacks"]):
            if hasattr(cb, "load_state_dict"):
                cb.load_state_dict(saved)
        _set_rng_states(state["rng"], loaders)
        return state["epoch"], state["history"]

    def fit(self, train_loader, epochs, test_loader=None, resume=False):
        """Train for `epochs` epochs (counted from the start, also when resuming); returns the history."""
        loaders = [train_loader] + ([test_loader] if test_loader is not None else [])
        history, start = {"epoch": []}, 0
        if resume:
            if not self.checkpoint:
                raise ValueError("resume=True needs Trainer(..., checkpoint=path)")
            if os.path.exists(self.checkpoint):
                start, history = self._restore(torch.load(self.checkpoint, weights_only=False,
                                                          map_location=self.device), loaders)
        plot = LivePlot(title=f"training on {self.device}") if self.live else None
        if plot is not None:
            for i, epoch in enumerate(history["epoch"]):
                plot.update(epoch, **{k: v[i] for k, v in history.items() if k != "epoch"})
        bar = progress(total=(epochs - start) * len(train_loader), desc="training", unit="batch",
                       disable=not self.progress, mininterval=0.5)  # each redraw costs: two a second suffice
        for epoch in range(start + 1, epochs + 1):
            bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)  # redrawn at the next update
            self.model.train()
            metrics = {f"train_{k}": v for k, v in self._run(train_loader, train=True, bar=bar).items()}
            if self.scheduler is not None and self.schedule_per == "epoch":
                self.scheduler.step()
            if test_loader is not None:
                self.model.eval()
                with torch.no_grad():
                    metrics.update({f"test_{k}": v for k, v in self._run(test_loader, train=False).items()})
            history["epoch"].append(epoch)
            for k, v in metrics.items():
                history.setdefault(k, []).append(v)
            if plot is not None:
                plot.update(epoch, **metrics)
            stop = any([cb.on_epoch_end(self, epoch, metrics) for cb in self.callbacks])
            if self.checkpoint:
                save_checkpoint(self._state(epoch, history, loaders), self.checkpoint)
            bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()}, refresh=False)
            if stop:
                break
        bar.close()
        return history


def lr_range_test(model, optimizer, loss_fn, loader, lr_min=1e-5, lr_max=10.0, steps=100, smoothing=0.9,
                  stop_factor=4.0, device=None):
    """Smith's learning-rate range test (2017): take `steps` training steps while the learning rate grows
    geometrically from `lr_min` to `lr_max`, one batch each (cycling through `loader`), and record the loss.

    Stops early once the smoothed loss exceeds `stop_factor` times its lowest value (the blow-up).
    The smoothed loss is an exponential average with weight `smoothing` on the past, bias-corrected.
    Model and optimizer are restored afterwards, so training can start from the same weights.
    Returns {"lr": [...], "loss": [...], "smoothed": [...], "suggested": lr}, where "suggested" is a
    rule of thumb: a tenth of the learning rate at which the smoothed loss was lowest.
    """
    if not 0 < lr_min < lr_max or steps < 2:
        raise ValueError(f"need 0 < lr_min < lr_max and steps >= 2, got lr_min={lr_min}, lr_max={lr_max}, "
                         f"steps={steps}")
    device = next(model.parameters()).device if device is None else torch.device(device)
    saved = {k: v.clone() for k, v in model.state_dict().items()}, copy.deepcopy(optimizer.state_dict())
    result = {"lr": [], "loss": [], "smoothed": []}
    average, batches = 0.0, iter(loader)
    model.train()
    try:
        for step in range(steps):
            lr = lr_min * (lr_max / lr_min) ** (step / (steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            try:
                X, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                X, y = next(batches)
            loss = loss_fn(model(X.to(device)), y.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = loss.item()
            average = smoothing * average + (1 - smoothing) * value
            smoothed = average / (1 - smoothing ** (step + 1))
            result["lr"].append(lr)
            result["loss"].append(value)
            result["smoothed"].append(smoothed)
            if not math.isfinite(smoothed) or smoothed > stop_factor * min(result["smoothed"]):
                break
    finally:
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
    best = int(np.nanargmin(result["smoothed"]))
    result["suggested"] = result["lr"][best] / 10
    return result
