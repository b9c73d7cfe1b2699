"""Data sets that run offline, and ways to batch them (NumPy iterators, torch DataLoaders)."""
from d2lite.data.batches import minibatches, to_loaders
from d2lite.data.digits import Split, load_digits, load_placed_digits
from d2lite.data.downloads import data_dir, download
from d2lite.data.fashion_mnist import fetch_fashion_mnist, load_fashion_mnist, read_idx
from d2lite.data.glyphs import Glyphs, load_glyphs
from d2lite.data.images import sample_photo
from d2lite.data.sequences import stream_windows, streams
from d2lite.data.shakespeare import load_tiny_shakespeare
from d2lite.data.subsets import few_shot_split
from d2lite.data.translation import date_pairs, held_out_split, number_pairs

__all__ = ["Glyphs", "Split", "data_dir", "date_pairs", "download", "fetch_fashion_mnist", "few_shot_split", "held_out_split", "load_digits",
           "load_fashion_mnist", "load_glyphs", "load_placed_digits", "load_tiny_shakespeare", "minibatches",
           "number_pairs", "read_idx", "sample_photo", "stream_windows", "streams", "to_loaders"]
