"""The math of nn/layers.py and nn/network.py: every backward pass against numerical estimates, the one
flat parameter buffer, building and copying networks, a stable softmax, one-hot."""

import numpy as np
import pytest

from nn.gradcheck import check_gradients, numerical_gradients, relative_error
from nn.layers import Dense, Dropout, ReLU, SoftmaxCrossEntropy, cross_entropy, one_hot, softmax
from nn.network import Network, mlp, scale_pixels
from nn.optim import make_optimizer


def tiny_problem(sizes=(6, 5, 4, 3), m=7, seed=0, dropout=0.0):
    """A float64 network on inputs of sizes[0] numbers, with random inputs X and one-hot targets Y."""
    rng = np.random.default_rng(seed)
    net = Network(mlp(sizes, dropout), input_shape=(sizes[0],), seed=seed, dtype=np.float64)
    for name, value in net.params.items():  # non-zero biases, so their gradients are exercised too
        if name.startswith("b"):
            value[...] = rng.normal(0, 0.1, value.shape)     # in place: the params are views of net.flat
    X = rng.normal(size=(m, sizes[0]))
    Y = one_hot(rng.integers(0, sizes[-1], m), sizes[-1], np.float64)
    return net, X, Y


# --- backpropagation against numerical gradients ---------------------------------------------------

@pytest.mark.parametrize("sizes", [(6, 3), (6, 5, 3), (6, 5, 4, 3), (3, 9, 2, 7, 4)])
def test_backprop_matches_numerical_gradient(sizes):
    net, X, Y = tiny_problem(sizes)
    errors = check_gradients(net, X, Y)
    assert set(errors) == set(net.params) == {f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"}
    assert max(errors.values()) < 1e-5, errors


def test_backprop_with_dropout_matches_numerical_gradient():
    net, X, Y = tiny_problem((6, 8, 8, 3), dropout=0.3)
    net.use_rng(np.random.default_rng(5))
    net.forward(X, training=True)
    masks = [layer.D for layer in net.layers if isinstance(layer, Dropout)]
    assert len(masks) == 2 and all((D == 0).any() and (D != 0).any() for D in masks), \
        "the mask should drop some units and keep others"
    errors = check_gradients(net, X, Y, training=True, seed=5)
    assert max(errors.values()) < 1e-5, errors


def test_dropout_changes_the_gradient_so_the_check_really_uses_it():
    """With dropout on, the gradient differs from the one without: the dropout check is not vacuous."""
    net, X, Y = tiny_problem((6, 8, 8, 3), dropout=0.3)
    net.use_rng(np.random.default_rng(5))
    with_dropout = {k: v.copy() for k, v in net.gradients(X, Y, training=True)[1].items()}
    without = net.gradients(X, Y, training=False)[1]
    assert relative_error(with_dropout["W1"], without["W1"]) > 0.1


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    net, X, Y = tiny_problem()
    right = Dense.backward

    def off_by_a_bit(self, dZ):
        dX = right(self, dZ)
        self.grads["W"] *= 1.01
        return dX

    monkeypatch.setattr(Dense, "backward", off_by_a_bit)
    errors = check_gradients(net, X, Y)
    assert min(errors[w] for w in ("W1", "W2", "W3")) > 1e-3, errors
    assert max(errors[b] for b in ("b1", "b2", "b3")) < 1e-5, errors


def test_numerical_gradient_of_a_known_function():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    grads = numerical_gradients(lambda: float(np.sum(params["w"] ** 3)), params)
    np.testing.assert_allclose(grads["w"], 3 * params["w"] ** 2, rtol=1e-8)
    np.testing.assert_array_equal(params["w"], [1.0, -2.0, 3.0])  # restored after nudging


# --- each layer's backward on its own --------------------------------------------------------------

def layer_gradients(layer, X, G, before_forward=lambda: None):
    """Analytic and numerical gradients of L = sum(layer.forward(X) * G) for X and each parameter.

    G plays the gradient arriving from above: dL/d(output) = G.
    """
    def loss():
        before_forward()
        return float(np.sum(layer.forward(X.copy(), training=True) * G))

    before_forward()
    layer.forward(X.copy(), training=True)
    analytic = {"X": layer.backward(G.copy())}
    analytic.update({name: g.copy() for name, g in layer.grads.items()})
    numeric = numerical_gradients(loss, {"X": X, **layer.params})
    return analytic, numeric


def test_dense_backward_matches_numerical_gradient():
    rng = np.random.default_rng(0)
    layer = Dense(4, 3)
    layer.params = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}
    X, G = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    analytic, numeric = layer_gradients(layer, X, G)
    for name in ("X", "W", "b"):
        assert relative_error(analytic[name], numeric[name]) < 1e-7, name
    np.testing.assert_allclose(analytic["W"], X.T @ G, rtol=1e-12)     # the docstring's formulas
    np.testing.assert_allclose(analytic["b"], G.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(analytic["X"], G @ layer.params["W"].T, rtol=1e-12)


def test_relu_backward_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 6))
    X[np.abs(X) < 0.01] = 0.5            # stay away from the kink at 0, where no derivative exists
    G = rng.normal(size=(5, 6))
    analytic, numeric = layer_gradients(ReLU(), X, G)
    assert relative_error(analytic["X"], numeric["X"]) < 1e-7
    np.testing.assert_array_equal(analytic["X"], G * (X > 0))


