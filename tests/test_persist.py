"""Model files: saved and reloaded bit for bit, written atomically, old files still load, and every bad
file (damaged, hostile, or merely not a model) refused with one clear line before it costs any memory."""

import errno
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

from nn import Network, NNError, load_model, mlp, save_model
from nn.files import atomic_write
from nn.memory import remember
from nn.persist import MAX_PARAMETERS

from .conftest import ROOT


def trained_looking_network():
    net = Network(mlp([784, 32, 16, 10]), seed=1)
    net.params["b2"][...] += 0.25  # not the fresh-init values, so a reload that re-initialises would show
    net.record = {"settings": {"epochs": 3, "seed": 1}, "test": {"accuracy": 0.97}}
    return net


def saved(tmp_path, name="good.npz"):
    path = tmp_path / name
    save_model(trained_looking_network(), path)
    return path


def arrays_of(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def saved_with(tmp_path, change, name="bad.npz"):
    """A good model file with its arrays changed by change(arrays) (a dict it edits in place)."""
    arrays = arrays_of(saved(tmp_path))
    change(arrays)
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


def text(value):
    return np.array(json.dumps(value))


# --- round trips ---------------------------------------------------------------------------------------

def test_save_then_load_round_trips_bit_for_bit(tmp_path):
    net = trained_looking_network()
    save_model(net, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.spec() == net.spec() and back.record == net.record
    assert back.flat.dtype == np.float32 and back.flat.tobytes() == net.flat.tobytes()
    for name, value in net.params.items():
        assert back.params[name].tobytes() == value.tobytes(), name
        assert np.shares_memory(back.params[name], back.flat), name
    assert sorted(tmp_path.iterdir()) == [tmp_path / "m.npz"]


def test_a_network_with_dropout_round_trips_its_layer_list(tmp_path):
    net = Network(mlp([784, 12, 10], dropout=0.3), seed=4)
    save_model(net, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.describe() == "Dense(784->12) ReLU Dropout(rate=0.3) Dense(12->10)"
    assert back.flat.tobytes() == net.flat.tobytes()


def test_an_old_format_file_with_sizes_still_loads(tmp_path):
    """digit-recognizer-mlp/1, what the project wrote before layer lists: format, sizes, record, W's, b's."""
    net = trained_looking_network()
    path = tmp_path / "old.npz"
    np.savez(path, format=np.array("digit-recognizer-mlp/1"), sizes=np.array([784, 32, 16, 10], np.int64),
             record=np.array(json.dumps(net.record, sort_keys=True)), **net.params)
    back = load_model(path)
    assert back.spec() == net.spec() and back.record == net.record
    assert back.flat.tobytes() == net.flat.tobytes()


def test_the_shipped_model_loads():
    net = load_model(ROOT / "models" / "mnist_mlp.npz")
    assert net.describe() == "Dense(784->512) ReLU Dense(512->512) ReLU Dense(512->10)"
    assert np.isfinite(net.flat).all() and net.record["data"]["digits"] == 60000


# --- writing -------------------------------------------------------------------------------------------

def test_a_failed_save_leaves_the_previous_model_intact_and_no_temporary_file(tmp_path, monkeypatch):
    path = saved(tmp_path, "m.npz")
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_model(Network(mlp([784, 8, 10])), path)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path], "no temporary file may be left behind"
    assert load_model(path).flat.tobytes() == trained_looking_network().flat.tobytes()


def remembering_network():
    net = trained_looking_network()
    digits = np.random.default_rng(2).integers(0, 256, (60, 784)).astype(np.uint8)
    net.memory = remember(net, digits, np.arange(60) % 10, per_digit=5)
    return net


def test_a_memory_round_trips_bit_for_bit_and_the_same_model_gives_the_same_bytes(tmp_path):
    net = remembering_network()
    save_model(net, tmp_path / "a.npz")
    save_model(load_model(tmp_path / "a.npz"), tmp_path / "b.npz")
    back = load_model(tmp_path / "b.npz")
    assert len(back.memory) == 50 and back.flat.tobytes() == net.flat.tobytes()
    for name in ("images", "labels", "logits"):
        assert getattr(back.memory, name).tobytes() == getattr(net.memory, name).tobytes(), name
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_a_model_without_a_memory_still_loads(tmp_path):
    back = load_model(saved(tmp_path))
    assert back.memory is None and back.flat.tobytes() == trained_looking_network().flat.tobytes()


@pytest.mark.parametrize("change, words", [
    (lambda a: a.pop("memory_logits"), "memory of training digits does not match"),
    (lambda a: a.update(memory_images=a["memory_images"][:, :100]), "does not match"),
    (lambda a: a.update(memory_images=a["memory_images"].astype(np.float64)), "does not match"),
    (lambda a: a.update(memory_labels=a["memory_labels"] + 10), "labels above 9"),
    (lambda a: a.update(memory_logits=a["memory_logits"] * np.inf), "not finite"),
    (lambda a: a.update(memory_images=np.zeros((20_000, 784), np.uint8),
                        memory_labels=np.zeros(20_000, np.uint8),
                        memory_logits=np.zeros((20_000, 10), np.float32)), "at most 10,000 digits"),
])
def test_a_damaged_memory_is_refused_in_one_line(tmp_path, change, words):
    save_model(remembering_network(), tmp_path / "m.npz")
    arrays = arrays_of(tmp_path / "m.npz")
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NNError, match=words) as refused:
        load_model(tmp_path / "bad.npz")
    assert "\n" not in str(refused.value)


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w") as f:
        f.write("new, half written")
        raise RuntimeError("crash")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]
    with atomic_write(target, "w") as f:
        f.write("new")
    assert target.read_text() == "new" and sorted(tmp_path.iterdir()) == [target]


