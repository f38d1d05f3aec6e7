"""The not-a-digit network (digits/not_digit.py): what it is trained on, and that both digit networks,
asked through digits.one_digit, answer "not a digit" for a letter and a shape and not for real digits."""

import hashlib
import json
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from benchmarks import non_digits
from benchmarks.drawings import redraw_mnist
from digits import not_digit
from digits.hand import draw
from digits.one_digit import doubt
from digits.paths import not_a_digit_model, shipped_model
from digits.preprocess import preprocess, preprocess_grey
from digits.training import Settings
from digits.written import written_digits
from nn.persist import load_model

from .conftest import ROOT

LETTER_OR_SHAPE = "this looks like a letter, a sign or a shape, not a digit."


def judged(net, image, tmp_path):
    path = tmp_path / "drawing.png"
    assert cv2.imwrite(str(path), image)
    return doubt(preprocess(path), net)


def few_digits(tmp_path, mnist, n=300):
    """A digits file of MNIST's first n training digits, as a user's own data would be."""
    csv = tmp_path / "few.csv"
    rows = np.column_stack([mnist["y_train"][:n], mnist["x_train"][:n].reshape(n, -1)])
    np.savetxt(csv, rows, fmt="%d", delimiter=",", header="label," + ",".join(f"p{i}" for i in range(784)),
               comments="")
    return csv


def test_the_things_it_learns_are_not_digits_are_drawn_the_same_every_time():
    images = not_digit.not_digits(24, seed=3)
    assert images.shape == (24, 784) and images.dtype == np.uint8
    assert np.array_equal(images, not_digit.not_digits(24, seed=3))
    assert (images.max(axis=1) > 200).all()


def test_no_letter_a_reader_would_take_for_a_digit_is_taught_as_not_a_digit():
    assert not set(not_digit.LETTERS) & set("OoIl1iSsZzBbGgqQPp0123456789/|")


def test_without_a_gate_file_no_drawing_is_refused_for_it(tmp_path, monkeypatch):
    assert not_digit.gate(tmp_path / "missing.npz") is None
    monkeypatch.setattr(not_digit, "gate", lambda path=None: None)
    assert not_digit.digit_odds(np.zeros((28, 28), np.uint8)) == float("inf")


@pytest.mark.parametrize("model", ["mnist_mlp.npz", "mnist_cnn.npz"])
def test_a_letter_and_a_shape_are_not_a_digit_and_a_real_digit_is(model, mnist, tmp_path):
    net = load_model(shipped_model().parent / model)
    rng = np.random.default_rng(5)
    letters = [judged(net, non_digits.letter(rng, name)[0], tmp_path) for name in "KHXEN" * 2]
    shapes = [judged(net, non_digits.shape(rng, name)[0], tmp_path) for name in ("star", "arrow", "hash") * 2]
    assert sum(s is not None for s in letters) >= 9, letters
    assert sum(s is not None for s in shapes) >= 5, shapes
    assert sum((s or "").startswith(LETTER_OR_SHAPE) for s in letters) >= 6, letters
    real = mnist["x_test"][:40].reshape(-1, 28, 28)
    digits = [judged(net, redraw_mnist(d, rng)[0], tmp_path) for d in real]
    assert sum(d is not None for d in digits) <= 1, [d for d in digits if d]


@pytest.mark.parametrize("model", ["mnist_mlp.npz", "mnist_cnn.npz"])
def test_a_heart_is_not_a_digit(model, tmp_path):
    """Hearts drawn as the evaluation draws them (from the point at the bottom round two full lobes),
    which the gate trained before the 'round heart' doodle let through two times in three."""
    net = load_model(shipped_model().parent / model)
    rng = np.random.default_rng(11)
    hearts = [judged(net, non_digits.shape(rng, "heart")[0], tmp_path) for _ in range(10)]
    assert sum(h is not None for h in hearts) >= 7, hearts         # the gate before: 5 of 10


def test_every_doodle_drawn_with_care_or_in_haste_reads_as_ink_and_the_two_differ():
    """Each doodle template, sharp-cornered and rounded by the same hand on the same canvas, comes out of
    the real preprocessing as a drawing (not refused, not blank), and the sharp corners show (if
    _straight stopped keeping them, every doodle would be drawn in haste)."""
    for name, (strokes, width) in not_digit.DOODLES.items():
        images = []
        for careful in (True, False):
            rng = np.random.default_rng(2)                 # the same hand, canvas and place both times
            shape = [not_digit._straight(np.asarray(s, float)) if careful else np.asarray(s, float)
                     for s in strokes]
            grey = draw(shape, width, not_digit._habits(rng), rng, sides=not_digit.SIDES)
            images.append(preprocess_grey(grey).image.astype(float) / 255)
        assert all(image.max() > 0.8 and (image > 0.5).mean() > 0.03 for image in images), name
        moved = np.abs(images[0] - images[1]).sum() / images[0].sum()
        assert moved > 0.1, (name, moved)


def test_the_shipped_gate_is_a_two_output_network_with_its_record():
    gate = load_model(not_a_digit_model())
    assert gate.classes == 2 and gate.record["data"]["digits"] > 60000
    assert "not digits" in gate.record["data"]["name"]


def test_train_gate_command_writes_a_gate_that_loads(tmp_path, mnist):
    csv = few_digits(tmp_path, mnist)
    out = tmp_path / "gate.npz"
    done = subprocess.run([sys.executable, "-m", "digits", "train-gate", "--data", str(csv), "--others", "60",
                           "--written", "40", "--epochs", "1", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    gate = load_model(out)
    assert gate.classes == 2 and gate.record["data"]["digits"] == 300 + 40 + 60


def test_a_gate_trained_with_validation_leaves_out_the_last_digits(tmp_path, mnist):
    csv = few_digits(tmp_path, mnist)
    settings = Settings(hidden=(16,), epochs=1, written=20, validation=100)
    gate = not_digit.train_gate(tmp_path / "gate.npz", str(csv), 30, settings, say=lambda _: None)
    first = mnist["x_train"][:200].reshape(-1, 784)           # the last 100 of the 300 are held out
    kept = np.concatenate([first, written_digits(20, 0)[0], not_digit.not_digits(30, 0)])
    labels = np.repeat(np.array([not_digit.DIGIT, not_digit.NOT_DIGIT], np.uint8), [220, 30])
    digest = hashlib.sha256(kept.tobytes())
    digest.update(labels.tobytes())
    assert gate.record["data"]["digits"] == 250 and gate.record["data"]["sha256"] == digest.hexdigest()


def test_predict_leads_with_not_a_digit_and_json_says_so(tmp_path):
    path = tmp_path / "k.png"
    cv2.imwrite(str(path), non_digits.letter(np.random.default_rng(2), "K")[0])
    model = str(shipped_model())
    said = subprocess.run([sys.executable, "-m", "digits", "predict", "--model", model, str(path)], cwd=ROOT,
                          capture_output=True, text=True).stdout
    assert re.match(r".*k.png: this (looks like a letter|does not look like a digit).*"
                    r"\(if it were a digit: \d, \d+%\)", said), said
    line = json.loads(subprocess.run([sys.executable, "-m", "digits", "predict", "--json", "--model", model,
                                      str(path)], cwd=ROOT, capture_output=True, text=True).stdout)
    assert line["digit"] is None and line["looks_like"] == "not a digit" and line["guess"] in range(10)
