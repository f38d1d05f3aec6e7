"""Model files: saved and reloaded bit for bit, written atomically, and bad files refused clearly."""

import pickle

import numpy as np
import pytest

from nn import Network, NNError, load_model, persist, save_model


def trained_looking_network():
    net = Network([784, 32, 16, 10], seed=1)
    net.params["b2"] += 0.25  # not the fresh-init values, so a reload that re-initialises would show
    net.record = {"settings": {"epochs": 3, "seed": 1}, "test": {"accuracy": 0.97}}
    return net


def test_save_then_load_round_trips_bit_for_bit(tmp_path):
    net = trained_looking_network()
    save_model(net, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.sizes == net.sizes and back.record == net.record
    for name, value in net.params.items():
        assert back.params[name].dtype == value.dtype
        assert back.params[name].tobytes() == value.tobytes(), name


def test_a_failed_save_leaves_the_previous_model_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(trained_looking_network(), path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        save_model(Network([784, 8, 10]), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path], "no temporary file may be left behind"


def test_missing_file_says_how_to_get_a_model(tmp_path):
    with pytest.raises(NNError, match="not found: train one"):
        load_model(tmp_path / "nope.npz")


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    save_model(trained_looking_network(), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(NNError, match="not a readable model file"):
        load_model(path)


def test_file_with_a_pickled_object_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    arrays = {k: v for k, v in np.load(_saved(tmp_path)).items()}
    arrays["record"] = np.array([{"anything": "pickled"}], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(NNError, match="not a readable model file"):
        load_model(path)


def test_a_plain_pickle_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W1": np.zeros(3)}))
    with pytest.raises(NNError, match="not a readable model file"):
        load_model(path)


def test_architecture_mismatch_is_refused(tmp_path):
    path = _saved(tmp_path)
    with pytest.raises(NNError, match="not the expected"):
        load_model(path, sizes=[784, 128, 64, 10])


def test_weights_that_do_not_match_the_recorded_sizes_are_refused(tmp_path):
    arrays = {k: v for k, v in np.load(_saved(tmp_path)).items()}
    arrays["W2"] = arrays["W2"][:, :5]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NNError, match="W2 has shape"):
        load_model(tmp_path / "bad.npz")


def test_a_npz_that_is_not_a_model_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(NNError, match="is not a digit-recognizer-mlp/1 model file"):
        load_model(tmp_path / "other.npz")


def test_non_finite_weights_are_refused(tmp_path):
    arrays = {k: v for k, v in np.load(_saved(tmp_path)).items()}
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(NNError, match="non-finite"):
        load_model(tmp_path / "nan.npz")


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), persist.atomic_write(target, "w") as f:
        f.write("new, half written")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    with persist.atomic_write(target, "w") as f:
        f.write("new")
    assert target.read_text() == "new"


def _saved(tmp_path):
    path = tmp_path / "good.npz"
    save_model(trained_looking_network(), path)
    return path
