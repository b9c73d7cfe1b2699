"""The glyph data set: offline, deterministic, cached atomically, with disjoint train and test scripts."""
import numpy as np
import pytest

from d2lite.data import glyphs
from d2lite.data.glyphs import SCRIPTS, catalogue, load_glyphs


def test_train_and_test_scripts_are_disjoint_and_large_enough():
    train, test = catalogue("train"), catalogue("test")
    assert {s for _, s, _ in train} == {s for s, (part, _) in SCRIPTS.items() if part == "train"}
    assert {s for _, s, _ in test} == {s for s, (part, _) in SCRIPTS.items() if part == "test"}
    assert not {c for c, _, _ in train} & {c for c, _, _ in test}
    assert len(train) > 1000 and len(test) > 500
    assert all(len(fonts) >= 3 for _, _, fonts in train + test)
    assert "é" not in {c for c, _, _ in train}  # composed characters are left out
    with pytest.raises(ValueError, match="'train' or 'test'"):
        catalogue("validation")


def test_load_renders_once_then_reads_the_same_images_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("D2LITE_DATA", str(tmp_path))
    first = load_glyphs("test", examples=3, seed=1)
    cached = list((tmp_path / "glyphs").iterdir())
    assert [p.suffix for p in cached] == [".npz"]  # one file, no temporary left behind
    monkeypatch.setattr(glyphs, "render", lambda *a, **k: pytest.fail("rendered again instead of reading the cache"))
    again = load_glyphs("test", examples=3, seed=1)
    n = len(first.chars)
    assert first.images.shape == (3 * n, 1, 28, 28) and first.images.dtype == np.float32
    assert np.array_equal(first.images, again.images) and first.chars == again.chars
    assert np.array_equal(first.labels, np.repeat(np.arange(n), 3))
    assert 0 <= first.images.min() and first.images.max() <= 1
    # every image has ink, and the examples of a class differ (fonts and random moves)
    assert (first.images.reshape(len(first.images), -1).max(axis=1) > 0.5).all()
    assert not np.array_equal(first.images[0], first.images[1])
    braille = first.classes_of("Braille")
    assert len(braille) > 200 and all(first.scripts[i] == "Braille" for i in braille)


def test_rendering_is_deterministic_for_a_seed_and_changes_with_it(tmp_path):
    a, b = glyphs.render("test", examples=2, seed=0), glyphs.render("test", examples=2, seed=0)
    c = glyphs.render("test", examples=2, seed=1)
    assert np.array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
