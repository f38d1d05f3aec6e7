"""Reading digits files (and refusing bad ones clearly) and downloading MNIST from a local server."""

import gzip
import hashlib
import http.server
import os
import shutil
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from digits import data, paths
from digits.data import (
    CSV_HEADER,
    balance_warning,
    download_mnist,
    ensure_mnist,
    load_digits,
    read_idx,
    save_csv,
)
from nn import NNError

from .conftest import ROOT, mnist_sources, read_mnist


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


@pytest.fixture
def keras_npz(mnist, tmp_path):
    """A keras-style mnist.npz: the shared one where it is there, else written from the MNIST arrays the
    tests have (a fresh clone whose data/ holds MNIST must skip nothing)."""
    from .conftest import SHARED_NPZ

    if SHARED_NPZ.is_file():
        return SHARED_NPZ
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k: v.reshape(-1, 28, 28) if k.startswith("x") else v for k, v in mnist.items()})
    return path


def test_keras_npz_gives_its_requested_split(mnist, keras_npz):
    images, labels = load_digits(keras_npz, split="test")
    assert images.shape == (10000, 784)
    np.testing.assert_array_equal(labels, mnist["y_test"])
    images, labels = load_digits(keras_npz, split="train")
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
    with pytest.raises(NNError, match="could not download MNIST's imgs.gz .*not MNIST .its checksum"):
        download_mnist(tmp_path / "data", splits=("test",), mirrors=[f"{url}/corrupt/"],
                       files=files, progress=False)
    leftovers = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def closed_port():
    """A port on 127.0.0.1 that nothing listens on: a download from it fails at once, as offline."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main_command_after_install():
    """The README's main command, from what it runs after `pip install -r requirements.txt`."""
    readme = (ROOT / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("python3 -m venv .venv && "))
    return line.split("pip install -r requirements.txt && ", 1)[1]


