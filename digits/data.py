"""Digits in and out of files: MNIST CSV, Kaggle's train.csv, headerless CSV, keras-style mnist.npz,
and the checksummed download of the official MNIST files.

Every loader returns the same two arrays, images (m, 784) uint8 with ink 255 on 0 and labels (m,)
uint8, after checking what it read and naming the line and column of anything wrong. This is the
only module that goes to the internet, and only when asked to: `ensure_mnist()` downloads whatever of
MNIST is not on disk yet. Reading a file never downloads anything.
"""

import gzip
import os
import stat
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from nn.errors import NNError
from nn.files import atomic_write, shown

from . import paths

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
# Tried in order; the checksums above decide whether what came back is MNIST. DIGITS_MNIST_MIRRORS
# (web addresses separated by spaces, each ending in /) replaces them: a mirror of your own.
MIRRORS = tuple(os.environ.get("DIGITS_MNIST_MIRRORS", "").split()) or (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
CSV_NAMES = {"train": "mnist_train.csv", "test": "mnist_test.csv"}


def load_digits(path, split="train", rows=None):
    """Images (m, 784) uint8 and labels (m,) uint8 from a digits file.

    CSV: one digit per row, the label then 784 pixel values 0-255, with or without a header line
    (MNIST CSV and Kaggle's train.csv have one), gzipped or not, with or without a UTF-8 byte-order
    mark. mnist.npz: the `split` ("train" or "test") part. rows: only the first `rows` digits.
    Never downloads: a missing MNIST file is reported with how to get it (see ensure_mnist).
    """
    path = Path(path)
    _check_is_a_file(path)
    if path.suffix == ".npz":
        return _load_npz(path, split)
    return _load_csv(path, rows)


def ensure_mnist(data_dir=None, progress=True, mirrors=MIRRORS, files=MNIST_FILES):
    """The MNIST CSV files (train_csv, test_csv) in data_dir (default: the project's data/),
    downloading and checking (sha256) only those not there yet. The one call that fetches MNIST.
    """
    data_dir = Path(paths.DATA if data_dir is None else data_dir)
    wanted = {split: data_dir / name for split, name in CSV_NAMES.items()}
    missing = tuple(split for split, path in wanted.items() if not path.exists())
    if missing:
        download_mnist(data_dir, splits=missing, mirrors=mirrors, progress=progress, files=files)
    return wanted["train"], wanted["test"]


def _check_is_a_file(path):
    """Refuse, in words, a path that is missing, a folder, or not a regular file (a FIFO would hang)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise _not_found(path) from None
    except NotADirectoryError:
        raise NNError(f"{path} not found: a part of that path is a file, not a folder; "
                      "check the path.") from None
    except OSError as e:  # a symlink loop, a path too long, no permission to look in a folder
        raise NNError(f"{path} cannot be opened ({e.strerror or e}): check the path.") from None
    if stat.S_ISDIR(mode):
        raise NNError(f"{path} is a folder, not a digits file: give the CSV or .npz file inside it.")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
        raise NNError(f"{path} is not a regular file but {kind}: save the digits to a CSV or .npz file "
                      "and give that.")


def _not_found(path):
    if path.name in CSV_NAMES.values():
        if path.parent.resolve() == Path(paths.DATA).resolve():
            how = ("run `python -m digits download`, or leave TRAIN_DATA = \"mnist\" in the notebook, "
                   "which downloads it")
        else:
            how = f"call digits.data.ensure_mnist({str(path.parent)!r}), which downloads it there"
        return NNError(f"{path} not found: MNIST has not been downloaded yet. To get it, {how}.")
    return NNError(f"{path} not found: check the path, or use \"mnist\" (the default) to train on "
                   "MNIST, downloaded into data/ the first time.")


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
    """A digits CSV: from its binary cache when the CSV is unchanged, else parsed (and cached).

    With rows, a valid cache is read and sliced; without one, only those rows are parsed (and no
    cache is written, since the rest of the file was not read).
    """
    if path.stat().st_size < CACHE_ABOVE_BYTES:
        return _parse_csv(path, rows)
    cache = path.with_name(f".{path.name}.cache.npz")
    digest = _sha256(path)
    cached = _read_cache(cache, digest)
    if cached is not None:
        images, labels = cached
        if rows is None:
            return images, labels
        return images[:rows].copy(), labels[:rows].copy()  # copies: the rest of the file can be freed
    if rows is not None:
        return _parse_csv(path, rows)
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

    gz = _is_gzip(path)
    has_header = _first_field(path, gz).isalpha()
    try:  # fast path: a clean file parses straight into uint8
        frame = _read_frame(path, gz, has_header, rows, dtype=np.uint8)
        if frame.shape[1] == PIXELS + 1 and len(frame) and frame.iloc[:, 0].max() <= 9:
            values = frame.to_numpy()
            return np.ascontiguousarray(values[:, 1:]), values[:, 0].copy()
    except (ValueError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError, EOFError):
        pass  # something is wrong: the careful path below finds it and says where
    return _parse_csv_carefully(path, rows, has_header, gz)


def _read_frame(path, gz, has_header, rows, dtype=None):
    import pandas as pd

    # utf-8-sig: a byte-order mark (Excel and Notepad write one) is not part of the first field
    return pd.read_csv(path, header=0 if has_header else None, engine="c", nrows=rows, dtype=dtype,
                       compression="gzip" if gz else None, encoding="utf-8-sig")


def _parse_csv_carefully(path, rows, has_header, gz):
    import pandas as pd

    try:
        frame = _read_frame(path, gz, has_header, rows)
    except pd.errors.EmptyDataError:
        raise NNError(f"{path} is empty: expected one digit per line, its label then "
                      f"{PIXELS} pixel values.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise NNError(f"{path} is not a well-formed digits CSV ({str(e).strip()}): every line needs "
                      f"a label and {PIXELS} pixel values, separated by commas.") from None
    except (EOFError, OSError) as e:
        if not gz:
            raise
        raise NNError(f"{path} is a damaged gzip file ({str(e).strip()}): download or compress it "
                      "again.") from None
    first_line = 2 if has_header else 1
    if frame.shape[1] != PIXELS + 1:
        hint = " (Kaggle's test.csv has no labels: train on train.csv)" if frame.shape[1] == PIXELS else ""
        raise NNError(f"{path} has {frame.shape[1]} columns; expected {PIXELS + 1}: a label then "
                      f"{PIXELS} pixel values{hint}.")
    if len(frame) == 0:
        raise NNError(f"{path} holds no digits: it has a header line but no rows. Add digits (one per "
                      f"line: the label, then {PIXELS} pixel values) or choose another file.")
    values = _numeric(frame, path, first_line)
    return _checked(values[:, 1:], values[:, 0], path, first_line)


def _is_gzip(path):
    """Whether the file is gzipped, from its first two bytes (whatever its name)."""
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _first_field(path, gz=False):
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            line = f.readline(256)
    except (EOFError, OSError) as e:
        if not gz:
            raise
        raise NNError(f"{path} is a damaged gzip file ({str(e).strip()}): download or compress it "
                      "again.") from None
    field = line.removeprefix(b"\xef\xbb\xbf").split(b",")[0].strip().strip(b'"')
    return field.decode("ascii", "replace")


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


# Training data this small or this lopsided still trains, but the network it makes is not much use.
FEW_DIGITS = 100
UNBALANCED = 5      # the most common digit more than this many times as frequent as the rarest


def balance_warning(labels, name):
    """A one-line warning about degenerate training digits, or None when they look fine.

    Checked in order: only one kind of digit; fewer than FEW_DIGITS digits; a digit 0-9 missing; the
    rarest digit less than 1/UNBALANCED as frequent as the most common one. name: what the digits are
    called in the message (a file name, "the training digits").
    """
    counts = np.bincount(np.asarray(labels, np.int64).ravel(), minlength=10)[:10]
    total = int(counts.sum())
    present = np.flatnonzero(counts)
    if len(present) == 1:
        d = int(present[0])
        return (f"every digit in {name} is a {d}, so the network can only learn to answer {d}: "
                "train on digits of all ten kinds.")
    if total < FEW_DIGITS:
        return (f"{name} holds only {total} digit{'s' * (total != 1)}, too few to learn from "
                "(MNIST has 60,000): expect many mistakes, or add digits.")
    if len(present) < 10:
        missing = ", ".join(str(d) for d in range(10) if counts[d] == 0)
        one = len(present) == 9
        return (f"{name} has no examples of the digit{'' if one else 's'} {missing}, so the network will "
                f"never answer {'it' if one else 'them'}: add examples of each digit 0-9.")
    rare, common = int(np.argmin(counts)), int(np.argmax(counts))
    if counts[rare] * UNBALANCED < counts[common]:
        return (f"{name} is very unbalanced ({counts[rare]:,} digits are {rare}s but "
                f"{counts[common]:,} are {common}s), so the network will lean towards the common ones: "
                "add digits of the rare kinds.")
    return None


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
            failures.append(f"{urlsplit(mirror).hostname}: {_why(e)}")
    every = ", ".join(name for pair in MNIST_FILES.values() for name, _ in pair)
    raise NNError(f"could not download MNIST's {name} ({'; '.join(failures)}). Check your internet "
                  f"connection and run again; or, offline, put the four MNIST files ({every}) into "
                  f"{shown(folder)}/ by hand (from any MNIST mirror; their checksums are checked) "
                  "and run again.")


def _why(error):
    """A download failure in a few words, never cut mid-word."""
    import requests

    if isinstance(error, requests.exceptions.ConnectionError):
        return "cannot connect (offline, or the address is blocked)"
    if isinstance(error, requests.exceptions.Timeout):
        return "no answer within 60 s"
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        return f"the server answered {error.response.status_code}"
    if isinstance(error, ValueError) and "hash" in str(error).lower():
        return "the file that came back is not MNIST (its checksum is wrong)"
    return type(error).__name__
