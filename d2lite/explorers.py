"""Explorers: small interactive figures for the notebooks.

Each explorer returns `(widget, fallback_figure)` so a notebook can write
`show_interactive(*neuron_explorer())` (see d2lite.widgets): readers with
ipywidgets get sliders, every other front end gets the static picture.
"""
import matplotlib.pyplot as plt
import numpy as np

from d2lite.scratch import SGD, Parameter
from d2lite.scratch import activations as act

# name -> (function, derivative), both written in terms of the pre-activation z.
ACTIVATIONS = {
    "relu": (act.relu, act.relu_grad),
    "sigmoid": (act.sigmoid, act.sigmoid_grad),
    "tanh": (act.tanh, act.tanh_grad),
    "identity": (lambda z: z, np.ones_like),
}


def _redrawn(controls, draw):
    """An ipywidgets Output showing draw(**{name: control value}), redrawn whenever a control changes."""
    import ipywidgets as w
    from IPython.display import display

    out = w.Output()

    def redraw(_=None):
        fig = draw(**{name: c.value for name, c in controls.items()})
        with out:
            out.clear_output(wait=True)
            display(fig)
        plt.close(fig)

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return out


def neuron_figure(weight=1.0, bias=0.0, activation="relu", derivative=True, xlim=(-4.0, 4.0)):
    """Plot one neuron a = φ(w·x + b) against its input x, and da/dx = w·φ'(w·x + b) if asked."""
    f, df = ACTIVATIONS[activation]
    x = np.linspace(*xlim, 401)
    z = weight * x + bias
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(x, f(z), lw=2, label=f"a = {activation}({weight:.2g}·x {'-' if bias < 0 else '+'} {abs(bias):.2g})")
    if derivative:
        ax.plot(x, weight * df(z), "--", label="da/dx = w·φ'(w·x + b)")
    if weight != 0 and xlim[0] < -bias / weight < xlim[1]:
        ax.axvline(-bias / weight, color="gray", ls=":", lw=1, label="z = 0 at x = -b/w")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlim(*xlim)
    ax.set_xlabel("input x")
    ax.set_ylabel("output")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def neuron_explorer(weight=1.0, bias=0.0, activation="relu"):
    """Sliders for w and b and a menu of activations that redraw `neuron_figure`.

    Returns (widget, fallback figure); the widget is None when ipywidgets is missing.
    """
    fallback = neuron_figure(weight, bias, activation)
    try:
        import ipywidgets as w
    except ImportError:
        return None, fallback

    controls = {
        "weight": w.FloatSlider(value=weight, min=-3, max=3, step=0.1, description="weight w"),
        "bias": w.FloatSlider(value=bias, min=-3, max=3, step=0.1, description="bias b"),
        "activation": w.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation"),
        "derivative": w.Checkbox(value=True, description="show da/dx"),
    }
    out = _redrawn(controls, neuron_figure)
    return w.VBox([w.HBox([controls["weight"], controls["bias"]]),
                   w.HBox([controls["activation"], controls["derivative"]]), out]), fallback


def valley(curvatures=(1.0, 20.0), angle=30.0):
    """The matrix A of f(w) = ½·wᵀAw: a valley with the given curvatures (A's eigenvalues), turned by
    `angle` degrees, so that neither axis is a direction of the valley."""
    a = np.radians(angle)
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return turn @ np.diag(curvatures) @ turn.T


def descent_path(A, start, lr, momentum=0.0, steps=50):
    """The iterates of d2lite.scratch.SGD (heavy-ball momentum `momentum`) on f(w) = ½·wᵀAw, gradient A·w:
    an array (steps + 1, dim). Stops early, with fewer rows, once |w| passes 1e6 (divergence)."""
    p = Parameter(np.array(start, dtype=np.float64))
    optimizer = SGD([p], lr=lr, momentum=momentum)
    path = [p.data.copy()]
    for _ in range(steps):
        p.grad[...] = A @ p.data
        optimizer.step()
        path.append(p.data.copy())
        if np.linalg.norm(p.data) > 1e6:
            break
    return np.array(path)