def test_offline_the_main_command_says_what_to_do_and_changes_no_tracked_file(tmp_path):
    """Offline, the README's main command stops at the download with one paragraph naming the folder
    and the four files to put there; the notebook is not run, and no tracked file changes."""
    import subprocess

    def tracked():
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                              capture_output=True, text=True).stdout

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell whether tracked files changed")
    before = tracked()
    env = {**os.environ, "DIGITS_HOME": str(tmp_path),
           "DIGITS_MNIST_MIRRORS": f"http://127.0.0.1:{closed_port()}/"}
    command = main_command_after_install().replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    result = subprocess.run(command, shell=True, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "papermill" not in result.stderr.lower()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr         # before it, only the lines saying what it tried
    message = errors[0]
    for words in ("cannot connect", str(tmp_path / "data" / "mnist_raw"), "train-images-idx3-ubyte.gz",
                  "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert words in message, (words, message)
    assert tracked() == before


def test_real_mnist_test_files_download_verify_and_match_the_npz(tmp_path, server, mnist):
    """The published test files where they are here (checked against their published sha256), else the
    same files written from the MNIST arrays the tests have (checked against their own)."""
    from .conftest import SHARED

    root, url = server
    (root / "corrupt").mkdir()
    (root / "mirror").mkdir()
    files = dict(data.MNIST_FILES)
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    if all((SHARED / name).is_file() for name in names):
        for name in names:
            shutil.copy(SHARED / name, root / "mirror" / name)
    else:
        arrays = (mnist["x_test"].reshape(-1, 28, 28), mnist["y_test"])
        for name, array in zip(names, arrays, strict=True):
            (root / "mirror" / name).write_bytes(idx_bytes(array))
        files["test"] = tuple((name, hashlib.sha256((root / "mirror" / name).read_bytes()).hexdigest())
                              for name in names)
    for name in names:
        broken = bytearray((root / "mirror" / name).read_bytes())
        broken[len(broken) // 2] ^= 0x01
        (root / "corrupt" / name).write_bytes(bytes(broken))
    with pytest.raises(NNError, match="could not download"):
        download_mnist(tmp_path / "bad", splits=("test",), mirrors=[f"{url}/corrupt/"], progress=False,
                       files=files)
    assert not (tmp_path / "bad" / "mnist_test.csv").exists()
    (path,) = download_mnist(tmp_path / "data", splits=("test",),
                             mirrors=[f"{url}/corrupt/", f"{url}/mirror/"], progress=False, files=files)
    images, labels = load_digits(path)
    np.testing.assert_array_equal(images, mnist["x_test"])
    np.testing.assert_array_equal(labels, mnist["y_test"])


def test_read_idx_refuses_a_truncated_file(tmp_path):
    data = gzip.decompress(idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "t.gz").write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(NNError, match="truncated"):
        read_idx(tmp_path / "t.gz")


# --- getting MNIST is an explicit call ------------------------------------------------------------

def never_download(*args, **kwargs):
    pytest.fail("load_digits must not download anything")


@pytest.fixture
def no_downloads(monkeypatch):
    monkeypatch.setattr(data, "download_mnist", never_download)
    monkeypatch.setattr(data, "_fetch", never_download)


def test_a_missing_default_mnist_file_is_not_downloaded_and_says_how_to_get_it(tmp_path, monkeypatch,
                                                                              no_downloads):
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    for name in ("mnist_train.csv", "mnist_test.csv"):
        with pytest.raises(NNError) as e:
            load_digits(tmp_path / "data" / name)
        assert str(e.value) == (f"{tmp_path / 'data' / name} not found: MNIST has not been downloaded yet. "
                                "To get it, run `python -m digits download`, or leave "
                                "TRAIN_DATA = \"mnist\" in the notebook, which downloads it.")
    assert not (tmp_path / "data").exists(), "nothing was created"


def test_a_missing_mnist_file_elsewhere_names_ensure_mnist_for_that_folder(tmp_path, no_downloads):
    with pytest.raises(NNError, match=r"not found: MNIST has not been downloaded yet\. To get it, call "
                                      rf"digits\.data\.ensure_mnist\('{tmp_path}'\), which downloads it "
                                      r"there\."):
        load_digits(tmp_path / "mnist_train.csv")


def test_a_missing_other_file_is_not_found(tmp_path, no_downloads):
    with pytest.raises(NNError, match=r"nothing\.csv not found: check the path, or use \"mnist\""):
        load_digits(tmp_path / "nothing.csv")


def small_mnist_both_splits(root):
    """Five made-up training digits and five test digits served as MNIST, and their `files` table."""
    rng = np.random.default_rng(1)
    arrays = {"train": (rng.integers(0, 256, (5, 28, 28)), np.array([0, 1, 2, 3, 4])),
              "test": (rng.integers(0, 256, (5, 28, 28)), np.array([5, 6, 7, 8, 9]))}
    files = {}
    for split, (images, labels) in arrays.items():
        entry = []
        for name, array in ((f"{split}-imgs.gz", images), (f"{split}-lbls.gz", labels)):
            (root / name).write_bytes(idx_bytes(array))
            entry.append((name, hashlib.sha256(idx_bytes(array)).hexdigest()))
        files[split] = tuple(entry)
    return arrays, files


def test_ensure_mnist_downloads_only_what_is_missing(tmp_path, server):
    root, url = server
    arrays, files = small_mnist_both_splits(root)
    data_dir = tmp_path / "data"
    save_csv(data_dir / "mnist_train.csv", np.zeros((2, 784)), [7, 7])
    before = (data_dir / "mnist_train.csv").read_bytes()
    train, test = ensure_mnist(data_dir, progress=False, mirrors=[f"{url}/"], files=files)
    assert (train, test) == (data_dir / "mnist_train.csv", data_dir / "mnist_test.csv")
    assert train.read_bytes() == before, "the train file that was there is kept"
    assert sorted(p.name for p in (data_dir / "mnist_raw").iterdir()) == ["test-imgs.gz", "test-lbls.gz"]
    images, labels = load_digits(test)
    np.testing.assert_array_equal(images, arrays["test"][0].reshape(5, 784))
    np.testing.assert_array_equal(labels, [5, 6, 7, 8, 9])
    # everything there: a mirror that has nothing is never asked
    assert ensure_mnist(data_dir, progress=False, mirrors=[f"{url}/absent/"], files=files) == (train, test)


def test_ensure_mnist_defaults_to_the_project_data_folder(tmp_path, server, monkeypatch):
    root, url = server
    arrays, files = small_mnist_both_splits(root)
    monkeypatch.setattr(paths, "DATA", tmp_path / "home" / "data")
    train, test = ensure_mnist(progress=False, mirrors=[f"{url}/"], files=files)
    assert (train, test) == (tmp_path / "home" / "data" / "mnist_train.csv",
                             tmp_path / "home" / "data" / "mnist_test.csv")
    np.testing.assert_array_equal(load_digits(train)[1], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(load_digits(train)[0], arrays["train"][0].reshape(5, 784))


# --- the binary cache, also for the first rows ------------------------------------------------------

def refuse_pandas(*args, **kwargs):
    pytest.fail("the CSV was parsed although a valid cache exists")


def test_rows_are_read_from_a_valid_cache_without_parsing(tmp_path, monkeypatch):
    import pandas

    monkeypatch.setattr(data, "CACHE_ABOVE_BYTES", 1)
    rows = digit_rows(6)
    path = write_csv(tmp_path / "big.csv", rows)
    load_digits(path)                                     # parses, and writes the cache
    assert (tmp_path / ".big.csv.cache.npz").is_file()
    monkeypatch.setattr(pandas, "read_csv", refuse_pandas)
    images, labels = load_digits(path, rows=4)
    np.testing.assert_array_equal(images, np.array(rows)[:4, 1:])
    np.testing.assert_array_equal(labels, np.array(rows)[:4, 0])
    assert images.flags.owndata and images.flags.c_contiguous, "a copy: the whole cache can be freed"


def test_rows_from_a_changed_csv_ignore_the_stale_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CACHE_ABOVE_BYTES", 1)
    path = write_csv(tmp_path / "big.csv", digit_rows(6, seed=0))
    load_digits(path)
    new = digit_rows(6, seed=1)
    write_csv(path, new)
    images, labels = load_digits(path, rows=3)
    np.testing.assert_array_equal(images, np.array(new)[:3, 1:])
    np.testing.assert_array_equal(labels, np.array(new)[:3, 0])


# --- ordinary CSVs that used to be refused ----------------------------------------------------------

@pytest.mark.parametrize("header", [CSV_HEADER, None])
def test_a_csv_with_a_byte_order_mark_loads_like_the_plain_one(tmp_path, header):
    rows = digit_rows(4)
    plain = write_csv(tmp_path / "plain.csv", rows, header=header)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    a, b = load_digits(plain), load_digits(tmp_path / "bom.csv")
    assert a[0].shape == (4, 784)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("cache_above", [5_000_000, 1])
def test_a_gzipped_csv_loads(tmp_path, monkeypatch, cache_above):
    monkeypatch.setattr(data, "CACHE_ABOVE_BYTES", cache_above)
    rows = digit_rows(5)
    plain = write_csv(tmp_path / "mnist_train.csv", rows)
    gz = tmp_path / "mnist_train.csv.gz"
    gz.write_bytes(gzip.compress(b"\xef\xbb\xbf" + plain.read_bytes()))
    for _ in range(2):                                    # the second time from the cache, if there is one
        images, labels = load_digits(gz)
        np.testing.assert_array_equal(images, np.array(rows)[:, 1:])
        np.testing.assert_array_equal(labels, np.array(rows)[:, 0])
    np.testing.assert_array_equal(load_digits(gz, rows=2)[1], np.array(rows)[:2, 0])


def test_a_damaged_gzipped_csv_is_refused_in_words(tmp_path):
    whole = gzip.compress(write_csv(tmp_path / "d.csv", digit_rows(5)).read_bytes())
    (tmp_path / "d.csv.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(NNError, match=r"d\.csv\.gz is a damaged gzip file \(.*\): download or compress it "
                                      r"again\.$"):
        load_digits(tmp_path / "d.csv.gz")


def test_a_csv_with_a_header_and_no_rows_holds_no_digits(tmp_path):
    path = write_csv(tmp_path / "header_only.csv", [])
    with pytest.raises(NNError) as e:
        load_digits(path)
    assert str(e.value) == (f"{path} holds no digits: it has a header line but no rows. Add digits (one per "
                            "line: the label, then 784 pixel values) or choose another file.")


def test_a_folder_is_reported_as_a_folder(tmp_path):
    (tmp_path / "mnist_train.csv").mkdir()
    with pytest.raises(NNError) as e:
        load_digits(tmp_path / "mnist_train.csv")
    assert str(e.value) == (f"{tmp_path / 'mnist_train.csv'} is a folder, not a digits file: give the CSV "
                            "or .npz file inside it.")


def test_a_fifo_is_reported_as_not_a_regular_file_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")                     # opening it to read would wait forever
    with pytest.raises(NNError) as e:
        load_digits(tmp_path / "pipe.csv")
    assert str(e.value) == (f"{tmp_path / 'pipe.csv'} is not a regular file but a named pipe (FIFO): "
                            "save the digits to a CSV or .npz file and give that.")


def test_a_symlink_loop_is_refused_in_words(tmp_path):
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    with pytest.raises(NNError, match=r"loop\.csv cannot be opened \(Too many levels of symbolic links\): "
                                      r"check the path\.$"):
        load_digits(tmp_path / "loop.csv")


# --- warning about degenerate training data ---------------------------------------------------------

def test_balanced_digits_get_no_warning():
    assert balance_warning(np.repeat(np.arange(10), 100), "d.csv") is None
    counts = [50, 60, 70, 80, 90, 100, 110, 120, 130, 250]   # the rarest is a fifth of the most common
    assert balance_warning(np.repeat(np.arange(10), counts), "x") is None


@pytest.mark.parametrize("labels, warning", [
    (np.full(500, 3), "every digit in d.csv is a 3, so the network can only learn to answer 3: "
                      "train on digits of all ten kinds."),
    (np.full(1, 3), "every digit in d.csv is a 3, so the network can only learn to answer 3: "
                    "train on digits of all ten kinds."),
    (np.arange(99) % 10, "d.csv holds only 99 digits, too few to learn from (MNIST has 60,000): "
                         "expect many mistakes, or add digits."),
    (np.repeat([0, 1, 2, 3, 4, 5, 6, 8, 9], 100), "d.csv has no examples of the digit 7, so the network "
                                                  "will never answer it: add examples of each digit 0-9."),
    (np.repeat([0, 1, 2, 3, 4, 6, 8, 9], 100), "d.csv has no examples of the digits 5, 7, so the network "
                                               "will never answer them: add examples of each digit 0-9."),
    (np.repeat(np.arange(10), [100, 100, 100, 100, 19, 100, 100, 100, 100, 100]),
     "d.csv is very unbalanced (19 digits are 4s but 100 are 0s), so the network will lean towards the "
     "common ones: add digits of the rare kinds."),
])
def test_degenerate_digits_get_a_one_line_warning(labels, warning):
    assert balance_warning(labels.astype(np.uint8), "d.csv") == warning


def test_a_fifth_is_the_limit_of_balance():
    counts = [1000] * 9 + [200]
    assert balance_warning(np.repeat(np.arange(10), counts), "d") is None
    counts[-1] = 199
    assert "very unbalanced (199 digits are 9s but 1,000 are 0s)" in balance_warning(
        np.repeat(np.arange(10), counts), "d")


def test_mnist_itself_is_balanced(mnist):
    assert balance_warning(mnist["y_train"], "MNIST") is None


# --- where tests find MNIST -------------------------------------------------------------------------

def test_tests_use_the_shared_npz_else_the_downloaded_csvs(tmp_path):
    npz, train, test = tmp_path / "mnist.npz", tmp_path / "mnist_train.csv", tmp_path / "mnist_test.csv"
    assert mnist_sources(npz, train, test) is None
    rows = digit_rows(4)
    write_csv(train, rows)
    assert mnist_sources(npz, train, test) is None, "both CSVs are needed"
    write_csv(test, rows[:2])
    assert mnist_sources(npz, train, test) == (train, test)
    got = read_mnist(train, test)
    assert sorted(got) == ["x_test", "x_train", "y_test", "y_train"]
    assert got["x_train"].shape == (4, 784) and got["x_test"].shape == (2, 784)
    assert got["x_train"].dtype == got["y_train"].dtype == np.uint8
    np.testing.assert_array_equal(got["y_test"], np.array(rows)[:2, 0])
    np.savez(npz, x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3, dtype=np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.array([9], np.uint8))
    assert mnist_sources(npz, train, test) == (npz, npz), "the shared npz first"
    got = read_mnist(npz, npz)
    assert got["x_train"].shape == (3, 784) and got["y_test"].tolist() == [9]


def test_mnist_files_are_what_the_cli_and_notebook_load(mnist_files):
    """load_digits reads the test labels that the file holds, read here without it."""
    train, test = mnist_files
    if test.suffix == ".npz":
        with np.load(test) as f:
            labels = f["y_test"]
    else:
        labels = np.loadtxt(test, delimiter=",", skiprows=1, usecols=0, dtype=np.uint8)
    assert len(labels) == 10000
    np.testing.assert_array_equal(load_digits(test, split="test")[1], labels)
    assert train.name in ("mnist.npz", "mnist_train.csv") and test.name in ("mnist.npz", "mnist_test.csv")
