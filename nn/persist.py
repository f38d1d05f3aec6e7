"""A model on disk: one .npz file with the weights, the architecture and how it was trained.

A model file is data, not code: it is read with allow_pickle=False, so opening a file from
someone else can never run anything. Writes go to a temporary file in the same folder that is
renamed over the old one only once it is complete, so a crash mid-write leaves the previous
model as it was.
"""

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import NNError
from .network import Network

FORMAT = "digit-recognizer-mlp/1"
PROJECT = Path(__file__).resolve().parents[1]
PRETRAINED = PROJECT / "models" / "mnist_mlp.npz"     # ships with the project; never overwritten by learning
USER_MODEL = PROJECT / "models" / "user_model.npz"    # the user's own copy, once they correct a guess


@contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside `path` for writing; rename it to `path` only if all went well."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _permissions_for(path))
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _permissions_for(path):
    """Keep an existing file's permissions; a new file gets the usual ones (mkstemp's are owner-only)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_model(net, path):
    """Write net's weights, sizes and net.record (a JSON-ready dict) to `path` atomically."""
    arrays = {"format": np.array(FORMAT), "sizes": np.array(net.sizes, np.int64),
              "record": np.array(json.dumps(net.record, sort_keys=True))}
    arrays.update(net.params)
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def load_model(path, sizes=None):
    """The Network saved in `path`, with its record; refuses any file that is not exactly that.

    sizes: if given, the layer sizes the caller expects; a file with others is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise NNError(f"model file {path} not found: train one with `python -m nn train`, "
                      "or use the pretrained models/mnist_mlp.npz.")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise NNError(f"{path} is not a readable model file ({type(e).__name__}: {e}); it may be "
                      "truncated or not a model: retrain it or copy it again.") from None
    return _network_from(arrays, path, sizes)


def _network_from(arrays, path, expected_sizes):
    if str(arrays.get("format", "")) != FORMAT:
        raise NNError(f"{path} is not a {FORMAT} model file: retrain it with this project.")
    sizes = [int(n) for n in arrays["sizes"]]
    if expected_sizes is not None and sizes != list(expected_sizes):
        raise NNError(f"{path} holds a {sizes} network, not the expected {list(expected_sizes)}.")
    net = Network(sizes)
    if set(arrays) - {"format", "sizes", "record"} != set(net.params):
        raise NNError(f"{path} has arrays {sorted(arrays)}, which do not match a {sizes} network.")
    for name, blank in net.params.items():
        value = arrays[name]
        if value.shape != blank.shape or value.dtype.kind != "f" or not np.isfinite(value).all():
            raise NNError(f"{path}: {name} has shape {value.shape} and type {value.dtype} or "
                          f"non-finite values; a {sizes} network needs {blank.shape} finite floats.")
        net.params[name] = value
    net.record = json.loads(str(arrays["record"]))
    return net
