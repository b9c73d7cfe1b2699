"""Downloading data files: a cache folder, checksums, and writes that never leave half a file."""
import hashlib
import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

DATA_ENV = "D2LITE_DATA"
CHUNK = 1 << 20


def data_dir():
    """Where downloaded data sets are kept: $D2LITE_DATA if set, else ~/.cache/d2lite."""
    return Path(os.environ.get(DATA_ENV) or Path.home() / ".cache" / "d2lite")


def sha256(path):
    """SHA-256 of a file, as a hex string."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, path, sha256_hex=None, timeout=30):
    """Fetch `url` into `path` and return the path; check its SHA-256 if `sha256_hex` is given.

    The bytes go to a temporary file in the same folder, which is renamed to
    `path` (os.replace, atomic) only once it is complete and its checksum
    matches; on any failure it is deleted, so `path` is either whole or absent.
    Network failures raise ConnectionError, a checksum mismatch ValueError.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(CHUNK), b""):
                        out.write(chunk)
            except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, resets, cut-off replies
                raise ConnectionError(f"could not download {url}: {err}") from err
        if sha256_hex is not None:
            got = sha256(tmp)
            if got != sha256_hex:
                raise ValueError(f"checksum mismatch for {url}: expected SHA-256 {sha256_hex}, "
                                 f"got {got}. The file was not kept.")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
