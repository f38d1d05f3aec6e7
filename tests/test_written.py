"""Digits written in code in the shapes and hands MNIST lacks (digits/written.py), and training with them."""

import numpy as np
import pytest

from benchmarks import handwriting_eval
from digits import written
from digits.training import Settings, train_network, with_written
from nn.errors import NNError
from nn.network import scale_pixels


def test_the_same_seed_draws_the_same_digits_and_every_one_has_ink():
    images, labels = written.written_digits(30, seed=4)
    again, _ = written.written_digits(30, seed=4)
    other, _ = written.written_digits(30, seed=5)
    assert images.shape == (30, 784) and images.dtype == np.uint8
    assert np.array_equal(images, again) and not np.array_equal(images, other)
    assert list(labels) == [i % 10 for i in range(30)]
    assert (images.max(axis=1) > 200).all() and ((images > 127).mean(axis=1) < 0.3).all()


def test_every_shape_of_every_digit_can_be_drawn_and_read():
    from digits.preprocess import preprocess_grey

    rng = np.random.default_rng(0)
    for digit, shapes in written.SHAPES.items():
        for name, strokes, width in shapes:
            habits = written.random_writer(rng)
            canvas = written.draw([np.asarray(s, float) for s in strokes], width, habits, rng,
                                  sides=written.SIDES)
            image = preprocess_grey(canvas).image
            assert image.shape == (28, 28) and image.max() > 200, (digit, name)


def test_training_adds_the_written_digits_after_the_others():
    images, labels = np.zeros((5, 784), np.uint8), np.full(5, 3, np.uint8)
    more, more_labels = with_written(images, labels, Settings(written=20))
    assert more.shape == (25, 784) and list(more_labels[5:]) == [i % 10 for i in range(20)]
    assert np.array_equal(more[5:], written.written_digits(20, seed=0)[0])
    assert with_written(images, labels, Settings())[0] is images
    with pytest.raises(NNError, match="written -1"):
        Settings(written=-1)


def test_written_digits_teach_a_network_other_peoples_handwriting(mnist):
    """A small network trained on 3,000 MNIST digits reads the handwriting evaluation's kind of writers
    (other seeds than the benchmark's) clearly better with 2,000 written digits added."""
    writers = [handwriting_eval.drawings(handwriting_eval.person(s), s, 3) for s in range(2000, 2010)]
    drawn = [(d.image.reshape(-1), y) for made, digits, _ in writers
             for d, y in zip(made, digits, strict=True) if d is not None]
    X, y = scale_pixels(np.array([d for d, _ in drawn])), np.array([y for _, y in drawn])
    read = {}
    for count in (0, 2000):
        settings = Settings(hidden=(128,), epochs=6, written=count, augment=False)
        images, labels = with_written(mnist["x_train"][:3000], mnist["y_train"][:3000], settings)
        net = settings.network()
        train_network(net, images, labels, settings, progress=False)
        read[count] = float(np.mean(net.predict(X) == y))
    assert read[2000] >= read[0] + 0.08, read