# --- files that are not models ---------------------------------------------------------------------------

def refused(path, *words):
    """Load path, expect an NNError naming the file in one line; return its message."""
    with pytest.raises(NNError) as error:
        load_model(path)
    message = str(error.value)
    assert "\n" not in message and path.name in message, message
    for w in words:
        assert w in message, message
    return message


def test_a_missing_file_says_how_to_get_a_model(tmp_path):
    refused(tmp_path / "nope.npz", "not found: train one with `python -m digits train`")


def test_a_folder_is_not_a_model(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", "is a folder, not a file")


def test_a_truncated_file_is_refused(tmp_path):
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:5000])
    refused(path, "not a readable model file", "truncated")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "not a readable model file")


UNPICKLED = []


def _remember_unpickling():
    UNPICKLED.append(True)


class Trap:
    """An object whose unpickling calls _remember_unpickling: proof that a loader unpickled it."""

    def __reduce__(self):
        return _remember_unpickling, ()


def test_a_pickled_object_is_refused_without_being_unpickled(tmp_path):
    pickle.loads(pickle.dumps(Trap()))
    assert UNPICKLED == [True], "the trap must work, or this test proves nothing"
    UNPICKLED.clear()

    def add_trap(arrays):
        arrays["record"] = np.array([Trap()], dtype=object)

    path = saved_with(tmp_path, add_trap)
    refused(path, "record.npy holds Python objects", "refused without being opened")
    assert UNPICKLED == []


def test_a_plain_pickle_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W1": np.zeros(3), "trap": Trap()}))
    UNPICKLED.clear()
    refused(path, "not a readable model file")
    assert UNPICKLED == []


def test_a_npy_file_given_as_a_model_is_refused(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros((784, 10), np.float32))
    refused(path, "not a readable model file")


def test_a_npz_that_is_not_a_model_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    refused(tmp_path / "other.npz", "has no 'format' entry", "not a model file of this project")


@pytest.mark.parametrize("key, words", [
    ("format", "has no 'format' entry"),
    ("record", "has no 'record' entry"),
    ("network", "retrain it"),
    ("W2", "which do not match its network"),
    ("b3", "which do not match its network"),
])
def test_a_missing_key_is_refused(tmp_path, key, words):
    refused(saved_with(tmp_path, lambda arrays: arrays.pop(key)), words)


def test_an_unexpected_extra_array_is_refused(tmp_path):
    def add(arrays):
        arrays["W9"] = np.zeros(3, np.float32)

    refused(saved_with(tmp_path, add), "which do not match its network")


