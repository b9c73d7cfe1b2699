"""Fashion-MNIST: 70,000 gray 28×28 photos of clothes in 10 classes (Zalando Research, MIT licence).

The four official files are downloaded once into a cache folder (see
d2lite.data.downloads.data_dir) and read with a small IDX reader. Offline,
`load_fashion_mnist` falls back to the 8×8 digits that ship with scikit-learn
and prints a message saying so. Source: github.com/zalandoresearch/fashion-mnist
"""
import gzip
import math
from pathlib import Path

import numpy as np

from d2lite.data.digits import Split, load_digits
from d2lite.data.downloads import data_dir, download

# Tried in order until one works.
MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# SHA-256 of the official files. Zalando publishes MD5 sums; these SHA-256 values are the ones
# that several independent loaders list, and they agree. They were not recomputed from a
# download on the machine this was written on (it had no network): a mismatch is reported,
# never silently accepted.
FILES = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x00000803: uint8, 3 dims; 0x00000801: uint8, 1 dim

# The third byte of an IDX magic number: the element type (stored big-endian).
IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, magic=None):
    """Read an IDX file, gzip-compressed or not, into a NumPy array.

    The format: a 4-byte magic number 0x0000TTDD (TT: element type, DD: number of
    dimensions), DD big-endian uint32 sizes, then the elements, big-endian and
    row-major. If `magic` is given the file's magic number must equal it.
    A damaged or foreign file raises ValueError saying what is wrong.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":  # the gzip signature
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path} is a damaged gzip file ({err}); delete it and download it again.") from err
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: it starts with bytes {raw[:4].hex()}, "
                         f"not 0000TTDD. Delete it and download it again.")
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(f"{path} has magic number {found}, expected {magic}: a different kind of IDX file "
                         f"(2051 = images, 2049 = labels).")
    ndim, dtype = raw[3], np.dtype(IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], ">u4")) if len(raw) >= header else None
    if shape is None or len(raw) != header + math.prod(shape) * dtype.itemsize:
        raise ValueError(f"{path} is truncated or corrupt: its size ({len(raw)} bytes) does not match "
                         f"its header (shape {shape}). Delete it and download it again.")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _download_from_mirrors(name, path):
    errors = []
    for base in MIRRORS:
        print(f"downloading {base}{name}")
        try:
            return download(base + name, path, FILES[name])
        except (ConnectionError, ValueError) as err:
            errors.append(str(err))
    raise ConnectionError(f"could not download {name} (are you offline?).\n  " + "\n  ".join(errors)
                          + f"\nTo work offline, put the four files {', '.join(FILES)} in {path.parent}.")


def fetch_fashion_mnist(root=None):
    """Download whichever of the four files are missing from `root` (default data_dir()/fashion-mnist).

    Returns the folder. Raises ConnectionError when a file cannot be had from any mirror.
    """
    folder = Path(root) if root is not None else data_dir() / "fashion-mnist"
    for name in FILES:
        if not (folder / name).exists():
            _download_from_mirrors(name, folder / name)
    return folder


def load_fashion_mnist(root=None, images=False, dtype=np.float32, fallback=True):
    """Fashion-MNIST as a `Split` (the official 60,000 training and 10,000 test images), scaled to [0, 1].

    X has shape (N, 784), or (N, 1, 28, 28) with `images=True`; y holds class
    indices into CLASSES. When the files cannot be downloaded and `fallback` is
    true, it prints why and returns `load_digits(images=images)` instead: the
    8×8 digits as they are (not upsampled), so build models for X.shape[-1].
    """
    try:
        folder = fetch_fashion_mnist(root)
    except ConnectionError as err:
        if not fallback:
            raise
        print(f"Fashion-MNIST is not available: {str(err).splitlines()[0]}\n"
              "Falling back to the offline 8x8 handwritten digits from scikit-learn (1,797 images, "
              "classes 0-9), not upsampled: use X.shape[-1] for the image size.")
        return load_digits(images=images, dtype=dtype)
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        X = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", IMAGES_MAGIC)
        y = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", LABELS_MAGIC)
        if len(X) != len(y):
            raise ValueError(f"{folder}: {len(X)} {split} images but {len(y)} labels; the files do not belong together.")
        X = (X / 255.0).astype(dtype)
        parts[split] = (X[:, None] if images else X.reshape(len(X), -1), y.astype(np.int64))
    return Split(parts["train"][0], parts["test"][0], parts["train"][1], parts["test"][1])
