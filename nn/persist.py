"""A model on disk: one .npz file with the weights, the list of layers and how it was trained.

A model file is data, not code: it is read with allow_pickle=False, so opening a file from someone
else can never run anything. Nothing in it is trusted before it is checked: the layer list is read
first and checked against sane limits, then every array's shape and type is checked from its header
against that list, and only then is anything loaded. A file that claims a billion-unit layer, or a
small compressed file that would unpack to gigabytes, is refused before it costs any memory.
Writes go through files.atomic_write, so a crash mid-write leaves the previous model as it was.

A model may also carry its memory (nn/memory.py): a few thousand of its training digits with its scores
for them, checked the same way (at most MAX_MEMORY digits, the network's own input size and classes).
The weights are stored as they are, so they load straight into the network's buffer; the memory is
compressed (digits compress about 5 times). The archive's dates are fixed, so the same network and
memory always give the same bytes.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from .errors import NNError
from .files import atomic_write, shown
from .memory import Memory
from .network import Network, layer_from_spec, mlp

FORMAT = "digit-recognizer/2"
OLD_FORMAT = "digit-recognizer-mlp/1"      # before layer lists: sizes only; still loads
MAX_PARAMETERS = 20_000_000                # 80 MB of float32: far above any model here
MAX_TEXT = 1 << 20                          # the JSON layer list and record: 1 MB at most
MAX_LAYERS = 100
MAX_MEMORY = 10_000                         # remembered digits: 8 MB at most
MEMORY_ARRAYS = ("images", "labels", "logits")   # stored as memory_images, ...


def save_model(net, path):
    """Write net's weights, layer list, net.record (a JSON-ready dict) and net.memory (if any) to `path`
    atomically."""
    arrays = {"format": np.array(FORMAT), "network": np.array(json.dumps(net.spec())),
              "record": np.array(json.dumps(net.record, sort_keys=True))}
    arrays.update(net.params)
    if net.memory is not None:
        arrays.update({f"memory_{name}": getattr(net.memory, name) for name in MEMORY_ARRAYS})
    with atomic_write(path) as f, zipfile.ZipFile(f, "w") as archive:
        for name, value in arrays.items():
            squeeze = zipfile.ZIP_DEFLATED if name.startswith("memory_") else zipfile.ZIP_STORED
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = squeeze
            with archive.open(entry, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)


def load_model(path):
    """The Network saved in `path`, with its record; refuses any file that is not exactly that."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise NNError(f"model file {shown(path)} {what}: train one with `python -m digits train`, "
                      "or use the shipped models/mnist_mlp.npz.")
    try:
        with zipfile.ZipFile(path) as archive:
            headers = _headers(archive, path)
            network_spec, record = _read_texts(archive, headers, path)
            net = _empty_network(network_spec, path)
            _check_arrays(net, headers, path)
            for name, value in net.params.items():
                _read_into(archive, name, value)
            memory = _read_memory(archive, headers, net, path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise NNError(f"{shown(path)} is not a readable model file ({type(e).__name__}: {e}); it may be "
                      "truncated or not a model: retrain it or copy it again.") from None
    if not np.isfinite(net.flat).all():
        raise NNError(f"{shown(path)} holds weights that are not finite numbers: retrain the model.")
    net.record, net.memory = record, memory
    return net


def read_record(path):
    """Only the record of a model file (how it was made; a user model's corrections), its weights unread."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_texts(archive, _headers(archive, path), path)[1]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise NNError(f"{shown(path)} is not a readable model file ({type(e).__name__}: {e}); it may be "
                      "truncated or not a model: retrain it or copy it again.") from None


def _headers(archive, path):
    """{array name: (shape, dtype)} from each .npy header in the archive, without reading any array."""
    headers = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise NNError(f"{shown(path)} holds {info.filename!r}, which is not an array: not a model file.")
        with archive.open(info) as f:
            shape, _, dtype = _npy_header(f)
        if dtype.hasobject:
            raise NNError(f"{shown(path)}: {info.filename} holds Python objects; a model file holds only "
                          "numbers and text, and this one is refused without being opened.")
        headers[info.filename[:-4]] = (shape, dtype)
    return headers


def _npy_header(f):
    """(shape, fortran_order, dtype) from an open .npy member, leaving f at the start of the data."""
    major, _ = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    return read(f)


def _read_array(archive, name):
    with archive.open(f"{name}.npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_into(archive, name, target):
    """Read an array straight into the network's buffer (one copy in memory, not two) when it is
    stored as the same float type in C order; otherwise read it and convert."""
    with archive.open(f"{name}.npy") as f:
        shape, fortran, dtype = _npy_header(f)
        if dtype == target.dtype and not fortran:
            raw = target.reshape(-1).view(np.uint8)
            if f.readinto(raw) != raw.size:
                raise EOFError(f"{name} is shorter than its header says")
            return
    target[...] = _read_array(archive, name)


def _read_texts(archive, headers, path):
    """(network spec, record) from the small text arrays, after checking their sizes."""
    for name in ("format", "record"):
        if name not in headers:
            raise NNError(f"{shown(path)} has no {name!r} entry: it is not a model file of this project.")
    texts = {}
    for name in ("format", "network", "record", "sizes"):
        if name not in headers:
            continue
        shape, dtype = headers[name]
        if dtype.itemsize * int(np.prod(shape)) > MAX_TEXT:
            raise NNError(f"{shown(path)}: {name} is {dtype.itemsize * np.prod(shape):,} bytes; "
                          "a model file's text entries are small. Refused.")
        texts[name] = _read_array(archive, name)
    fmt = str(texts["format"])
    if fmt == OLD_FORMAT and "sizes" in texts:
        spec = {"input_shape": [int(texts["sizes"][0])],
                "layers": [layer.spec() for layer in mlp([int(n) for n in texts["sizes"]])]}
    elif fmt == FORMAT and "network" in texts:
        spec = json.loads(str(texts["network"]))
    else:
        what = "lacks its layer list" if fmt == FORMAT else f"is a {fmt!r} file, not a {FORMAT} model"
        raise NNError(f"{shown(path)} {what}: retrain it with this project.")
    try:
        record = json.loads(str(texts["record"]))
    except json.JSONDecodeError:
        raise NNError(f"{shown(path)}: its training record is not valid JSON; the file is damaged: "
                      "retrain it or copy it again.") from None
    return spec, record


def _empty_network(spec, path):
    """Build the network the spec describes, after checking it is sane and not too large."""
    try:
        layers = [layer_from_spec(s) for s in spec["layers"]]
        input_shape = [int(n) for n in spec["input_shape"]]
        if not 0 < len(layers) <= MAX_LAYERS or min(input_shape) < 1:
            raise ValueError(f"{len(layers)} layers on inputs of shape {input_shape}")
        shape, total = tuple(input_shape), 0
        for layer in layers:
            total += sum(int(np.prod(s)) for s in layer.param_shapes().values())
            shape = layer.output_shape(shape)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise NNError(f"{shown(path)} describes a network this project cannot build ({e}): "
                      "retrain it with this project.") from None
    if total > MAX_PARAMETERS:
        raise NNError(f"{shown(path)} describes a network of {total:,} parameters, more than the "
                      f"{MAX_PARAMETERS:,} this project allows: it is not one of its models. Refused.")
    return Network(layers, input_shape, initialise=False)


def _read_memory(archive, headers, net, path):
    """The model's Memory, or None for a file without one; its shapes are checked before reading."""
    found = {name: headers.get(f"memory_{name}") for name in MEMORY_ARRAYS}
    if not any(found.values()):
        return None
    n = found["labels"][0][0] if found["labels"] and len(found["labels"][0]) == 1 else 0
    wanted = {"images": ((n, net.input_size), "u"), "labels": ((n,), "u"), "logits": ((n, net.classes), "f")}
    if not 0 < n <= MAX_MEMORY or any(found[name] is None or tuple(found[name][0]) != shape
                                      or found[name][1].kind != kind or found[name][1].itemsize > 4
                                      for name, (shape, kind) in wanted.items()):
        raise NNError(f"{shown(path)}: its memory of training digits does not match its network (at most "
                      f"{MAX_MEMORY:,} digits of {net.input_size} pixels, a label and {net.classes} scores "
                      "each): the file is damaged; retrain it or copy it again.")
    images, labels, logits = (_read_array(archive, f"memory_{name}") for name in MEMORY_ARRAYS)
    if labels.max() >= net.classes or not np.isfinite(logits).all():
        raise NNError(f"{shown(path)}: its memory holds labels above {net.classes - 1} or scores that are "
                      "not finite numbers: the file is damaged; retrain it or copy it again.")
    return Memory(images.astype(np.uint8), labels.astype(np.uint8), logits.astype(np.float32))


def _check_arrays(net, headers, path):
    expected = set(net.params) | {"format", "record", "network", "sizes"} | {
        f"memory_{name}" for name in MEMORY_ARRAYS}
    if not set(net.params) <= set(headers) or not set(headers) <= expected:
        raise NNError(f"{shown(path)} has arrays {sorted(headers)}, which do not match its network "
                      f"({net.describe()}): the file is damaged; retrain it or copy it again.")
    for name, blank in net.params.items():
        shape, dtype = headers[name]
        if tuple(shape) != blank.shape or dtype.kind != "f" or dtype.itemsize > 8:
            raise NNError(f"{shown(path)}: {name} has shape {tuple(shape)} and type {dtype}, but "
                          f"its network needs {blank.shape} floats: retrain the model.")


def model_sha256(path):
    """The sha256 of a model file: how a user model remembers exactly which base it was learned on."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
