"""A small Trainer for the PyTorch path: device placement, progress bar, live plot, checkpoints."""
import os
import tempfile

import torch

from d2lite.plotting import LivePlot
from d2lite.runtime import device as default_device
from d2lite.runtime import progress


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


class Trainer:
    """Fits a classifier: `Trainer(model, optimizer, loss_fn).fit(train_loader, epochs, test_loader)`.

    The model and every batch go to `device` (default d2lite.device()). `fit`
    returns the history: a dict of lists, one entry per epoch. With `live=True`
    a plot redraws after each epoch in a notebook (a text line in a terminal);
    with `checkpoint` set, model and optimizer state are saved there each epoch.
    """

    def __init__(self, model, optimizer, loss_fn, device=None, live=True, checkpoint=None,
                 progress=True):
        self.device = default_device() if device is None else torch.device(device)
        self.model = model.to(self.device)
        self.optimizer, self.loss_fn = optimizer, loss_fn
        self.live, self.checkpoint, self.progress = live, checkpoint, progress

    def train_epoch(self, loader, bar=None):
        """One pass over `loader`; returns (mean loss, accuracy). `bar` (tqdm) advances per batch."""
        self.model.train()
        total_loss = correct = count = 0
        for X, y in loader:
            X, y = X.to(self.device), y.to(self.device)
            logits = self.model(X)
            loss = self.loss_fn(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
            if bar is not None:
                bar.update(1)
        return total_loss / count, correct / count

    @torch.no_grad()
    def evaluate(self, loader):
        """(mean loss, accuracy) of the model on every batch of `loader`."""
        self.model.eval()
        total_loss = correct = count = 0
        for X, y in loader:
            X, y = X.to(self.device), y.to(self.device)
            logits = self.model(X)
            total_loss += self.loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
        return total_loss / count, correct / count

    def fit(self, train_loader, epochs, test_loader=None):
        plot = LivePlot(title=f"training on {self.device}") if self.live else None
        history = {"epoch": [], "train_loss": [], "train_acc": []}
        if test_loader is not None:
            history.update(test_loss=[], test_acc=[])
        bar = progress(total=epochs * len(train_loader), desc="training", unit="batch", disable=not self.progress)
        for epoch in range(1, epochs + 1):
            bar.set_description(f"epoch {epoch}/{epochs}")
            metrics = dict(zip(("train_loss", "train_acc"), self.train_epoch(train_loader, bar)))
            if test_loader is not None:
                metrics.update(zip(("test_loss", "test_acc"), self.evaluate(test_loader)))
            history["epoch"].append(epoch)
            for k, v in metrics.items():
                history[k].append(v)
            if plot is not None:
                plot.update(epoch, **metrics)
            if self.checkpoint:
                save_checkpoint({"epoch": epoch, "model": self.model.state_dict(),
                                 "optimizer": self.optimizer.state_dict(), "history": history},
                                self.checkpoint)
            bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()})
        bar.close()
        return history
