"""The math of nn/network.py: gradients against numerical estimates, a stable softmax, one-hot."""

import numpy as np
import pytest

from nn.gradcheck import check_gradients, numerical_gradients, relative_error
from nn.network import Network, cross_entropy, one_hot, scale_pixels, softmax


def tiny_problem(sizes=(6, 5, 4, 3), m=7, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(sizes, seed=seed, dtype=np.float64)
    for name in net.params:  # non-zero biases, so their gradients are exercised too
        if name.startswith("b"):
            net.params[name] = rng.normal(0, 0.1, net.params[name].shape)
    X = rng.normal(size=(m, sizes[0]))
    Y = one_hot(rng.integers(0, sizes[-1], m), sizes[-1], np.float64)
    return net, X, Y


@pytest.mark.parametrize("sizes", [(6, 3), (6, 5, 3), (6, 5, 4, 3)])
def test_backprop_matches_numerical_gradient(sizes):
    net, X, Y = tiny_problem(sizes)
    errors = check_gradients(net, X, Y)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < 1e-5, errors


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    net, X, Y = tiny_problem()
    right = Network.backward

    def off_by_a_bit(self, cache, Y):
        grads = right(self, cache, Y)
        grads["W2"] = grads["W2"] * 1.01
        return grads

    monkeypatch.setattr(Network, "backward", off_by_a_bit)
    errors = check_gradients(net, X, Y)
    assert errors["W2"] > 1e-3 and errors["W1"] < 1e-5


def test_numerical_gradient_of_a_known_function():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    grads = numerical_gradients(lambda: float(np.sum(params["w"] ** 3)), params)
    np.testing.assert_allclose(grads["w"], 3 * params["w"] ** 2, rtol=1e-8)


def test_backprop_with_dropout_matches_numerical_gradient():
    net, X, Y = tiny_problem((6, 8, 8, 3))

    def forward():  # the same dropout mask on every call
        return net.forward(X, dropout=0.3, rng=np.random.default_rng(5))

    P, cache = forward()
    assert (cache["D1"] == 0).any(), "the mask should drop some units"
    analytic = net.backward(cache, Y)
    numeric = numerical_gradients(lambda: cross_entropy(forward()[0], Y), net.params)
    for name in net.params:
        assert relative_error(analytic[name], numeric[name]) < 1e-5, name


def test_loss_gradient_is_p_minus_y_over_m():
    net, X, Y = tiny_problem((6, 3))
    P, cache = net.forward(X)
    # For a single layer, dL/db = sum over the batch of (P - Y) / m: the output gradient itself.
    np.testing.assert_allclose(net.backward(cache, Y)["b1"], (P - Y).sum(0) / len(X), rtol=1e-12)


def test_softmax_is_stable_for_huge_scores():
    Z = np.array([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]], dtype=np.float32)
    P = softmax(Z)
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-7)


def test_softmax_rows_sum_to_one_and_ignore_a_shift():
    Z = np.random.default_rng(0).normal(size=(5, 10))
    np.testing.assert_allclose(softmax(Z).sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(Z + 123.0), softmax(Z), rtol=1e-9)


def test_cross_entropy_of_a_confident_wrong_answer_is_large_but_finite():
    P = np.array([[1.0, 0.0]])
    assert cross_entropy(P, np.array([[0.0, 1.0]])) == pytest.approx(-np.log(1e-12))
    assert cross_entropy(P, np.array([[1.0, 0.0]])) == pytest.approx(0.0)


def test_one_hot_puts_a_single_one_in_each_label_column():
    Y = one_hot([3, 0, 9])
    assert Y.shape == (3, 10) and Y.dtype == np.float32
    assert Y.sum() == 3 and Y[0, 3] == Y[1, 0] == Y[2, 9] == 1


def test_he_init_keeps_activation_scale_through_relu_layers():
    net = Network([784, 512, 512, 512, 10], seed=0)
    X = np.random.default_rng(1).random((256, 784), dtype=np.float32)
    _, cache = net.forward(X)
    rms = [np.sqrt(np.mean(cache[f"A{l}"] ** 2)) for l in (1, 2, 3)]
    assert max(rms) / min(rms) < 1.5, rms


def test_scale_pixels_maps_0_255_onto_0_1_in_float32():
    X = scale_pixels(np.array([[[0, 255], [51, 102]]], dtype=np.uint8))
    assert X.dtype == np.float32 and X.shape == (1, 4)
    np.testing.assert_array_equal(X, np.float32([[0.0, 1.0, 0.2, 0.4]]))


def test_same_seed_gives_same_weights_and_other_seed_does_not():
    a, b, c = Network([784, 16, 10], seed=3), Network([784, 16, 10], seed=3), Network([784, 16, 10], seed=4)
    assert np.array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
