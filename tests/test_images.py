"""sample_photo: scikit-learn's bundled photographs as floats in [0, 1]."""
import numpy as np
import pytest

from d2lite.data import sample_photo


@pytest.mark.parametrize("name", ["china", "flower"])
def test_photos_are_gray_or_colour_floats_in_unit_range(name):
    gray, colour = sample_photo(name), sample_photo(name, gray=False)
    assert gray.shape == (427, 640) and colour.shape == (427, 640, 3)
    for image in (gray, colour):
        assert image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0
        assert image.std() > 0.1  # a real photograph, not a blank
    np.testing.assert_allclose(gray, colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32), atol=1e-5)


def test_size_resizes_keeping_or_setting_the_shape():
    assert sample_photo(size=64).shape == (43, 64)  # the longer side, aspect ratio kept
    assert sample_photo(size=(32, 48), gray=False).shape == (32, 48, 3)


def test_unknown_photo_names_the_choices():
    with pytest.raises(ValueError, match="china"):
        sample_photo("mona-lisa")
