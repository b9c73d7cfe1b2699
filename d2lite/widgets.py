"""Interactive figures that degrade gracefully.

`show_interactive(widget, fallback)` displays an ipywidgets widget together with
a static PNG of `fallback` (a matplotlib figure) in one output. Front ends that
run widgets (JupyterLab, Notebook, VS Code) show the widget; those that cannot
(GitHub, nbviewer, exported HTML, a kernel without ipywidgets) show the picture.
Outside a notebook there is nothing to show it on, and nothing is shown.

Saving: a widget's output stores only a reference to the widget's state, which
JupyterLab saves only when "Save Widget State Automatically" is on (off by default).
Reopened without that state, the reference shows "Error displaying widget: model not
found" instead of the picture beside it. `install_jupyter_config()` (run by
`python -m d2lite.widgets`) turns that setting on and registers
`drop_widget_views_without_state` as the server's pre-save hook, which removes every
widget reference whose state is not saved with it, so the static picture shows instead.
"""
import base64
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-fA-F]+)")


def _has_state(model_id, saved):
    """True when `model_id` and every model its state refers to (children, layout, ...) are in `saved`."""
    todo, seen = [model_id], set()
    while todo:
        mid = todo.pop()
        if mid in seen:
            continue
        if mid not in saved:
            return False
        seen.add(mid)
        todo.extend(_REFERENCE.findall(json.dumps(saved[mid].get("state", {}))))
    return True


def drop_widget_views_without_state(model, **_):
    """Jupyter pre-save hook: remove widget references whose state the notebook does not store.

    Called by the contents manager as hook(model=..., path=..., contents_manager=...).
    Each such output keeps its other representations (the static picture and its
    caption), so a reopened notebook shows those instead of an error. Returns the
    number of references removed.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return 0
    nb = model["content"]
    saved = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    removed = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            view = data.get(WIDGET_VIEW)
            if view is not None and not _has_state(view.get("model_id", ""), saved):
                del data[WIDGET_VIEW]
                data.setdefault("text/plain", "(an interactive widget: run the cell to show it)")
                removed += 1
    return removed


SERVER_CONFIG = {"ContentsManager": {"pre_save_hook": "d2lite.widgets.drop_widget_views_without_state"}}
LAB_OVERRIDES = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}


def _merge_json(path, settings):
    """Merge `settings` (two levels deep) into the JSON file at `path`, written atomically."""
    path = Path(path)
    current = json.loads(path.read_text()) if path.exists() else {}
    for section, values in settings.items():
        current.setdefault(section, {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(current, f, indent=2)
    os.replace(tmp, path)
    return path


def install_jupyter_config(prefix=sys.prefix):
    """Configure the Jupyter installed under `prefix` (default: this environment) so saved widgets reopen cleanly.

    Merges the pre-save hook into etc/jupyter/jupyter_server_config.json and
    merges saveState into share/jupyter/lab/settings/overrides.json. Returns the paths.
    """
    prefix = Path(prefix)
    return [_merge_json(prefix / "etc/jupyter/jupyter_server_config.json", SERVER_CONFIG),
            _merge_json(prefix / "share/jupyter/lab/settings/overrides.json", LAB_OVERRIDES)]


if __name__ == "__main__":
    for written in install_jupyter_config(sys.argv[1] if len(sys.argv) > 1 else sys.prefix):
        print("wrote", written)
