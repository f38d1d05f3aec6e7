"""Training: it learns real digits, is reproducible, stops on divergence; the optimisers and the
distortions do what their docstrings say."""

import numpy as np
import pytest

from nn import Network, NNError
from nn.augment import Distortion, distort
from nn.optim import Adam, learning_rate
from nn.train import Settings, evaluate, fit, split_validation

QUICK = dict(epochs=3, batch_size=32, learning_rate=2e-3, augment=False)


def test_short_training_on_real_mnist_beats_90_percent(mnist):
    net = Network([784, 64, 10], seed=0)
    history = fit(net, mnist["x_train"][:10000], mnist["y_train"][:10000], Settings(**QUICK),
                  validation=(mnist["x_test"][:2000], mnist["y_test"][:2000]), progress=False)
    _, accuracy = evaluate(net, mnist["x_test"][:2000], mnist["y_test"][:2000])
    assert accuracy > 0.90
    assert history.val_accuracy[-1] == accuracy
    assert history.loss[2] < history.loss[0], "the training loss should fall"


def test_same_seed_same_model_bit_for_bit(mnist):
    def train(seed):
        net = Network([784, 32, 10], seed=seed)
        fit(net, mnist["x_train"][:1000], mnist["y_train"][:1000],
            Settings(epochs=1, seed=seed, dropout=0.1), progress=False)
        return net.params["W1"]

    assert train(7).tobytes() == train(7).tobytes()
    assert train(7).tobytes() != train(8).tobytes()


def test_divergence_stops_training_with_advice():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 784)).astype(np.uint8)
    labels = rng.integers(0, 10, 256).astype(np.uint8)
    net = Network([784, 64, 10])
    settings = Settings(epochs=3, optimizer="sgd", learning_rate=100, schedule="constant", augment=False)
    with pytest.raises(NNError, match="diverged.*Lower the learning rate"):
        fit(net, images, labels, settings, progress=False)


def test_mismatched_images_and_labels_are_refused():
    with pytest.raises(NNError, match="one label per image"):
        fit(Network([784, 8, 10]), np.zeros((5, 784), np.uint8), np.zeros(4, np.uint8), progress=False)
    with pytest.raises(NNError, match="flatten each image"):
        fit(Network([784, 8, 10]), np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8), progress=False)


def test_split_validation_partitions_the_data():
    images = np.arange(100, dtype=np.uint8).reshape(100, 1)
    labels = np.arange(100)
    train_x, train_y, val_x, val_y = split_validation(images, labels, 20, seed=0)
    assert len(val_y) == 20 and len(train_y) == 80
    assert sorted(np.concatenate([train_y, val_y]).tolist()) == list(range(100))
    assert np.array_equal(train_x[:, 0], train_y)


def test_first_adam_step_moves_each_weight_by_the_learning_rate():
    params = {"W1": np.array([[1.0, 2.0, 3.0]])}
    grads = {"W1": np.array([[0.5, -2.0, 1e-3]])}
    Adam(params).step(grads, lr=0.01)
    np.testing.assert_allclose(params["W1"], [[0.99, 2.01, 2.99]], rtol=1e-5)


def test_cosine_schedule_warms_up_peaks_and_ends_near_zero():
    rates = [learning_rate(s, 1000, 0.1) for s in range(1000)]
    assert rates[0] < 0.01 and max(rates) == pytest.approx(0.1)
    assert rates[-1] < 1e-3
    assert all(b <= a for a, b in zip(rates[40:-1], rates[41:], strict=True)), "decreasing after warm-up"


def test_no_distortion_is_the_identity():
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    none = Distortion(rotate=0, scale=0, shear=0, shift=0, elastic=0)
    np.testing.assert_array_equal(distort(images, np.random.default_rng(1), none), images)


def test_distortion_changes_digits_but_keeps_their_ink(mnist):
    images = mnist["x_train"][:200]
    out = distort(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert np.mean(out != images) > 0.05
    ink_ratio = out.sum(1).astype(float) / images.sum(1)
    assert 0.75 < np.median(ink_ratio) < 1.25
