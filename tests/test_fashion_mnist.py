"""The Fashion-MNIST loader on small IDX files made here; nothing touches the network."""
import gzip
import hashlib
import io
import struct
import urllib.error

import numpy as np
import pytest

from d2lite.data import downloads
from d2lite.data import fashion_mnist as fm


def idx_bytes(array, type_code=0x08):
    """An IDX file's bytes: magic 0x0000TTDD, big-endian uint32 sizes, big-endian data."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def write(path, data, compress=True):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def small_set(tmp_path):
    """A folder served as a mirror: the four files with tiny contents, their checksums in FILES."""
    rng = np.random.default_rng(0)
    server = tmp_path / "server"
    server.mkdir()
    contents = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4),
    }
    checksums = {}
    for name, array in contents.items():
        data = gzip.compress(idx_bytes(array))
        (server / name).write_bytes(data)
        checksums[name] = hashlib.sha256(data).hexdigest()
    return server, contents, checksums


@pytest.fixture
def mirror(monkeypatch, small_set):
    server, contents, checksums = small_set
    monkeypatch.setattr(fm, "MIRRORS", (server.as_uri() + "/",))
    monkeypatch.setattr(fm, "FILES", checksums)
    return contents


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("type_code", [0x08, 0x0B, 0x0D])
def test_read_idx_parses_shapes_and_big_endian_values(tmp_path, compress, type_code):
    array = np.arange(24).reshape(2, 3, 4) * (-1 if type_code != 0x08 else 1)
    path = write(tmp_path / "a.idx", idx_bytes(array, type_code), compress)
    out = fm.read_idx(path)
    assert out.shape == (2, 3, 4) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_checks_the_magic_number(tmp_path):
    images = write(tmp_path / "images.gz", idx_bytes(np.zeros((2, 3, 3))))
    assert fm.read_idx(images, fm.IMAGES_MAGIC).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="magic number 2051, expected 2049"):
        fm.read_idx(images, fm.LABELS_MAGIC)


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG\r\n\x1a\n not an idx file", "not an IDX file"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "not an IDX file"),  # unknown element type
    (idx_bytes(np.zeros((2, 3, 3)))[:-5], "truncated or corrupt"),
    (idx_bytes(np.zeros((2, 3, 3))) + b"extra", "truncated or corrupt"),
    (bytes([0, 0, 8, 3, 0, 0]), "truncated or corrupt"),  # the header itself is cut short
])
def test_read_idx_explains_a_corrupt_file(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        fm.read_idx(write(tmp_path / "bad.gz", data))


def test_read_idx_explains_a_damaged_gzip(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 4, 4))))[:30])
    with pytest.raises(ValueError, match="damaged gzip"):
        fm.read_idx(path)


def test_load_downloads_once_then_reads_from_the_cache(tmp_path, mirror, monkeypatch, capsys):
    root = tmp_path / "cache"
    split = fm.load_fashion_mnist(root, images=True)
    assert "downloading" in capsys.readouterr().out
    assert sorted(p.name for p in root.iterdir()) == sorted(fm.FILES)  # no temporary files left
    assert split.X_train.shape == (6, 1, 28, 28) and split.X_test.shape == (4, 1, 28, 28)
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int64
    np.testing.assert_allclose(split.X_train[:, 0] * 255, mirror["train-images-idx3-ubyte.gz"], atol=1e-4)
    np.testing.assert_array_equal(split.y_test, mirror["t10k-labels-idx1-ubyte.gz"])

    monkeypatch.setattr(fm, "MIRRORS", ("file:///nonexistent/",))  # the cache alone must do now
    again = fm.load_fashion_mnist(root, fallback=False)
    assert again.X_train.shape == (6, 784) and "downloading" not in capsys.readouterr().out


def test_default_cache_folder_follows_the_environment(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("D2LITE_DATA", str(tmp_path / "elsewhere"))
    assert fm.fetch_fashion_mnist() == tmp_path / "elsewhere" / "fashion-mnist"
    monkeypatch.delenv("D2LITE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert downloads.data_dir() == tmp_path / ".cache" / "d2lite"


def test_checksum_mismatch_keeps_no_file(tmp_path, small_set):
    server, _, checksums = small_set
    name = "train-labels-idx1-ubyte.gz"
    target = tmp_path / "cache" / name
    with pytest.raises(ValueError, match="checksum mismatch"):
        downloads.download((server / name).as_uri(), target, "0" * 64)
    assert list(target.parent.iterdir()) == []
    downloads.download((server / name).as_uri(), target, checksums[name])
    assert target.read_bytes() == (server / name).read_bytes()


class CutOffResponse(io.BytesIO):
    """A reply that delivers some bytes, then loses the connection."""

    def read(self, size=-1):
        if self.tell() > 0:
            raise ConnectionResetError("connection reset by peer")
        return super().read(10)


def test_interrupted_download_keeps_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads.urllib.request, "urlopen",
                        lambda url, timeout: CutOffResponse(b"x" * 100))
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(ConnectionError, match="connection reset"):
        downloads.download("http://example.invalid/file.gz", target)
    assert list(target.parent.iterdir()) == []


def test_interrupt_by_the_reader_keeps_no_file(tmp_path, monkeypatch):
    def interrupted(url, timeout):
        class Reply(CutOffResponse):
            def read(self, size=-1):
                if self.tell() > 0:
                    raise KeyboardInterrupt
                return super().read(size)
        return Reply(b"x" * 100)

    monkeypatch.setattr(downloads.urllib.request, "urlopen", interrupted)
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(KeyboardInterrupt):
        downloads.download("http://example.invalid/file.gz", target)
    assert list(target.parent.iterdir()) == []


def offline(url, timeout):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_offline_is_a_clear_error_without_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads.urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match="are you offline") as info:
        fm.load_fashion_mnist(tmp_path, fallback=False)
    assert "name resolution" in str(info.value) and str(tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_offline_falls_back_to_the_digits_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(downloads.urllib.request, "urlopen", offline)
    split = fm.load_fashion_mnist(tmp_path, images=True)
    out = capsys.readouterr().out
    assert "Fashion-MNIST is not available" in out and "Falling back" in out and "digits" in out
    assert split.X_train.shape[1:] == (1, 8, 8) and set(np.unique(split.y_train)) == set(range(10))


def test_images_and_labels_that_do_not_match_are_refused(tmp_path, mirror):
    root = fm.fetch_fashion_mnist(tmp_path)
    write(root / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(3)))
    with pytest.raises(ValueError, match="4 test images but 3 labels"):
        fm.load_fashion_mnist(root)


def test_the_official_table_lists_four_files_with_sha256_sums():
    assert set(fm.FILES) == {f"{s}-{k}-idx{d}-ubyte.gz" for s in ("train", "t10k")
                             for k, d in (("images", 3), ("labels", 1))}
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in fm.FILES.values())
    assert len(fm.CLASSES) == 10