def test_dropout_backward_matches_numerical_gradient_with_the_same_mask():
    rng = np.random.default_rng(2)
    layer = Dropout(0.4)
    X, G = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))

    def same_mask():
        layer.rng = np.random.default_rng(9)

    analytic, numeric = layer_gradients(layer, X, G, same_mask)
    assert relative_error(analytic["X"], numeric["X"]) < 1e-7
    kept = layer.D != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(layer.D[kept], 1 / 0.6, rtol=1e-6)       # survivors scaled by 1/(1 - rate)
    np.testing.assert_allclose(analytic["X"], G * layer.D, rtol=1e-12)


def test_dropout_does_nothing_at_prediction_time():
    layer = Dropout(0.5)
    X = np.random.default_rng(3).normal(size=(4, 5))
    assert layer.forward(X, training=False) is X
    G = np.ones((4, 5))
    assert layer.backward(G) is G


def test_dropout_keeps_each_units_expected_output():
    layer = Dropout(0.3)
    layer.rng = np.random.default_rng(0)
    out = layer.forward(np.ones((1000, 100), np.float32), training=True)
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert (out == 0).mean() == pytest.approx(0.3, abs=0.01)


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_m():
    rng = np.random.default_rng(4)
    Z, Y = rng.normal(size=(7, 5)), one_hot(rng.integers(0, 5, 7), 5, np.float64)
    out = SoftmaxCrossEntropy()
    loss = out.forward(Z, Y)
    assert loss == pytest.approx(-np.mean(np.log(softmax(Z)[Y == 1])), rel=1e-12)
    dZ = out.backward()
    np.testing.assert_allclose(dZ, (softmax(Z) - Y) / 7, rtol=1e-12)
    numeric = numerical_gradients(lambda: SoftmaxCrossEntropy().forward(Z, Y), {"Z": Z})["Z"]
    assert relative_error(dZ, numeric) < 1e-6


# --- the one flat parameter buffer ------------------------------------------------------------------

def test_params_and_grads_are_views_of_the_flat_buffers():
    net = Network(mlp([784, 32, 16, 10]), seed=0)
    assert net.flat.size == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10 == net.flat_grad.size
    assert sum(p.size for p in net.params.values()) == net.flat.size
    for name, value in net.params.items():
        assert np.shares_memory(value, net.flat), name
        assert np.shares_memory(net.grads[name], net.flat_grad), name
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    assert [layer.params["W"] is net.params[f"W{i}"] for i, layer in enumerate(dense, 1)] == [True] * 3


def test_changing_the_flat_buffer_changes_every_layer():
    net = Network(mlp([784, 32, 16, 10]), seed=0)
    net.flat[...] = np.arange(net.flat.size, dtype=np.float32) / net.flat.size
    W1 = net.layers[0].params["W"]
    assert W1[0, 0] == 0 and W1[0, 1] == pytest.approx(1 / net.flat.size, rel=1e-6)
    assert net.params["b3"][-1] == pytest.approx((net.flat.size - 1) / net.flat.size, rel=1e-6)
    net.flat[...] = 0
    X = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(net.predict_proba(X), np.full((3, 10), 0.1, np.float32))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_an_optimiser_step_changes_the_arrays_the_caller_holds(optimizer):
    net, X, Y = tiny_problem((6, 5, 3))
    held = dict(net.params)                   # what a caller (a notebook, a plot) keeps hold of
    before = {name: value.copy() for name, value in held.items()}
    step = make_optimizer(optimizer, net)
    net.gradients(X, Y)
    step.step(0.1)
    for name, value in held.items():
        assert value is net.params[name] and np.shares_memory(value, net.flat), name
        assert not np.array_equal(value, before[name]), f"{name} did not move"


# --- building, describing, copying ------------------------------------------------------------------

def test_mlp_builds_dense_relu_layers():
    assert [layer.spec() for layer in mlp([784, 32, 16, 10])] == [
        {"type": "Dense", "n_in": 784, "n_out": 32}, {"type": "ReLU"},
        {"type": "Dense", "n_in": 32, "n_out": 16}, {"type": "ReLU"},
        {"type": "Dense", "n_in": 16, "n_out": 10}]
    assert [layer.spec() for layer in mlp([784, 10])] == [{"type": "Dense", "n_in": 784, "n_out": 10}]