def test_an_unknown_format_is_refused(tmp_path):
    def change(arrays):
        arrays["format"] = np.array("someone-else/7")

    refused(saved_with(tmp_path, change), "is a 'someone-else/7' file", "retrain it")


def test_a_record_that_is_not_json_is_refused(tmp_path):
    def change(arrays):
        arrays["record"] = np.array("{'settings': not json")

    refused(saved_with(tmp_path, change), "training record is not valid JSON")


@pytest.mark.parametrize("layers, words", [
    ([{"type": "Dense", "n_in": 784, "n_out": 32}, {"type": "ReLU"},
      {"type": "Dense", "n_in": 16, "n_out": 10}], "Dense(16, 10) cannot take inputs of shape (32,)"),
    ([{"type": "Dense", "n_in": 700, "n_out": 10}], "cannot take inputs of shape (784,)"),
    ([{"type": "Evil", "n_in": 784}], "cannot build"),
    ([{"type": "Dense", "n_in": 784, "n_out": 10, "hook": "os.system"}], "cannot build"),
    ([], "0 layers"),
])
def test_impossible_layers_are_refused(tmp_path, layers, words):
    def change(arrays):
        arrays["network"] = text({"input_shape": [784], "layers": layers})

    refused(saved_with(tmp_path, change), "describes a network this project cannot build", words)


def test_weights_that_do_not_match_the_layers_are_refused(tmp_path):
    def change(arrays):
        arrays["W2"] = arrays["W2"][:, :5]

    refused(saved_with(tmp_path, change), "W2 has shape (32, 5)", "needs (32, 16)")


def test_weights_that_are_not_floats_are_refused(tmp_path):
    def change(arrays):
        arrays["W1"] = arrays["W1"].astype(np.int32)

    refused(saved_with(tmp_path, change), "W1 has shape (784, 32) and type int32")


@pytest.mark.parametrize("where", [(0, 0), (783, 31)])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path, where, value):
    def change(arrays):
        arrays["W1"] = arrays["W1"].copy()
        arrays["W1"][where] = value

    refused(saved_with(tmp_path, change), "weights that are not finite numbers")


# --- check before you read -------------------------------------------------------------------------------

def test_no_weight_is_read_before_the_file_is_checked(tmp_path, monkeypatch):
    """A file whose W2 does not fit its layers is refused having read only the small text entries."""
    read = []
    real = np.lib.format.read_array

    def spy(f, *args, **kwargs):
        read.append(os.path.basename(getattr(f, "name", "?")))
        return real(f, *args, **kwargs)

    def change(arrays):
        arrays["W2"] = np.zeros((32, 17), np.float32)

    path = saved_with(tmp_path, change)
    monkeypatch.setattr(np.lib.format, "read_array", spy)
    refused(path, "W2 has shape (32, 17)")
    assert read and set(read) <= {"format.npy", "network.npy", "record.npy"}, read


def write_zip(path, entries):
    """A zip archive written byte by byte, so an entry can hold a deflate stream made by hand.

    entries: {name: (method, stored bytes, crc32 of the unpacked bytes, unpacked size)}; method 0 stores,
    8 deflates. The layout is the zip specification's: local headers, central directory, end record.
    """
    out, central = bytearray(), bytearray()
    for name, (method, data, crc, size) in entries.items():
        encoded, offset = name.encode(), len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(data),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


def stored_entries(path):
    """The entries of an existing .npz, to be written again (stored) by write_zip."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: (0, archive.read(info), info.CRC, info.file_size)
                for info in archive.infolist()}


def npy_header(dtype, shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                  "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def deflated_zeros(header, gigabytes):
    """(deflate stream, crc32, size) of an .npy header followed by `gigabytes` GiB of zero bytes.

    After a full flush the compressor starts afresh, so 16 MiB of zeros always compress to the same
    block: the stream is that block repeated, made in a moment, though it unpacks to gigabytes.
    """
    chunk = bytes(1 << 24)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    unpacked = zlib.decompress(start + block * 2 + end, -15)      # the trick works on a small scale
    assert unpacked == header + chunk * 2
    blocks = gigabytes * 64
    crc = zlib.crc32(header)
    for _ in range(blocks):
        crc = zlib.crc32(chunk, crc)
    return start + block * blocks + end, crc, len(header) + blocks * len(chunk)


PROBE = """
import json, resource, sys, time
limit = 1 << 30      # a safety net: a loader that tries to read it all fails here, not the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from nn import NNError, load_model
start = time.perf_counter()
try:
    load_model(sys.argv[1])
    outcome = "loaded"
