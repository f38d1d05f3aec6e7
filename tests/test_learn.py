"""Learning from a correction (digits/learn.py): it carries to the writer's next drawings, on both networks,
keeps the writer's other digits and MNIST, and never breaks a memory check digit or an earlier
correction. Writers come from benchmarks/styles.py (drawn from strokes in code, read through the real
preprocessing)."""

import numpy as np
import pytest

from benchmarks.styles import STYLES, Writer
from digits.learn import LearnSettings, lead, learn, learn_in_turn
from digits.paths import shipped_model
from nn import NNError
from nn.network import scale_pixels
from nn.persist import load_model
from nn.train import evaluate

NETWORKS = ["mlp", "cnn"]


def reads(net, images):
    return net.predict(scale_pixels(images))


@pytest.fixture(scope="module")
def backwards_nine():
    """A writer of the 9 as many people in China write it (its loop right of the stem, read as an 8 or
    a 0; the shipped models learned the continental 1 and other styles from digits/written.py, not this
    one): 40 drawings and 8 of their normal 8s."""
    writer = Writer(STYLES["backwards 9"], seed=1)
    return writer.images(40), writer.normal_images([8], per_digit=8)[0]


def first_misread(net, images, digit):
    wrong = np.flatnonzero(reads(net, images) != digit)
    assert len(wrong), "the shipped model should misread this style"
    return images[wrong[0]]


@pytest.mark.parametrize("arch", NETWORKS)
def test_one_correction_reads_the_writers_next_drawings(arch, backwards_nine):
    drawings, _ = backwards_nine
    net = load_model(shipped_model(arch))
    held_out = drawings[10:]
    before = np.mean(reads(net, held_out) == 9)
    assert before <= 0.6, "the style must be misread before the correction"
    result = learn(net, first_misread(net, drawings[:10], 9), 9)
    assert result.fixed and result.kept == 1
    after = np.mean(reads(net, held_out) == 9)
    assert after >= 0.8 and after >= before + 0.3, reads(net, held_out)


@pytest.mark.parametrize("arch", NETWORKS)
def test_the_writers_normal_eight_stays_an_eight(arch, backwards_nine):
    drawings, eights = backwards_nine
    net = load_model(shipped_model(arch))
    assert np.all(reads(net, eights) == 8)
    assert learn(net, first_misread(net, drawings, 9), 9).fixed
    assert np.all(reads(net, eights) == 8), reads(net, eights)


@pytest.mark.parametrize("style", ["open-top 9", "closed-top 4"])
def test_a_correction_never_breaks_a_check_digit_or_an_earlier_correction(style):
    """The certified finish: every memory check digit read right (with a clear lead) before three
    corrections is still read right after each, and so is every earlier correction."""
    net = load_model(shipped_model("mlp"))
    memory, digit = net.memory, STYLES[style].digit
    check = memory.check
    X, labels = scale_pixels(memory.images[check]), memory.labels[check].astype(int)
    sure = lead(memory.logits[check], labels) >= LearnSettings().sure       # as the network was trained
    drawings = Writer(STYLES[style], seed=0).images(10)
    misread = drawings[reads(net, drawings) != digit][:3]
    fixed, in_turn = [], learn_in_turn(net, misread, np.full(len(misread), digit))
    for drawing, result in zip(misread, in_turn, strict=True):
        assert np.all(net.predict(X[sure]) == labels[sure]), "a memory check digit broke"
        assert not fixed or np.all(reads(net, np.stack(fixed)) == digit), "an earlier correction broke"
        fixed += [drawing] if result.fixed else []


def test_corrections_of_real_digits_stick_without_forgetting_mnist(mnist):
    """Five misread MNIST test digits corrected in turn: each right afterwards unless the certified
    finish had to hold part of it back (and says so), the ones learned still right at the end, and the
    test digits that were right stay right (at most 0.3 points lost)."""
    net = load_model(shipped_model())
    wrong = net.predict(scale_pixels(mnist["x_test"])) != mnist["y_test"]
    images, labels = mnist["x_test"][wrong][:5], mnist["y_test"][wrong][:5]
    rest = mnist["x_test"][~wrong], mnist["y_test"][~wrong]
    fixed = []
    for result in learn_in_turn(net, images, labels):
        assert result.fixed or result.kept < 1
        fixed.append(result.fixed)
    assert sum(fixed) >= 4
    assert np.all(net.predict(scale_pixels(images[fixed])) == labels[fixed]), "learned ones stay right"
    assert evaluate(net, *rest)[1] >= 1 - 0.003


def test_a_model_without_a_memory_says_how_to_add_one(backwards_nine):
    net = load_model(shipped_model())
    net.memory = None
    with pytest.raises(NNError) as refused:
        learn(net, backwards_nine[0][0], 9)
    message = str(refused.value)
    assert "python -m digits remember --model" in message and "\n" not in message
