"""The convolution layers of nn/conv.py: forward passes against plain-loop references, every gradient
against a numerical estimate (float64, relative error < 1e-5), including padding, odd sizes, kernels 3
and 5 and the gradient a Conv2D hands to the layer below it."""

import numpy as np
import pytest

import nn.conv
from nn.conv import INPUT_SHAPE, Conv2D, Flatten, MaxPool2D, cnn
from nn.gradcheck import numerical_gradients, relative_error
from nn.layers import Dense, ReLU, one_hot
from nn.network import Network, layer_from_spec


def conv_by_loops(X, W, b, padding):
    """The convolution straight from its definition, one output value at a time."""
    k = W.shape[0]
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    m, Hp, Wp, _ = Xp.shape
    Z = np.zeros((m, Hp - k + 1, Wp - k + 1, W.shape[3]))
    for n, y, x, o in np.ndindex(Z.shape):
        Z[n, y, x, o] = b[o] + np.sum(Xp[n, y:y + k, x:x + k, :] * W[:, :, :, o])
    return Z


def pool_by_loops(X, size):
    m, H, W, C = X.shape
    A = np.zeros((m, H // size, W // size, C))
    for n, y, x, c in np.ndindex(A.shape):
        A[n, y, x, c] = X[n, y * size:(y + 1) * size, x * size:(x + 1) * size, c].max()
    return A


def layer_with_params(layer, input_shape, seed=0):
    """A lone layer with float64 parameters (non-zero biases, so their gradients are exercised)."""
    rng = np.random.default_rng(seed)
    layer.output_shape(input_shape)
    for name, shape in layer.param_shapes().items():
        layer.params[name] = rng.normal(size=shape)
        layer.grads[name] = np.zeros(shape)
    return layer


@pytest.mark.parametrize("kernel, padding, shape", [(3, 0, (7, 5, 2)), (3, 1, (6, 6, 3)), (5, 2, (5, 7, 2)),
                                                     (5, 0, (9, 6, 1))])
def test_conv_forward_matches_loops(kernel, padding, shape):
    conv = layer_with_params(Conv2D(shape[2], 4, kernel, padding), shape)
    X = np.random.default_rng(1).normal(size=(3, *shape))
    Z = conv.forward(X)
    assert Z.shape == (3, *conv.output_shape(shape))
    np.testing.assert_allclose(Z, conv_by_loops(X, conv.params["W"], conv.params["b"], padding), atol=1e-12)


@pytest.mark.parametrize("size, shape", [(2, (6, 4, 3)), (2, (7, 5, 2)), (3, (8, 9, 1))])
def test_maxpool_forward_matches_loops_and_drops_leftover_rows(size, shape):
    X = np.random.default_rng(0).normal(size=(2, *shape))
    A = MaxPool2D(size).forward(X)
    assert A.shape == (2, *MaxPool2D(size).output_shape(shape))
    np.testing.assert_array_equal(A, pool_by_loops(X, size))


def test_maxpool_gives_a_tied_patch_gradient_to_its_first_max_only():
    X = np.array([[1.0, 3.0], [3.0, 3.0]]).reshape(1, 2, 2, 1)
    pool = MaxPool2D(2)
    pool.forward(X)
    dX = pool.backward(np.full((1, 1, 1, 1), 5.0))
    np.testing.assert_array_equal(dX.reshape(2, 2), [[0.0, 5.0], [0.0, 0.0]])


def loss_gradient_check(layer, X, seed=1):
    """Relative error of layer.backward's dX against d/dX of the loss sum(R * layer(X)), R random."""
    R = np.random.default_rng(seed).normal(size=layer.forward(X.copy()).shape)
    dX = layer.backward(R.copy())
    numeric = numerical_gradients(lambda: float(np.sum(R * layer.forward(X.copy()))), {"X": X})["X"]
    return relative_error(dX, numeric)


@pytest.mark.parametrize("kernel, padding, shape", [(3, 0, (5, 4, 2)), (3, 1, (5, 5, 3)), (5, 2, (5, 3, 2))])
def test_conv_input_gradient_matches_numerical(kernel, padding, shape):
    conv = layer_with_params(Conv2D(shape[2], 3, kernel, padding), shape)
    X = np.random.default_rng(2).normal(size=(2, *shape))
    assert loss_gradient_check(conv, X) < 1e-5


@pytest.mark.parametrize("size, shape", [(2, (5, 4, 2)), (3, (7, 6, 1))])
def test_maxpool_input_gradient_matches_numerical(size, shape):
    X = np.random.default_rng(3).normal(size=(2, *shape))
    assert loss_gradient_check(MaxPool2D(size), X) < 1e-5


def tiny_cnn(layers, input_shape, m=3, seed=0):
    net = Network(layers, input_shape=input_shape, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for name, b in net.params.items():
        if name.startswith("b"):
            b[...] = rng.normal(0, 0.1, b.shape)
    X = rng.normal(size=(m, int(np.prod(input_shape))))
    Y = one_hot(rng.integers(0, net.classes, m), net.classes, np.float64)
    return net, X, Y


def backprop_errors(net, X, Y):
    """{parameter: relative error of backprop's gradient against the numerical estimate}."""
    analytic = {name: g.copy() for name, g in net.gradients(X, Y)[1].items()}   # copies: views get reused
    numeric = numerical_gradients(lambda: net.loss(X, Y), net.params)
    return {name: relative_error(analytic[name], numeric[name]) for name in net.params}


NETWORKS = {
    "conv3 valid, odd size": (lambda: [Conv2D(2, 3, 3), ReLU(), Flatten(), Dense(5 * 3 * 3, 4)], (7, 5, 2)),
    "conv5 same, pool on odd size": (
        lambda: [Conv2D(1, 3, 5, padding=2), MaxPool2D(2), ReLU(), Flatten(), Dense(3 * 2 * 3, 4)],
        (7, 5, 1)),
    "two convs (dX of the second), pool 3": (
        lambda: [Conv2D(2, 3, 3, padding=1), ReLU(), Conv2D(3, 4, 5, padding=2), MaxPool2D(3), ReLU(),
                 Flatten(), Dense(2 * 2 * 4, 3)], (6, 7, 2)),
    "a small cnn(): conv-pool-relu twice, dense": (
        lambda: [Conv2D(1, 2, 3, padding=1), MaxPool2D(2), ReLU(), Conv2D(2, 3, 3, padding=1), MaxPool2D(2),
                 ReLU(), Flatten(), Dense(2 * 2 * 3, 5), ReLU(), Dense(5, 3)], (8, 9, 1)),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_backprop_through_conv_layers_matches_numerical_gradient(name):
    layers, input_shape = NETWORKS[name]
    net, X, Y = tiny_cnn(layers(), input_shape)
    errors = backprop_errors(net, X, Y)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < 1e-5, errors


def test_conv_in_chunks_gives_the_same_output_and_gradients(monkeypatch):
    net, X, Y = tiny_cnn(NETWORKS["two convs (dX of the second), pool 3"][0](), (6, 7, 2), m=5)
    whole_Z = net.forward(X)
    whole = {name: g.copy() for name, g in net.gradients(X, Y)[1].items()}
    monkeypatch.setattr(nn.conv, "CHUNK", 2)                  # 5 examples -> chunks of 2, 2, 1
    np.testing.assert_allclose(net.forward(X), whole_Z, rtol=1e-12)
    for name, g in net.gradients(X, Y)[1].items():
        np.testing.assert_allclose(g, whole[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_layers_refuse_inputs_that_do_not_fit():
    with pytest.raises(ValueError, match="cannot take"):
        Conv2D(1, 8, 5).output_shape((28, 28, 3))
    with pytest.raises(ValueError, match="cannot take"):
        Conv2D(1, 8, 5).output_shape((4, 28, 1))
    with pytest.raises(ValueError, match="cannot take"):
        MaxPool2D(2).output_shape((1, 5, 4))
    with pytest.raises(ValueError, match="cannot take"):
        Network([Conv2D(1, 4, 3), Flatten(), Dense(10, 10)], input_shape=(5, 5, 1))


def test_shipped_architecture_reads_a_digit_in_float32():
    net = Network(cnn(), input_shape=INPUT_SHAPE)
    X = np.random.default_rng(0).random((2, 784), dtype=np.float32)
    Z = net.forward(X)
    assert Z.shape == (2, 10) and Z.dtype == np.float32
    _, grads = net.gradients(X, one_hot([3, 7]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_dropout_before_the_last_layer_only_while_training(tmp_path):
    """cnn(0.5) switches off dense units in training steps; reading a digit is the same every time, and
    the layer survives a save and load."""
    from nn import load_model, save_model

    net = Network(cnn(dropout=0.5), input_shape=INPUT_SHAPE, seed=0)
    assert [type(layer).__name__ for layer in net.layers[-3:]] == ["ReLU", "Dropout", "Dense"]
    X = np.random.default_rng(1).random((4, 784), dtype=np.float32)
    np.testing.assert_array_equal(net.forward(X), net.forward(X))
    net.use_rng(np.random.default_rng(2))
    assert not np.array_equal(net.forward(X, training=True), net.forward(X))
    save_model(net, tmp_path / "cnn.npz")
    again = load_model(tmp_path / "cnn.npz")
    assert again.spec() == net.spec()
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


def test_layer_specs_rebuild_the_same_layers():
    for layer in cnn():
        twin = layer_from_spec(layer.spec())
        assert type(twin) is type(layer) and twin.spec() == layer.spec()
