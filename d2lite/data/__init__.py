"""Data sets that run offline, and ways to batch them (NumPy iterators, torch DataLoaders)."""
from d2lite.data.batches import minibatches, to_loaders
from d2lite.data.digits import Split, load_digits
from d2lite.data.downloads import data_dir, download
from d2lite.data.fashion_mnist import fetch_fashion_mnist, load_fashion_mnist, read_idx
from d2lite.data.images import sample_photo
from d2lite.data.sequences import stream_windows, streams
from d2lite.data.shakespeare import load_tiny_shakespeare
from d2lite.data.translation import date_pairs, held_out_split, number_pairs

__all__ = ["Split", "data_dir", "download", "fetch_fashion_mnist", "load_digits", "load_fashion_mnist",
           "minibatches", "read_idx", "sample_photo", "to_loaders", "load_tiny_shakespeare", "date_pairs",
           "held_out_split", "number_pairs", "stream_windows", "streams"]
