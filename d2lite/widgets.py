"""Interactive figures that degrade gracefully.

`show_interactive(widget, fallback)` displays an ipywidgets widget together with
a static PNG of `fallback` (a matplotlib figure) in one output. Front ends that
run widgets (JupyterLab, Notebook, VS Code) show the widget; those that cannot
(GitHub, nbviewer, exported HTML, a kernel without ipywidgets) show the picture.
Outside a notebook there is nothing to show it on, and nothing is shown.
"""
import base64
import io

import matplotlib.pyplot as plt

from d2lite.plotting import in_notebook


def figure_png(fig):
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=90)
    return buf.getvalue()


def show_interactive(widget, fallback, caption="static view: open in JupyterLab to interact"):
    """Display `widget` (or None) with `fallback` as its static stand-in; close the figure."""
    png = base64.b64encode(figure_png(fallback)).decode("ascii")
    plt.close(fallback)
    if not in_notebook():
        return
    from IPython.display import display

    bundle = {"image/png": png, "text/plain": caption}
    if widget is not None:
        bundle.update(widget._repr_mimebundle_())
        bundle["text/plain"] = caption
    display(bundle, raw=True)
