"""Explorers and show_interactive; saved widgets reopen without "model not found"; one kernel for every notebook."""
import copy
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import nbformat
import pytest
from jupyter_servers import free_port, wait_until_up

from d2lite import widgets
from d2lite.explorers import ACTIVATIONS, descent_explorer, descent_path, neuron_explorer, neuron_figure, valley
from d2lite.widgets import WIDGET_STATE, WIDGET_VIEW, drop_widget_views_without_state, install_jupyter_config


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_neuron_figure_draws_every_activation(activation):
    fig = neuron_figure(weight=-1.5, bias=0.5, activation=activation)
    assert len(fig.axes[0].lines) >= 2
    plt.close(fig)


def test_explorer_redraws_when_a_slider_moves(monkeypatch):
    drawn = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: drawn.append(obj))
    widget, fallback = neuron_explorer()
    weight_slider = widget.children[0].children[0]
    weight_slider.value = -2.0
    assert len(drawn) == 2  # once when built, once after the change
    assert "-2" in drawn[-1].axes[0].lines[0].get_label()
    plt.close(fallback)


def test_show_interactive_sends_widget_and_picture_in_one_bundle(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    widget, fallback = neuron_explorer()
    shown.clear()  # the explorer's own first drawing
    widgets.show_interactive(widget, fallback)
    (bundle, raw), = shown
    assert raw and bundle["image/png"] and "application/vnd.jupyter.widget-view+json" in bundle
    assert not plt.fignum_exists(fallback.number)


def test_show_interactive_outside_a_notebook_shows_nothing(monkeypatch):
    monkeypatch.setattr(widgets, "in_notebook", lambda: False)
    fig = neuron_figure()
    assert widgets.show_interactive(None, fig) is None
    assert not plt.fignum_exists(fig.number)


# Saving and reopening (issue: "Error displaying widget: model not found" after run + save).

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
BOOK = sorted(p for folder in ("chapters", "solutions", "exercises") for p in (ROOT / folder).rglob("*.ipynb")
              if ".ipynb_checkpoints" not in p.parts)


def views_without_state(nb):
    """Widget references in `nb` whose state it does not store (counted on a copy)."""
    return drop_widget_views_without_state({"type": "notebook", "content": copy.deepcopy(nb)})


@pytest.fixture(scope="module")
def executed_explorer():
    """A one-cell notebook run by nbclient, which stores the state of the widgets it created."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from d2lite.explorers import neuron_explorer\n"
        "from d2lite.widgets import show_interactive\n"
        "show_interactive(*neuron_explorer())")])
    nb.metadata.kernelspec = KERNELSPEC
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (output,) = [o for o in nb.cells[0].outputs if "data" in o]
    assert {WIDGET_VIEW, "image/png"} <= set(output["data"])
    return json.loads(nbformat.writes(nb))


def variants(nb):
    """What a front end may save: state that covers the view, no state, and stale state from an earlier run."""
    no_state = copy.deepcopy(nb)
    no_state["metadata"].pop("widgets")
    stale = copy.deepcopy(nb)
    state = stale["metadata"]["widgets"][WIDGET_STATE]["state"]
    stale["metadata"]["widgets"][WIDGET_STATE]["state"] = {f"{mid[:-4]}dead": v for mid, v in state.items()}
    return {"state saved": (nb, True), "no state": (no_state, False), "stale state": (stale, False)}


def test_pre_save_hook_keeps_views_with_state_and_drops_the_others(executed_explorer):
    for name, (nb, keeps_view) in variants(executed_explorer).items():
        model = {"type": "notebook", "content": copy.deepcopy(nb)}
        assert drop_widget_views_without_state(model) == (0 if keeps_view else 1), name
        (output,) = [o for o in model["content"]["cells"][0]["outputs"] if "data" in o]
        assert (WIDGET_VIEW in output["data"]) == keeps_view, name
        assert output["data"]["image/png"], f"{name}: the static picture must survive"
        assert views_without_state(model["content"]) == 0


def test_a_view_whose_child_lost_its_state_counts_as_unsaved(executed_explorer):
    nb = copy.deepcopy(executed_explorer)
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    (output,) = [o for o in nb["cells"][0]["outputs"] if "data" in o]
    top = output["data"][WIDGET_VIEW]["model_id"]
    child = next(mid for mid in state if mid != top and f"IPY_MODEL_{mid}" in json.dumps(state[top]))
    del state[child]
    assert views_without_state(nb) == 1


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    """A Jupyter server configured by install_jupyter_config (in a scratch prefix), serving a scratch folder."""
    prefix, root, home = (tmp_path_factory.mktemp(name) for name in ("prefix", "root", "home"))
    install_jupyter_config(prefix)
    port, token = free_port(), "d2lite-test"
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(prefix / "etc/jupyter"), "JUPYTER_CONFIG_DIR": str(home),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
                               f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
                               "--ServerApp.port_retries=0"] + ["--allow-root"] * (os.geteuid() == 0),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_up(url, token, server, 60):
        server.kill()
        pytest.fail(f"jupyter server did not start: {server.stderr.read().decode()[-2000:]}")
    yield url, token, root
    server.terminate()
    server.wait(timeout=30)


def test_saving_through_the_contents_api_never_stores_a_view_without_its_state(jupyter_server, executed_explorer):
    url, token, root = jupyter_server
    for name, (nb, keeps_view) in variants(executed_explorer).items():
        filename = name.replace(" ", "_") + ".ipynb"
        body = json.dumps({"type": "notebook", "format": "json", "content": nb}).encode()
        request = urllib.request.Request(f"{url}/api/contents/{filename}?token={token}", data=body, method="PUT",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30)
        stored = json.loads((root / filename).read_text())
        (output,) = [o for o in stored["cells"][0]["outputs"] if "data" in o]
        assert views_without_state(stored) == 0, f"{name}: reopening would show 'model not found'"
        assert (WIDGET_VIEW in output["data"]) == keeps_view, name
        assert output["data"]["image/png"], name


def test_install_jupyter_config_merges_with_existing_settings(tmp_path):
    overrides = tmp_path / "share/jupyter/lab/settings/overrides.json"
    overrides.parent.mkdir(parents=True)
    overrides.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    install_jupyter_config(tmp_path)
    install_jupyter_config(tmp_path)  # twice: no duplicates, nothing lost
    settings = json.loads(overrides.read_text())
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert settings["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}
    server = json.loads((tmp_path / "etc/jupyter/jupyter_server_config.json").read_text())
    assert server["ContentsManager"]["pre_save_hook"] == "d2lite.widgets.drop_widget_views_without_state"


@pytest.mark.parametrize("path", BOOK, ids=[str(p.relative_to(ROOT)) for p in BOOK])
def test_committed_notebooks_use_one_kernel_and_store_the_state_of_every_widget(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec") == KERNELSPEC, "set the kernel to 'Python 3 (ipykernel)'"
    assert views_without_state(nb) == 0, "re-run with `make run-notebooks NB=...` (it stores widget state)"


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_descent_path_is_stable_just_below_the_limit_and_diverges_just_above(momentum):
    A = valley((1.0, 20.0), angle=30.0)
    limit = 2 * (1 + momentum) / 20.0
    below = descent_path(A, (-3.0, 2.0), 0.97 * limit, momentum, steps=400)
    above = descent_path(A, (-3.0, 2.0), 1.03 * limit, momentum, steps=2000)
    assert len(below) == 401 and np.linalg.norm(below[-1]) < 1e-2
    assert len(above) < 2001  # stopped once |w| passed 1e6
    assert np.allclose(np.linalg.eigvalsh(A), [1.0, 20.0]) and abs(A[0, 1]) > 1  # turned: the axes mix


def test_descent_explorer_redraws_when_a_slider_moves(monkeypatch):
    drawn = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: drawn.append(obj))
    widget, fallback = descent_explorer(lr=0.05)
    assert "stable below lr 0.1" in fallback.axes[0].get_title()
    lr_slider, momentum_slider = widget.children[0].children
    lr_slider.value = 0.12
    assert "diverges" in drawn[-1].axes[0].get_title()
    momentum_slider.value = 0.5
    assert "stable below lr 0.15" in drawn[-1].axes[0].get_title() and "diverges" not in drawn[-1].axes[0].get_title()
    assert len(drawn) == 3
    plt.close(fallback)
    for fig in drawn:
        plt.close(fig)
