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


def show_images(images, titles=None, ncols=8, cmap="gray", size=1.3, symmetric=False, suptitle=None):
    """A grid of 2-D arrays (images, filters, feature maps) as one figure, which is returned.

    `images` is a sequence of 2-D arrays or one array of shape (K, H, W).
    Each panel is scaled on its own; with `symmetric=True` the scale is centred
    on zero (blue below, red above, white at 0), which suits signed weights.
    """
    import numpy as np

    images = [np.asarray(im) for im in images]
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= len(images):
            continue
        im = images[k]
        if symmetric:
            bound = float(np.abs(im).max()) or 1.0
            ax.imshow(im, cmap="RdBu_r", vmin=-bound, vmax=bound)
        else:
            ax.imshow(im, cmap=cmap)
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def draw_grid(ax, values, highlight=None, padding=0, fmt="{:g}", cmap=None, title=None, fontsize=9):
    """Draw a small 2-D array on `ax` as coloured cells with each value written in it.

    `highlight` is a window (row, col, height, width) outlined in red, or a list
    of them; the outer `padding` rows and columns are hatched to mark zero padding.
    Colours stay pale so the numbers remain readable: blue shades by default, or
    red/blue centred on zero when the array has negative entries. Meant for the
    worked examples of convolution and pooling; returns `ax`.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    values = np.asarray(values, dtype=float)
    h, w = values.shape
    bound = max(float(np.abs(values).max()), 1e-12) * 1.6
    if values.min() < 0:
        ax.imshow(values, cmap=cmap or "RdBu_r", vmin=-bound, vmax=bound)
    else:
        ax.imshow(values, cmap=cmap or "Blues", vmin=0, vmax=bound)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize)
    if padding:
        for i in range(h):
            for j in range(w):
                if min(i, j) < padding or i >= h - padding or j >= w - padding:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                           edgecolor="0.6", lw=0))
    windows = [] if highlight is None else [highlight] if np.isscalar(highlight[0]) else highlight
    for row, col, hh, ww in windows:
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), ww, hh, fill=False, edgecolor="red", lw=2.5))
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax
