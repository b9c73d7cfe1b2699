import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from d2lite.plotting import draw_grid, show_images


def test_show_images_lays_out_a_grid_and_hides_spare_panels():
    fig = show_images(np.random.default_rng(0).normal(size=(5, 3, 3)), titles=list("abcde"), ncols=3,
                      symmetric=True)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    assert not fig.axes[5].images  # the sixth panel is empty
    low, high = fig.axes[0].images[0].get_clim()
    assert np.isclose(low, -high)  # symmetric colour scale around zero
    plt.close(fig)


def test_draw_grid_writes_every_value_and_outlines_windows():
    fig, ax = plt.subplots()
    values = np.arange(9.0).reshape(3, 3) - 4
    draw_grid(ax, values, highlight=[(0, 0, 2, 2), (1, 1, 2, 2)], padding=1)
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:g}" for v in values.ravel())
    red = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(red) == 2
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 8  # the border cells of a 3×3 grid padded by 1
    plt.close(fig)
