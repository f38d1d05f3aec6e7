"""The user's model: which model is used, corrections kept as one transaction, repairs, undo, reset.

Most tests use a small base network (784-16-10) so they run in a fraction of a second; the ones that
need a model that really reads digits use the shipped one.
"""

import dataclasses
import errno
import multiprocessing
import os
import time

import numpy as np
import pytest

from digits import user_model as um
from digits.learn import LearnSettings
from digits.paths import shipped_model
from digits.preprocess import preprocess
from digits.user_model import UserModel
from nn import Network, NNError, mlp
from nn.memory import remember
from nn.persist import load_model, model_sha256, save_model

from .conftest import ROOT


@pytest.fixture(autouse=True)
def quick_learning(monkeypatch):
    """Learning of a few steps: these tests are about the files, not about learning well."""
    monkeypatch.setattr(um, "LearnSettings", lambda seed: dataclasses.replace(LearnSettings(seed=seed),
                                                                               max_steps=3))


def small_base(path, seed=0):
    net = Network(mlp([784, 16, 10]), seed=seed)
    net.record = {"made_by": "test", "seed": seed}
    digits = np.random.default_rng(seed).integers(0, 256, (200, 784)).astype(np.uint8)
    net.memory = remember(net, digits, np.arange(200) % 10)
    save_model(net, path)
    return path


@pytest.fixture
def user(tmp_path):
    return UserModel(tmp_path / "user.npz", tmp_path / "samples.csv", small_base(tmp_path / "base.npz"))


def drawing(seed):
    return np.random.default_rng(seed).integers(0, 256, (28, 28)).astype(np.uint8)


def sample_lines(user):
    return user.samples_path.read_text().splitlines()[1:] if user.samples_path.exists() else []


def test_without_corrections_the_base_model_is_used(user):
    net, which = user.load()
    assert np.array_equal(net.flat, load_model(user.base_path).flat)
    assert "base.npz" in which and not user.model_path.exists()


def test_a_correction_trains_the_callers_network_and_saves_model_and_one_sample(user):
    net, _ = user.load()
    before = net.flat.copy()
    returned, correction = user.correct(net, drawing(1), 3)
    assert returned is net or returned.record["corrections"], "the caller's network is trained"
    assert not np.array_equal(returned.flat, before)
    saved = load_model(user.model_path)
    assert np.array_equal(saved.flat, returned.flat)
    assert [c["label"] for c in saved.record["corrections"]] == [3]
    assert saved.record["user"]["base_sha256"] == model_sha256(user.base_path)
    assert sample_lines(user) == ["3," + ",".join(map(str, drawing(1).ravel()))]
    assert "learned that this is a 3" in correction.message


def test_each_correction_appends_exactly_one_line(user, monkeypatch):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    first_bytes = user.samples_path.read_bytes()
    net, _ = user.correct(net, drawing(2), 5)
    assert user.samples_path.read_bytes().startswith(first_bytes), "the file grows, it is not rewritten"
    assert [line.split(",")[0] for line in sample_lines(user)] == ["3", "5"]
    assert len(load_model(user.model_path).record["corrections"]) == 2


def test_the_base_model_file_is_never_written(user):
    base = user.base_path.read_bytes()
    net, _ = user.load()
    user.correct(net, drawing(1), 3)
    user.reset()
    assert user.base_path.read_bytes() == base


def test_a_failed_model_write_leaves_both_files_as_they_were(user, monkeypatch):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    samples, model = user.samples_path.read_bytes(), user.model_path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError):
        user.correct(net, drawing(2), 4)
    assert user.samples_path.read_bytes() == samples and user.model_path.read_bytes() == model
    assert not [p for p in user.model_path.parent.iterdir() if p.suffix == ".tmp"]


def test_a_kill_between_sample_and_model_is_repaired_on_the_next_start(user):
    net, _ = user.load()
    user.correct(net, drawing(1), 3)
    user._append_sample(drawing(2), 8)          # the sample was written, then the process died
    messages = []
    net, which = UserModel(user.model_path, user.samples_path, user.base_path).load(say=messages.append)
    assert [c["label"] for c in net.record["corrections"]] == [3, 8]
    assert "interrupted" in messages[0] and "2 corrections" in which
    assert len(load_model(user.model_path).record["corrections"]) == 2


def test_a_half_written_sample_line_is_dropped(user):
    net, _ = user.load()
    user.correct(net, drawing(1), 3)
    with open(user.samples_path, "a") as f:
        f.write("7,0,0,12")                     # killed in the middle of a line
    net, _ = UserModel(user.model_path, user.samples_path, user.base_path).load()
    assert [line.split(",")[0] for line in sample_lines(user)] == ["3"]
    assert len(net.record["corrections"]) == 1


