"""Digits in and out of files: MNIST CSV, Kaggle's train.csv, headerless CSV, keras-style mnist.npz,
and the checksummed download of the official MNIST files.

Every loader returns the same two arrays, images (m, 784) uint8 with ink 255 on 0 and labels (m,)
uint8, after checking what it read and naming the line and column of anything wrong. This is the
only module that goes to the internet, and only when MNIST is asked for and not on disk.
"""

import gzip
import sys
from pathlib import Path

import numpy as np

from .errors import NNError
from .paths import USER_SAMPLES, atomic_write

PIXELS = 784
CSV_HEADER = "label," + ",".join(f"pixel{i}" for i in range(PIXELS))

# The official MNIST files (LeCun, Cortes, Burges), as published; sha256 of the .gz files.
MNIST_FILES = {
    "train": (("train-images-idx3-ubyte.gz",
               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
              ("train-labels-idx1-ubyte.gz",
               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c")),
    "test": (("t10k-images-idx3-ubyte.gz",
              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
             ("t10k-labels-idx1-ubyte.gz",
              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
}
# Tried in order; the checksums above decide whether what came back is MNIST.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
CSV_NAMES = {"train": "mnist_train.csv", "test": "mnist_test.csv"}


def load_digits(path, split="train", rows=None):
    """Images (m, 784) uint8 and labels (m,) uint8 from a digits file.

    CSV: one digit per row, the label then 784 pixel values 0-255, with or without a header line
    (MNIST CSV and Kaggle's train.csv have one). mnist.npz: the `split` ("train" or "test") part.
    The project's own MNIST files (data/mnist_train.csv, data/mnist_test.csv) are downloaded
    the first time they are asked for. rows: read only the first `rows` digits of a CSV.
    """
    path = Path(path)
    if not path.exists() and path.name in CSV_NAMES.values():
        download_mnist(path.parent)
    if not path.exists():
        raise NNError(f"{path} not found: check the path, or leave the default to use MNIST "
                      "(downloaded into data/ the first time).")
    if path.suffix == ".npz":
        return _load_npz(path, split)
    return _load_csv(path, rows)


def _load_npz(path, split):
    if split not in ("train", "test"):
        raise NNError(f"split must be 'train' or 'test', got {split!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f[f"x_{split}"], f[f"y_{split}"]
    except KeyError:
        raise NNError(f"{path} has no x_{split}/y_{split} arrays: expected a keras-style mnist.npz "
                      "with x_train, y_train, x_test, y_test.") from None
    except (OSError, ValueError) as e:
        raise NNError(f"{path} could not be read as a .npz file ({e}): download it again.") from None
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(labels) != len(images):
        raise NNError(f"{path}: x_{split} has shape {images.shape} and y_{split} {labels.shape}; "
                      "expected (m, 28, 28) images and m labels.")
    return _checked(images.reshape(len(images), PIXELS), labels, path, first_line=None)


# CSVs this big get a binary copy beside them (.NAME.cache.npz), used while the CSV is unchanged.
CACHE_ABOVE_BYTES = 5_000_000


def _load_csv(path, rows=None):
    """A digits CSV: from its binary cache when the CSV is unchanged, else parsed (and cached)."""
    if rows is not None or path.stat().st_size < CACHE_ABOVE_BYTES:
        return _parse_csv(path, rows)
    cache = path.with_name(f".{path.name}.cache.npz")
    digest = _sha256(path)
    cached = _read_cache(cache, digest)
    if cached is not None:
        return cached
    images, labels = _parse_csv(path)
    try:
        with atomic_write(cache) as f:
            np.savez(f, images=images, labels=labels, source_sha256=np.array(digest))
    except OSError:
        pass  # a read-only folder: no cache, just slower next time
    return images, labels


def _sha256(path):
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _read_cache(cache, digest):
    """(images, labels) from the cache if it was made from a CSV with this sha256, else None."""
    try:
        with np.load(cache, allow_pickle=False) as f:
            if str(f["source_sha256"]) == digest:
                return f["images"], f["labels"]
    except (OSError, ValueError, KeyError, EOFError):
        pass  # missing or damaged: parse the CSV again and rewrite it
    return None


def _parse_csv(path, rows=None):
    import pandas as pd

    has_header = _first_field(path).isalpha()
    try:  # fast path: a clean file parses straight into uint8
        frame = pd.read_csv(path, header=0 if has_header else None, engine="c", nrows=rows, dtype=np.uint8)
        if frame.shape[1] == PIXELS + 1 and len(frame) and frame.iloc[:, 0].max() <= 9:
            values = frame.to_numpy()
            return np.ascontiguousarray(values[:, 1:]), values[:, 0].copy()
    except (ValueError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        pass  # something is wrong: the careful path below finds it and says where
    return _parse_csv_carefully(path, rows, has_header)


def _parse_csv_carefully(path, rows, has_header):
    import pandas as pd

    try:
        frame = pd.read_csv(path, header=0 if has_header else None, engine="c", nrows=rows)
    except pd.errors.EmptyDataError:
        raise NNError(f"{path} is empty: expected one digit per line, its label then "
                      f"{PIXELS} pixel values.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise NNError(f"{path} is not a well-formed digits CSV ({str(e).strip()}): every line needs "
                      f"a label and {PIXELS} pixel values, separated by commas.") from None
    first_line = 2 if has_header else 1
    if frame.shape[1] != PIXELS + 1:
        hint = " (Kaggle's test.csv has no labels: train on train.csv)" if frame.shape[1] == PIXELS else ""
        raise NNError(f"{path} has {frame.shape[1]} columns; expected {PIXELS + 1}: a label then "
                      f"{PIXELS} pixel values{hint}.")
    values = _numeric(frame, path, first_line)
    return _checked(values[:, 1:], values[:, 0], path, first_line)


def _first_field(path):
    with open(path, "rb") as f:
        return f.readline(256).split(b",")[0].strip().decode("ascii", "replace")


def _numeric(frame, path, first_line):
    """The frame as a float array, or an NNError naming the first cell that is not a number."""
    import pandas as pd

    for col in [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]:
        bad = pd.to_numeric(frame[col], errors="coerce").isna() & frame[col].notna()
        row = int(np.argmax(bad.to_numpy()))
        raise NNError(f"{path}, line {row + first_line}, column {frame.columns.get_loc(col) + 1}: "
                      f"{frame[col].iloc[row]!r} is not a number; fix or delete that line.")
    # Whole-number columns stay integers, so a clean file skips the per-value checks; columns with
    # gaps or fractions come back as floats for _checked to point at.
    if all(pd.api.types.is_integer_dtype(t) for t in frame.dtypes):
        return frame.to_numpy(dtype=np.int64)
    return frame.to_numpy(dtype=np.float64)


def _checked(pixels, labels, path, first_line):
    """uint8 images and labels, after refusing missing, fractional or out-of-range values."""
    if len(labels) == 0:
        raise NNError(f"{path} holds no digits.")
    for what, values, low, high in (("label", np.asarray(labels)[:, None], 0, 9),
                                    ("pixel", np.asarray(pixels), 0, 255)):
        if values.dtype.kind in "ui" and values.min() >= low and values.max() <= high:
            continue  # whole numbers in range: the common case needs no per-value mask
        bad = ~np.isfinite(values) | (values < low) | (values > high) | (values != np.round(values))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            value = values[row, col]
            where = f"line {row + first_line}, column {col + 1 + (what == 'pixel')}" \
                if first_line else f"digit {row}"
            problem = "is missing" if np.isnan(value) else \
                f"{value:g} is not a whole number from {low} to {high}"
            raise NNError(f"{path}, {where}: {what} {problem}; fix or delete that digit.")
    return np.asarray(pixels).astype(np.uint8), np.asarray(labels).astype(np.uint8)


def save_csv(path, images, labels):
    """Write digits as MNIST CSV (header, then label and 784 pixels per line), atomically."""
    images = np.asarray(images, np.uint8).reshape(len(images), PIXELS)
    rows = np.column_stack([np.asarray(labels, np.uint8), images])
    with atomic_write(path, "w") as f:
        np.savetxt(f, rows, fmt="%d", delimiter=",", header=CSV_HEADER, comments="")


def read_idx(path):
    """An array from an IDX file (gzipped), the format the official MNIST files come in.

    Header: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then each
    dimension as a big-endian 32-bit integer; then the values.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise NNError(f"{path} is not a uint8 IDX file; delete it and download again.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != np.prod(shape):
        raise NNError(f"{path} is truncated ({data.size} values, header says {shape}); "
                      "delete it and download again.")
    return data.reshape(shape)


def download_mnist(data_dir="data", splits=("train", "test"), mirrors=MIRRORS, progress=True,
                   files=MNIST_FILES):
    """Download the official MNIST files, check their sha256, and write data/mnist_{split}.csv.

    The .gz files are kept in data/mnist_raw/ so a second call downloads nothing. A download that
    fails or whose checksum is wrong is thrown away and the next mirror is tried; nothing half
    written is ever left under a final name. Returns the paths of the CSV files.
    """
    data_dir = Path(data_dir)
    written = []
    for split in splits:
        (images_file, images_sha), (labels_file, labels_sha) = files[split]
        images = read_idx(_fetch(images_file, images_sha, data_dir / "mnist_raw", mirrors, progress))
        labels = read_idx(_fetch(labels_file, labels_sha, data_dir / "mnist_raw", mirrors, progress))
        if images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise NNError(f"MNIST {split} files disagree: {images.shape} images, {labels.shape} labels.")
        out = data_dir / CSV_NAMES[split]
        save_csv(out, images, labels)
        print(f"wrote {out}: {len(labels):,} MNIST {split} digits", file=sys.stderr)
        written.append(out)
    return written


def _fetch(name, sha256, folder, mirrors, progress):
    import pooch
    import requests

    failures = []
    for mirror in mirrors:
        try:
            return pooch.retrieve(
                mirror + name, known_hash=f"sha256:{sha256}", fname=name, path=folder,
                downloader=pooch.HTTPDownloader(progressbar=progress, timeout=60))
        except (ValueError, OSError, requests.exceptions.RequestException) as e:
            failures.append(f"{mirror}: {str(e).splitlines()[0][:200]}")
    raise NNError(f"could not download {name} from any mirror ({'; '.join(failures)}). Check your "
                  f"internet connection, or download the four MNIST .gz files by hand into {folder}.")