def descent_figure(lr=0.05, momentum=0.0, curvatures=(1.0, 20.0), angle=30.0, start=(-3.0, 2.0), steps=50):
    """The path of gradient descent with momentum on a turned valley, over the contours of f."""
    A = valley(curvatures, angle)
    path = descent_path(A, start, lr, momentum, steps)
    u, v = np.meshgrid(np.linspace(-4, 4, 160), np.linspace(-3, 3, 120))
    f = 0.5 * (A[0, 0] * u ** 2 + 2 * A[0, 1] * u * v + A[1, 1] * v ** 2)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.contour(u, v, f, levels=np.geomspace(0.05, 4 * f.max(), 14), colors="0.75", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1)
    ax.plot(0, 0, "k*", ms=10)
    limit = 2 * (1 + momentum) / max(curvatures)
    end = np.linalg.norm(path[-1])
    status = "diverges" if len(path) <= steps or end > np.linalg.norm(start) else f"|w| = {end:.2g} after {steps} steps"
    ax.set_title(f"lr {lr:.3g}, momentum {momentum:.2f} (stable below lr {limit:.3g}): {status}", fontsize=9)
    ax.set(xlim=(-4, 4), ylim=(-3, 3), xlabel="$w_1$", ylabel="$w_2$")
    fig.tight_layout()
    return fig


def sampling_figure(tokens, probs, sample, title="next-character probabilities"):
    """Bars for the most likely next tokens (`tokens` labels, `probs` their probabilities), the sample below."""
    order = np.argsort(-np.asarray(probs))[:20]
    fig, (ax, text_ax) = plt.subplots(2, 1, figsize=(7, 4.6), gridspec_kw={"height_ratios": [1.2, 1]})
    ax.bar(range(len(order)), np.asarray(probs)[order], color="#1f77b4")
    ax.set_xticks(range(len(order)), [repr(tokens[i])[1:-1] or "''" for i in order])
    ax.set_xlabel("next character (the 20 most likely)")
    ax.set_ylabel("probability")
    ax.set_title(title, fontsize=10)
    text_ax.axis("off")
    text_ax.text(0, 1, sample, va="top", family="monospace", fontsize=8, wrap=True)
    fig.tight_layout()
    return fig


def descent_explorer(lr=0.05, momentum=0.0, curvatures=(1.0, 20.0)):
    """Sliders for the learning rate and the momentum that redraw `descent_figure`; (widget, fallback figure)."""
    fallback = descent_figure(lr, momentum, curvatures)
    try:
        import ipywidgets as w
    except ImportError:
        return None, fallback

    controls = {
        "lr": w.FloatSlider(value=lr, min=0.005, max=0.2, step=0.005, readout_format=".3f", description="lr η"),
        "momentum": w.FloatSlider(value=momentum, min=0.0, max=0.95, step=0.05, description="momentum μ"),
    }
    out = _redrawn(controls, lambda **values: descent_figure(curvatures=curvatures, **values))
    return w.VBox([w.HBox(list(controls.values())), out]), fallback


def sampling_explorer(next_probs, sample, temperature=1.0, top_k=0):
    """Sliders for the sampling temperature and top-k (0: all) and a seed, redrawing `sampling_figure`.

    `next_probs(temperature, top_k) -> (tokens, probs)` and `sample(temperature, top_k, seed) -> str` come
    from the model. Returns (widget, fallback figure); the widget is None when ipywidgets is missing.
    """
    def figure(temperature, top_k, seed):
        tokens, probs = next_probs(temperature, top_k)
        return sampling_figure(tokens, probs, sample(temperature, top_k, seed),
                               f"temperature {temperature:g}, top-k {top_k or 'all'}, seed {seed}")

    fallback = figure(temperature, top_k, 0)
    try:
        import ipywidgets as w
    except ImportError:
        return None, fallback
    controls = {
        "temperature": w.FloatSlider(value=temperature, min=0.1, max=2.5, step=0.1, description="temperature"),
        "top_k": w.IntSlider(value=top_k, min=0, max=40, description="top-k (0: all)"),
        "seed": w.IntSlider(value=0, min=0, max=20, description="seed"),
    }
    return w.VBox([w.HBox(list(controls.values())), _redrawn(controls, figure)]), fallback