def test_stale_temporary_files_are_removed_on_start(user):
    stale = user.model_path.with_name(f".{user.model_path.name}.abc123.tmp")
    stale.write_bytes(b"half a model")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    user.load()
    assert not stale.exists()


def test_a_retrained_base_model_gets_the_corrections_relearned(user):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    net, _ = user.correct(net, drawing(2), 5)
    small_base(user.base_path, seed=9)          # retrained: another network
    messages = []
    net, _ = UserModel(user.model_path, user.samples_path, user.base_path).load(say=messages.append)
    assert "was retrained" in messages[0] and "learning your 2 corrections again" in messages[0]
    assert net.record["user"]["base_sha256"] == model_sha256(user.base_path)
    assert [c["label"] for c in net.record["corrections"]] == [3, 5]
    assert net.record["seed"] == 9, "built on the new base"


def test_undo_restores_the_model_before_the_latest_correction(user):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    first = user.model_path.read_bytes()
    net, _ = user.correct(net, drawing(2), 5)
    net, message = user.undo()
    assert message == "undid the latest correction."
    assert user.model_path.read_bytes() == first and len(sample_lines(user)) == 1
    net, _ = user.undo()
    assert not user.model_path.exists() and not user.samples_path.exists()
    assert user.undo()[1] == "nothing to undo."


def test_reset_goes_back_to_the_base_and_later_corrections_ignore_older_samples(user):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    net = user.reset()
    assert not user.model_path.exists() and len(sample_lines(user)) == 1, "samples kept"
    assert np.array_equal(net.flat, load_model(user.base_path).flat)
    net, _ = user.correct(net, drawing(2), 5)
    assert [c["label"] for c in net.record["corrections"]] == [5]
    assert net.record["user"]["first_sample"] == 1
    user.reset(forget_samples=True)
    assert not user.samples_path.exists()


def test_samples_file_shorter_than_the_model_is_a_clear_error(user):
    net, _ = user.load()
    net, _ = user.correct(net, drawing(1), 3)
    user.correct(net, drawing(2), 5)
    user.samples_path.write_text(user.samples_path.read_text().splitlines()[0] + "\n")
    with pytest.raises(NNError, match="holds only 0"):
        UserModel(user.model_path, user.samples_path, user.base_path).load()


def _correct_in_another_process(args):
    """One program correcting one drawing; returns the label if it was learned (not already read so)."""
    model, samples, base, seed, label = args
    um.LearnSettings = lambda seed: dataclasses.replace(LearnSettings(seed=seed), max_steps=3)
    user = UserModel(model, samples, base)
    net, _ = user.load()
    _, correction = user.correct(net, drawing(seed), label)
    return None if correction.learned is None else label


def test_two_corrections_at_once_both_kept(user):
    """Three programs correct at once: every correction learned is kept, in the samples and the model.
    (Which of them are learned depends on their order: one learned first can make a later drawing
    read as its label already, and that one is rightly not kept.)"""
    jobs = [(user.model_path, user.samples_path, user.base_path, seed, label)
            for seed, label in ((1, 3), (2, 5), (3, 7))]
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        learned = sorted(label for label in pool.map(_correct_in_another_process, jobs) if label is not None)
    assert len(learned) >= 2, "at least two corrections ran into each other"
    labels = sorted(int(line.split(",")[0]) for line in sample_lines(user))
    assert labels == learned
    recorded = load_model(user.model_path).record["corrections"]
    assert sorted(c["label"] for c in recorded) == learned, "no correction lost from the model"


def test_a_correction_from_another_program_is_not_overwritten(user):
    mine = UserModel(user.model_path, user.samples_path, user.base_path)
    net, _ = mine.load()                                     # the canvas holds this network
    other = UserModel(user.model_path, user.samples_path, user.base_path)
    other_net, _ = other.load()
    other.correct(other_net, drawing(1), 3)                  # a terminal corrects meanwhile
    net, _ = mine.correct(net, drawing(2), 5)
    assert [c["label"] for c in net.record["corrections"]] == [3, 5]


