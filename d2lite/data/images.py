"""Real photographs that ship with scikit-learn, for trying filters on (edges, blurs, textures).

"china" (a temple in China) and "flower" are 427×640 colour JPEGs, licensed
CC BY 2.0 by their authors (see sklearn.datasets.load_sample_images).
"""
import numpy as np

PHOTOS = ("china", "flower")
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma: how bright each channel looks


def sample_photo(name="china", gray=True, size=None, dtype=np.float32):
    """One of scikit-learn's sample photos as floats in [0, 1].

    Shape (H, W) when `gray`, else (H, W, 3). `size` resizes it: an int makes
    the longer side that many pixels (keeping the aspect ratio), a pair
    (height, width) sets both. Reading the JPEG needs Pillow, which
    matplotlib already requires.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_image

    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {PHOTOS}.")
    image = load_sample_image(f"{name}.jpg")  # (427, 640, 3) uint8
    if size is not None:
        h, w = image.shape[:2]
        if np.isscalar(size):
            scale = size / max(h, w)
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
        image = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.LANCZOS))
    image = image / 255.0
    if gray:
        image = image @ GRAY_WEIGHTS
    return np.clip(image, 0.0, 1.0).astype(dtype)
