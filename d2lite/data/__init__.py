"""Data sets that run offline, and ways to batch them (NumPy iterators, torch DataLoaders)."""
from d2lite.data.batches import minibatches, to_loaders
from d2lite.data.digits import Split, load_digits, load_placed_digits
from d2lite.data.downloads import data_dir, download
from d2lite.data.fashion_mnist import fetch_fashion_mnist, load_fashion_mnist, read_idx
from d2lite.data.glyphs import Glyphs, load_glyphs
from d2lite.data.images import sample_photo

__all__ = ["Glyphs", "Split", "data_dir", "download", "fetch_fashion_mnist", "load_digits", "load_fashion_mnist",
           "load_glyphs", "load_placed_digits", "minibatches", "read_idx", "sample_photo", "to_loaders"]