except NNError as e:
    outcome = "NNError: " + str(e)
except MemoryError as e:
    outcome = "MemoryError: " + str(e)
# VmHWM, not ru_maxrss: a child started by fork/exec inherits its parent's ru_maxrss (here pytest's).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - start, "peak_mb": peak_kb / 1024}))
"""


def load_in_a_fresh_process(path):
    """{"outcome", "seconds", "peak_mb"} of load_model(path) in its own process, so its memory is its own."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_refused_cheaply(path, *words):
    report = load_in_a_fresh_process(path)
    assert report["outcome"].startswith("NNError: "), report
    for w in words:
        assert w in report["outcome"], report
    assert report["seconds"] < 2 and report["peak_mb"] < 300, report


def test_a_small_file_declaring_a_two_million_unit_layer_is_refused_cheaply(tmp_path):
    def change(arrays):
        arrays["network"] = text({"input_shape": [784], "layers": [
            {"type": "Dense", "n_in": 784, "n_out": 2_000_000}, {"type": "ReLU"},
            {"type": "Dense", "n_in": 2_000_000, "n_out": 10}]})

    path = saved_with(tmp_path, change)
    assert path.stat().st_size < 200_000
    assert_refused_cheaply(path, "1,590,000,010 parameters", f"more than the {MAX_PARAMETERS:,}")


def test_an_old_format_file_declaring_a_two_million_unit_layer_is_refused_cheaply(tmp_path):
    path = tmp_path / "old.npz"
    np.savez(path, format=np.array("digit-recognizer-mlp/1"), sizes=np.array([784, 2_000_000, 10]),
             record=np.array("{}"), W1=np.zeros((784, 2), np.float32))
    assert_refused_cheaply(path, "1,590,000,010 parameters")


def test_an_array_declared_a_billion_by_a_billion_is_refused_cheaply(tmp_path):
    entries = stored_entries(saved(tmp_path))
    header = npy_header(np.float32, (10**9, 10**9))      # the header alone: the data would be 4 EB
    entries["W1.npy"] = (0, header, zlib.crc32(header), len(header))
    path = tmp_path / "huge.npz"
    write_zip(path, entries)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None, "a well-formed zip: only the declared shape is hostile"
    assert_refused_cheaply(path, "W1 has shape (1000000000, 1000000000)")


@pytest.mark.parametrize("name, dtype, shape", [
    ("junk.npy", np.uint8, (2 << 30,)),           # an extra array
    ("record.npy", "<U1", (1 << 29,)),             # the record text itself
])
def test_a_compressed_file_of_zeros_that_unpacks_to_gigabytes_is_refused_cheaply(tmp_path, name, dtype,
                                                                                 shape):
    entries = stored_entries(saved(tmp_path))
    header = npy_header(dtype, shape)
    data, crc, size = deflated_zeros(header, gigabytes=2)
    assert size == len(header) + np.dtype(dtype).itemsize * shape[0]
    entries[name] = (8, data, crc, size)
    path = tmp_path / "bomb.npz"
    write_zip(path, entries)
    assert path.stat().st_size < 5_000_000
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(name).file_size == size > 2 * 10**9
    assert_refused_cheaply(path)


def test_negative_layer_sizes_cannot_hide_a_huge_layer(tmp_path):
    """784 * 2e6 + 2e6 weights minus 2e6 * 785 + 785, plus 785 * 2 - 2: a total of 783, yet the
    first layer alone would need 11.7 GiB."""
    def change(arrays):
        arrays["network"] = text({"input_shape": [784], "layers": [
            {"type": "Dense", "n_in": 784, "n_out": 2_000_000},
            {"type": "Dense", "n_in": 2_000_000, "n_out": -785},
            {"type": "Dense", "n_in": -785, "n_out": -2}]})

    assert_refused_cheaply(saved_with(tmp_path, change), "cannot build")
