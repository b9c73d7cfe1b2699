"""Plotting helpers: a live training plot for notebooks that falls back to text in a terminal."""
import matplotlib.pyplot as plt


def in_notebook():
    """True inside a Jupyter kernel (where rich output is shown), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class LivePlot:
    """Curves that grow as training goes: redrawn in place in a notebook, printed as a line elsewhere.

    `update(epoch, **metrics)` adds one point per metric; metrics whose names end
    in "loss" go on the left axes, the rest (accuracies) on the right.
    """

    def __init__(self, title="training", notebook=None):
        self.title = title
        self.notebook = in_notebook() if notebook is None else notebook
        self.history = {}
        self.epochs = []
        self.handle = None

    def update(self, epoch, **metrics):
        self.epochs.append(epoch)
        for name, value in metrics.items():
            self.history.setdefault(name, []).append(value)
        if self.notebook:
            self._redraw()
        else:
            shown = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            print(f"epoch {epoch:3d}  {shown}", flush=True)

    def _redraw(self):
        from IPython.display import display

        fig = plot_history(self.history, self.epochs, title=self.title)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)


def plot_history(history, epochs=None, title=None):
    """A figure of loss curves (left) and accuracy curves (right) from a history dict."""
    losses = {k: v for k, v in history.items() if k.endswith("loss")}
    others = {k: v for k, v in history.items() if not k.endswith("loss") and k != "epoch"}
    fig, axes = plt.subplots(1, 2 if others else 1, figsize=(9 if others else 4.5, 3.2), squeeze=False)
    for ax, group, label in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "accuracy")):
        if not group:
            continue
        for name, values in group.items():
            xs = epochs if epochs is not None else range(1, len(values) + 1)
            ax.plot(list(xs)[:len(values)], values, marker="o", ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