def test_the_shipped_model_learns_a_real_correction_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setattr(um, "LearnSettings", LearnSettings)   # the real learning
    user = UserModel(tmp_path / "user.npz", tmp_path / "samples.csv", shipped_model())
    one = preprocess(ROOT / "docs" / "examples" / "one_with_a_long_flag.png")
    net, which = user.load()
    assert "shipped model" in which and net.predict(one.image.reshape(1, 784) / 255.0)[0] == 7
    net, correction = user.correct(net, one.image, 1)
    assert correction.learned.fixed
    again, which = UserModel(user.model_path, user.samples_path, shipped_model()).load()
    assert again.predict(one.image.reshape(1, 784) / 255.0)[0] == 1 and "1 correction" in which


# --- one user model per base model ----------------------------------------------------------------

def test_each_base_model_has_its_own_user_model_by_default(tmp_path):
    base = small_base(tmp_path / "mnist_cnn.npz")
    assert UserModel(base_path=base).model_path.name == "user_mnist_cnn.npz"


def test_switching_networks_learns_only_what_the_other_has_not_seen_and_then_nothing(tmp_path):
    samples = tmp_path / "samples.csv"
    dense = UserModel(tmp_path / "user_dense.npz", samples, small_base(tmp_path / "dense.npz", seed=1))
    other = UserModel(tmp_path / "user_other.npz", samples, small_base(tmp_path / "other.npz", seed=2))
    net, _ = dense.load()
    for seed, label in ((1, 3), (2, 5)):
        net, _ = dense.correct(net, drawing(seed), label)
    said = []
    net, which = other.load(say=said.append)          # the other network catches up on both, once
    assert "2 of your corrections" in said[0] and len(said) == 3 and "2 corrections" in which
    for user in (dense, other, dense, other):          # and switching back and forth learns nothing
        said.clear()
        before = user.model_path.read_bytes()
        net, _ = user.load(say=said.append)
        assert said == [] and user.model_path.read_bytes() == before
        assert [c["label"] for c in net.record["corrections"]] == [3, 5]


def test_a_retrained_base_says_why_it_learns_again(tmp_path):
    user = UserModel(tmp_path / "user_m.npz", tmp_path / "s.csv", small_base(tmp_path / "m.npz"))
    net, _ = user.load()
    user.correct(net, drawing(1), 3)
    small_base(tmp_path / "m.npz", seed=9)             # retrained
    said = []
    net, _ = user.load(say=said.append)
    assert "was retrained" in said[0] and [c["label"] for c in net.record["corrections"]] == [3]


def test_reset_goes_back_to_the_base_for_every_network(tmp_path):
    samples = tmp_path / "samples.csv"
    users = [UserModel(tmp_path / f"user_{n}.npz", samples, small_base(tmp_path / f"{n}.npz", seed=i))
             for i, n in enumerate(("a", "b"))]
    for user, seed in zip(users, (1, 2), strict=True):
        net, _ = user.load()
        user.correct(net, drawing(seed), 4)
    users[0].reset()
    assert not list(tmp_path.glob("user_*.npz")) and not list(tmp_path.glob(".user_*.undo.npz"))
    for user in users:
        net, which = user.load()
        assert "corrections" not in net.record and "plus" not in which


def test_ctrl_c_while_catching_up_keeps_what_was_learned_and_the_rest_comes_next_time(tmp_path, monkeypatch):
    samples = tmp_path / "samples.csv"
    dense = UserModel(tmp_path / "user_dense.npz", samples, small_base(tmp_path / "dense.npz", seed=1))
    net, _ = dense.load()
    for seed, label in ((1, 3), (2, 5)):
        net, _ = dense.correct(net, drawing(seed), label)
    calls = []
    real = um.learn

    def interrupted_second_time(net, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            net.flat[...] += 1.0                       # half-way through, then Ctrl-C
            raise KeyboardInterrupt
        return real(net, *args, **kwargs)

    monkeypatch.setattr(um, "learn", interrupted_second_time)
    other = UserModel(tmp_path / "user_other.npz", samples, small_base(tmp_path / "other.npz", seed=2))
    said = []
    net, _ = other.load(say=said.append)
    assert "skipped: 1 of 2 learned" in said[-1] and [c["label"] for c in net.record["corrections"]] == [3]
    monkeypatch.setattr(um, "learn", real)
    alone = load_model(other.base_path)                # the first correction alone, learned the same way
    um.learn(alone, drawing(1), 3, settings=um.LearnSettings(seed=0))
    assert load_model(other.model_path).flat.tobytes() == alone.flat.tobytes(), \
        "saved: the first correction learned, nothing of the interrupted one"
    net, _ = UserModel(other.model_path, samples, other.base_path).load(say=said.append)
    assert [c["label"] for c in net.record["corrections"]] == [3, 5]
