"""Tiny Shakespeare (Karpathy, 2015): 1,115,394 characters of Shakespeare's plays, shipped gzipped.

Shakespeare's text is in the public domain; this compilation is the `input.txt` of karpathy/char-rnn
(MIT), the corpus of char-rnn and nanoGPT. Its SHA-256 is checked on every load. The split is by
position, first 90% for training and the last 10% for validation, as nanoGPT splits it, so that
validation losses compare with nanoGPT's.
"""
import functools
import gzip
import hashlib
from importlib import resources
from typing import NamedTuple

import numpy as np

from d2lite.data.digits import Split

SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


class TextSplit(NamedTuple):
    train: str
    val: str


def check_sha256(data, expected=SHA256, what="tinyshakespeare.txt"):
    """Raise a clear error when `data` (bytes) is not the file we shipped."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ValueError(f"{what} is damaged or was changed: its SHA-256 is {digest}, expected {expected}. "
                         "Reinstall d2lite (pip install --force-reinstall -e .) to restore it.")


def load_tiny_shakespeare(val_fraction=0.1):
    """The text, verified, split by position into (train, val): the last `val_fraction` is validation."""
    raw = gzip.decompress(resources.files("d2lite.data").joinpath("tinyshakespeare.txt.gz").read_bytes())
    check_sha256(raw)
    text = raw.decode("utf-8")
    cut = int(len(text) * (1 - val_fraction))
    return TextSplit(text[:cut], text[cut:])


@functools.lru_cache(maxsize=1)
def _char_ids():
    from d2lite.text import CharVocab

    train, val = load_tiny_shakespeare()
    vocab = CharVocab(train + val)
    return np.asarray(vocab.encode(train), dtype=np.int64), np.asarray(vocab.encode(val), dtype=np.int64), len(vocab)


def char_windows(context=8, n_train=16_000, n_test=4_000, seed=0):
    """Next-character examples from Tiny Shakespeare as a classification Split: X one-hot (N, context, 65)
    float32, the `context` characters before a position; y its character's id. Training windows are drawn
    with `seed` from the training 90%, test windows from the validation 10% (at positions drawn with
    seed + 1), so no test character was ever a training target."""
    train, val, vocab_size = _char_ids()
    rng = np.random.default_rng(seed)
    eye = np.eye(vocab_size, dtype=np.float32)

    def windows(ids, n, rng):
        ends = rng.integers(context, len(ids), size=n)
        return eye[ids[ends[:, None] - np.arange(context, 0, -1)]], ids[ends]

    X_train, y_train = windows(train, n_train, rng)
    X_test, y_test = windows(val, n_test, np.random.default_rng(seed + 1))
    return Split(X_train, X_test, y_train, y_test)