def test_mlp_with_dropout_puts_it_after_each_hidden_relu():
    assert [repr(layer) for layer in mlp([784, 32, 16, 10], dropout=0.25)] == [
        "Dense(n_in=784, n_out=32)", "ReLU()", "Dropout(rate=0.25)",
        "Dense(n_in=32, n_out=16)", "ReLU()", "Dropout(rate=0.25)", "Dense(n_in=16, n_out=10)"]


@pytest.mark.parametrize("sizes", [[784], [784, 0, 10], []])
def test_mlp_refuses_impossible_sizes(sizes):
    with pytest.raises(ValueError, match="two or more positive numbers"):
        mlp(sizes)


def test_spec_round_trips_through_from_spec():
    net = Network(mlp([784, 24, 12, 10], dropout=0.1), seed=2)
    spec = net.spec()
    assert spec["input_shape"] == [784] and len(spec["layers"]) == 7
    twin = Network.from_spec(spec)
    assert twin.spec() == spec
    assert twin.describe() == net.describe() == \
        "Dense(784->24) ReLU Dropout(rate=0.1) Dense(24->12) ReLU Dropout(rate=0.1) Dense(12->10)"
    assert {k: v.shape for k, v in twin.params.items()} == {k: v.shape for k, v in net.params.items()}


def test_copy_is_independent():
    net = Network(mlp([784, 16, 10]), seed=1)
    net.record = {"settings": {"hidden": [16]}}
    twin = net.copy()
    assert twin.flat.tobytes() == net.flat.tobytes() and twin.record == net.record
    original = net.flat.copy()
    twin.flat += 1
    twin.params["W2"][0, 0] = 42
    twin.record["settings"]["hidden"].append(8)
    np.testing.assert_array_equal(net.flat, original)
    assert net.record == {"settings": {"hidden": [16]}}
    assert not np.shares_memory(twin.flat, net.flat)
    assert np.shares_memory(twin.params["W1"], twin.flat)


def test_he_init_keeps_activation_scale_through_relu_layers():
    net = Network(mlp([784, 512, 512, 512, 10]), seed=0)
    A = np.random.default_rng(1).random((256, 784), dtype=np.float32)
    rms = []
    for layer in net.layers:
        A = layer.forward(A)
        if isinstance(layer, ReLU):
            rms.append(float(np.sqrt(np.mean(A ** 2))))
    assert len(rms) == 3 and max(rms) / min(rms) < 1.5, rms


def test_he_init_draws_weights_with_variance_two_over_n_in():
    net = Network(mlp([784, 512, 10]), seed=0)
    assert np.var(net.params["W1"]) == pytest.approx(2 / 784, rel=0.02)
    assert np.var(net.params["W2"]) == pytest.approx(2 / 512, rel=0.1)
    assert not net.flat[net.params["W1"].size:][:512].any(), "biases start at 0"


def test_same_seed_gives_same_weights_and_other_seed_does_not():
    a, b, c = (Network(mlp([784, 16, 10]), seed=s) for s in (3, 3, 4))
    assert a.flat.dtype == np.float32
    assert a.flat.tobytes() == b.flat.tobytes()
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_a_dense_layer_given_the_wrong_input_shape_is_refused_when_the_network_is_built():
    with pytest.raises(ValueError, match=r"Dense\(32, 10\) cannot take inputs of shape \(16,\)"):
        Network([Dense(784, 16), ReLU(), Dense(32, 10)])
    with pytest.raises(ValueError, match=r"Dense\(100, 10\) cannot take inputs of shape \(784,\)"):
        Network(mlp([100, 10]))


def test_forward_gives_scores_and_predict_the_most_probable_digit():
    net, X, _ = tiny_problem((6, 5, 3))
    Z = net.forward(X)
    assert Z.shape == (7, 3) and Z.dtype == np.float64
    np.testing.assert_allclose(net.predict_proba(X), softmax(Z), rtol=1e-12)
    np.testing.assert_array_equal(net.predict(X), Z.argmax(axis=1))


# --- small functions -------------------------------------------------------------------------------

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


def test_scale_pixels_maps_0_255_onto_0_1_in_float32():
    X = scale_pixels(np.array([[[0, 255], [51, 102]]], dtype=np.uint8))
    assert X.dtype == np.float32 and X.shape == (1, 4)
    np.testing.assert_array_equal(X, np.float32([[0.0, 1.0, 0.2, 0.4]]))


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_hidden_and_scores_is_the_forward_pass_seen_from_inside(arch):
    """Its scores are forward's, its H is what the last layer reads, and the caller's X is untouched."""
    from nn.conv import INPUT_SHAPE, cnn

    net = Network(mlp([784, 32, 16, 10]), seed=0) if arch == "mlp" else Network(cnn(), INPUT_SHAPE, seed=0)
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    before = X.copy()
    H, Z = net.hidden_and_scores(X)
    np.testing.assert_array_equal(Z, net.forward(X))
    assert H.shape == (5, net.layers[-1].n_in)
    np.testing.assert_array_equal(net.layers[-1].forward(H), Z)
    np.testing.assert_array_equal(X, before)
