"""Reading digits files (and refusing bad ones clearly) and downloading MNIST from a local server."""

import gzip
import hashlib
import http.server
import shutil
import threading
from functools import partial

import numpy as np
import pytest

from nn import NNError
from nn.data import CSV_HEADER, download_mnist, load_digits, read_idx, save_csv


def write_csv(path, rows, header=CSV_HEADER):
    lines = ([header] if header else []) + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def digit_rows(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [[int(rng.integers(10))] + rng.integers(0, 256, 784).tolist() for _ in range(n)]


def test_mnist_csv_with_header_loads_as_uint8(tmp_path):
    rows = digit_rows()
    images, labels = load_digits(write_csv(tmp_path / "d.csv", rows))
    assert images.shape == (3, 784) and images.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, np.array(rows)[:, 1:])
    np.testing.assert_array_equal(labels, np.array(rows)[:, 0])


def test_headerless_csv_loads_the_same(tmp_path):
    rows = digit_rows()
    a = load_digits(write_csv(tmp_path / "h.csv", rows))
    b = load_digits(write_csv(tmp_path / "n.csv", rows, header=None))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_save_csv_then_load_round_trips(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (4, 784)).astype(np.uint8)
    labels = np.array([0, 9, 5, 1], np.uint8)
    save_csv(tmp_path / "x.csv", images, labels)
    assert (tmp_path / "x.csv").read_text().splitlines()[0] == CSV_HEADER
    back = load_digits(tmp_path / "x.csv")
    np.testing.assert_array_equal(back[0], images)
    np.testing.assert_array_equal(back[1], labels)


@pytest.mark.parametrize("change, message", [
    (lambda r: r[1].__setitem__(5, 256), r"line 3, column 6: pixel 256 is not a whole number from 0 to 255"),
    (lambda r: r[2].__setitem__(0, 10), r"line 4, column 1: label 10 is not a whole number from 0 to 9"),
    (lambda r: r[0].__setitem__(0, -1), r"line 2, column 1: label -1 is not"),
    (lambda r: r[0].__setitem__(100, 12.5), r"line 2, column 101: pixel 12.5 is not a whole number"),
    (lambda r: r[1].__setitem__(7, "x"), r"line 3, column 8: 'x' is not a number"),
    (lambda r: r[2].__setitem__(9, ""), r"line 4, column 10: pixel is missing"),
])
def test_malformed_csv_is_refused_naming_line_and_column(tmp_path, change, message):
    rows = digit_rows()
    change(rows)
    with pytest.raises(NNError, match=message):
        load_digits(write_csv(tmp_path / "bad.csv", rows))


def test_kaggle_test_csv_without_labels_is_refused_with_a_hint(tmp_path):
    rows = [r[1:] for r in digit_rows()]
    header = ",".join(f"pixel{i}" for i in range(784))
    with pytest.raises(NNError, match="has 784 columns; expected 785.*Kaggle's test.csv has no labels"):
        load_digits(write_csv(tmp_path / "test.csv", rows, header=header))


def test_a_ragged_line_is_refused(tmp_path):
    rows = digit_rows()
    rows[1].append(0)
    with pytest.raises(NNError, match="not a well-formed digits CSV.*line 3"):
        load_digits(write_csv(tmp_path / "ragged.csv", rows))


def test_empty_and_missing_files_are_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(NNError, match="is empty"):
        load_digits(tmp_path / "empty.csv")
    with pytest.raises(NNError, match="not found"):
        load_digits(tmp_path / "nothing.csv")


def test_keras_npz_gives_its_requested_split(mnist, shared_dir):
    images, labels = load_digits(shared_dir / "mnist.npz", split="test")
    assert images.shape == (10000, 784)
    np.testing.assert_array_equal(labels, mnist["y_test"])
    images, labels = load_digits(shared_dir / "mnist.npz", split="train")
    assert images.shape == (60000, 784)


def test_npz_without_mnist_keys_is_refused(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(NNError, match="no x_test/y_test arrays"):
        load_digits(tmp_path / "x.npz", split="test")


# --- downloading, against a server on 127.0.0.1 -------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def small_mnist(root):
    """A five-digit MNIST look-alike, its files and their checksums."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    files = {}
    for name, array in (("imgs.gz", images), ("lbls.gz", labels)):
        (root / name).write_bytes(idx_bytes(array))
        files[name] = hashlib.sha256(idx_bytes(array)).hexdigest()
    return images, labels, {"test": (("imgs.gz", files["imgs.gz"]), ("lbls.gz", files["lbls.gz"]))}


def test_download_writes_checked_csv(tmp_path, server):
    root, url = server
    (root / "good").mkdir()
    images, labels, files = small_mnist(root / "good")
    written = download_mnist(tmp_path / "data", splits=("test",), mirrors=[f"{url}/good/"],
                             files=files, progress=False)
    assert written == [tmp_path / "data" / "mnist_test.csv"]
    back_images, back_labels = load_digits(written[0])
    np.testing.assert_array_equal(back_images, images.reshape(5, 784))
    np.testing.assert_array_equal(back_labels, labels)


def test_download_falls_back_past_a_missing_and_a_corrupt_mirror(tmp_path, server):
    root, url = server
    for name in ("good", "corrupt"):
        (root / name).mkdir()
    images, labels, files = small_mnist(root / "good")
    small_mnist(root / "corrupt")
    broken = bytearray((root / "corrupt" / "imgs.gz").read_bytes())
    broken[-10] ^= 0xFF
    (root / "corrupt" / "imgs.gz").write_bytes(bytes(broken))
    mirrors = [f"{url}/absent/", f"{url}/corrupt/", f"{url}/good/"]
    download_mnist(tmp_path / "data", splits=("test",), mirrors=mirrors, files=files, progress=False)
    np.testing.assert_array_equal(load_digits(tmp_path / "data" / "mnist_test.csv")[1], labels)


def test_a_corrupt_download_is_refused_and_leaves_nothing_behind(tmp_path, server):
    root, url = server
    (root / "corrupt").mkdir()
    _, _, files = small_mnist(root / "corrupt")
    (root / "corrupt" / "imgs.gz").write_bytes(b"not the file at all")
    with pytest.raises(NNError, match="could not download imgs.gz from any mirror"):
        download_mnist(tmp_path / "data", splits=("test",), mirrors=[f"{url}/corrupt/"],
                       files=files, progress=False)
    leftovers = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def test_real_mnist_test_files_download_verify_and_match_the_npz(tmp_path, server, shared_dir, mnist):
    root, url = server
    (root / "corrupt").mkdir()
    (root / "mirror").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_dir / name, root / "mirror" / name)
        data = bytearray((shared_dir / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (root / "corrupt" / name).write_bytes(bytes(data))
    with pytest.raises(NNError, match="could not download"):
        download_mnist(tmp_path / "bad", splits=("test",), mirrors=[f"{url}/corrupt/"], progress=False)
    assert not (tmp_path / "bad" / "mnist_test.csv").exists()
    (path,) = download_mnist(tmp_path / "data", splits=("test",),
                             mirrors=[f"{url}/corrupt/", f"{url}/mirror/"], progress=False)
    images, labels = load_digits(path)
    np.testing.assert_array_equal(images, mnist["x_test"])
    np.testing.assert_array_equal(labels, mnist["y_test"])


def test_read_idx_refuses_a_truncated_file(tmp_path):
    data = gzip.decompress(idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "t.gz").write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(NNError, match="truncated"):
        read_idx(tmp_path / "t.gz")
