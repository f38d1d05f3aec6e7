"""Learning from corrections on real digits: corrections stick and MNIST is not forgotten."""

import numpy as np
import pytest

from nn.learn import LearnSettings, learn, made_up_inputs
from nn.network import scale_pixels
from nn.paths import shipped_model
from nn.persist import load_model


@pytest.fixture(scope="module")
def misread(mnist):
    """MNIST test digits the shipped model gets wrong (images, labels), and the rest for measuring."""
    net = load_model(shipped_model())
    wrong = net.predict(scale_pixels(mnist["x_test"])) != mnist["y_test"]
    held_out = np.flatnonzero(~wrong)
    return (mnist["x_test"][wrong], mnist["y_test"][wrong],
            mnist["x_test"][held_out], mnist["y_test"][held_out])


def accuracy(net, images, labels):
    return float(np.mean(net.predict(scale_pixels(images)) == labels))


def correct_in_turn(images, labels, settings=None):
    settings = settings or LearnSettings()
    net = load_model(shipped_model())
    results = [learn(net, images[i], labels[i], earlier=(images[:i], labels[:i]) if i else None,
                     settings=settings) for i in range(len(labels))]
    return net, results


def test_corrections_stick_without_forgetting_mnist(misread):
    images, labels, held_images, held_labels = misread
    net, results = correct_in_turn(images[:5], labels[:5])
    assert all(r.fixed for r in results), [r.after.argmax() for r in results]
    assert accuracy(net, images[:5], labels[:5]) == 1.0, "earlier corrections must still be right"
    assert accuracy(net, held_images, held_labels) >= 1.0 - 0.003     # all were right before


def test_made_up_inputs_are_varied_non_digits():
    inputs = made_up_inputs(300, seed=0)
    assert inputs.shape == (300, 28, 28) and inputs.dtype == np.uint8
    assert 0.01 < np.mean(inputs > 0) < 0.9
    assert len({x.tobytes() for x in inputs}) >= 295        # a blob can come out empty, rarely
