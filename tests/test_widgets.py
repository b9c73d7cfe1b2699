import matplotlib.pyplot as plt
import pytest

from d2lite import widgets
from d2lite.explorers import ACTIVATIONS, neuron_explorer, neuron_figure


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
