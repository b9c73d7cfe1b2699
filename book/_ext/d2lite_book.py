"""Sphinx extension of the d2lite book.

- Above every notebook page: a box that names the notebook, links to its download, and says how
  to open it in JupyterLab (and, for pages that use PyTorch, that they need a full Python).
- Progress bars stored as ipywidgets (tqdm in a notebook) show their final text, recovered from
  the widget state saved in the notebook, instead of the "0%" line that tqdm printed first.
- Offline mathematics: MathJax is copied from the jupyter-server-mathjax package into _static/.
"""
import html
import json
import shutil
from pathlib import Path

TORCH_MARKERS = ("import torch", "from torch", "d2lite.torch", "d2lite import torch")


def uses_torch(notebook_path):
    """True when a code cell of the notebook imports PyTorch (directly or through d2lite.torch)."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    return any(cell.cell_type == "code" and any(m in cell.source for m in TORCH_MARKERS)
               for cell in nb.cells)


def notebook_box(relpath, download_href, needs_torch):
    """The HTML of the box above a notebook page."""
    name = html.escape(relpath)
    lines = [
        f'<div class="admonition note d2lite-notebook"><p class="admonition-title">This page is a notebook</p>',
        f'<p>It is <a class="reference download" href="{html.escape(download_href)}" download>'
        f"<code>{name}</code></a> in the book's folder, shown here with the outputs it stored when it ran. "
        "To run it yourself, type <code>make lab</code> in the book's folder (it sets up Python and "
        f"opens JupyterLab), open <code>{name}</code> in JupyterLab's file browser and choose "
        "<em>Run &rarr; Run All Cells</em>. Interactive figures work there; this page shows their static pictures.</p>",
    ]
    if needs_torch:
        lines.append("<p>This page uses PyTorch: it needs a full Python installation with <code>torch</code> "
                     "(as <code>make lab</code> sets up, or Binder and Colab), not a browser-only Python such as JupyterLite.</p>")
    lines.append("</div>")
    return "\n".join(lines)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def progress_text(model_id, state):
    """The last text of a tqdm progress bar widget (an HBox of label, bar, counts), or None."""
    box = state.get(model_id, {}).get("state", {})
    children = [state.get(c.removeprefix("IPY_MODEL_"), {}) for c in box.get("children", [])]
    names = [c.get("model_name") for c in children]
    if names != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    label, bar, counts = (c["state"] for c in children)
    filled = int(10 * bar.get("value", 0) / bar["max"]) if bar.get("max") else 0
    text = f"{label.get('value', '')}|{'#' * filled}{' ' * (10 - filled)}|{counts.get('value', '')}"
    return html.unescape(text).replace("\u2007", " ")


def finish_progress_bars(app, docname, source):
    """source-read: in a notebook's JSON, give each stored tqdm widget its final text."""
    if Path(app.env.doc2path(docname)).suffix != ".ipynb":
        return
    nb = json.loads(source[0])
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = state.get("state", {})
    changed = False
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            text = view and "image/png" not in output["data"] and progress_text(view.get("model_id", ""), state)
            if text:
                output["data"]["text/plain"] = text
                changed = True
    if changed:
        source[0] = json.dumps(nb)


def add_notebook_box(app, pagename, templatename, context, doctree):
    if doctree is None or context.get("page_source_suffix") != ".ipynb":
        return
    source = Path(app.srcdir) / f"{pagename}.ipynb"
    download = context["pathto"](f"_sources/{pagename}.ipynb", 1)
    box = notebook_box(f"{pagename}.ipynb", download, uses_torch(source))
    context["body"] = box + context.get("body", "")


def copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(static, target, dirs_exist_ok=True)


def setup(app):
    app.connect("source-read", finish_progress_bars)
    app.connect("html-page-context", add_notebook_box)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
