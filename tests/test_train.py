"""Training: it learns real digits, is reproducible, stops on divergence; the optimisers and the schedule
follow their textbook formulas step after step; the settings refuse bad values; the pipeline writes a
model that records how it was made; the distortions do what their docstrings say."""

import dataclasses

import numpy as np
import pytest

from digits.augment import Distortion, distort
from digits.training import Settings, run, settings_fields, settings_for, train_network
from nn import Network, NNError, load_model, mlp, scale_pixels
from nn.optim import SGD, Adam, WeightAverage, learning_rate, make_optimizer
from nn.train import evaluate

QUICK = dict(epochs=3, batch_size=32, learning_rate=2e-3, augment=False)


# --- learning real digits ---------------------------------------------------------------------------

def test_short_training_on_real_mnist_beats_90_percent(mnist):
    net = Network(mlp([784, 64, 10]), seed=0)
    test = (mnist["x_test"][:2000], mnist["y_test"][:2000])
    history = train_network(net, mnist["x_train"][:10000], mnist["y_train"][:10000], Settings(**QUICK),
                            validation=test, progress=False)
    _, accuracy = evaluate(net, *test)
    assert accuracy > 0.90
    assert history.validation_accuracy[-1] == accuracy and len(history.loss) == 3
    assert history.loss[2] < history.loss[0], "the training loss should fall"


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_same_seed_same_model_bit_for_bit(mnist, dropout):
    def train(seed):
        settings = Settings(hidden=(32,), epochs=1, seed=seed, dropout=dropout)   # distortions on
        net = settings.network()
        train_network(net, mnist["x_train"][:1000], mnist["y_train"][:1000], settings, progress=False)
        return net.flat.tobytes()

    assert train(7) == train(7)
    assert train(7) != train(8)


def test_the_cnn_recipe_gives_the_same_model_for_the_same_seed(mnist):
    """The shipped CNN's recipe (distortions, dropout, weight average), shortened: bit for bit again."""
    def train(seed):
        settings = dataclasses.replace(settings_for("cnn"), epochs=1, seed=seed)
        net = settings.network()
        train_network(net, mnist["x_train"][:256], mnist["y_train"][:256], settings, progress=False)
        return net.flat.tobytes()

    assert train(3) == train(3)
    assert train(3) != train(4)


def test_the_weight_average_sits_nearer_the_middle_than_the_last_weights():
    """Weights jittering around a point c: the average lands nearer c than the last weights do, and
    constant weights average to themselves."""
    rng = np.random.default_rng(0)
    c = rng.standard_normal(1000)
    w = c + rng.standard_normal(1000)
    average = WeightAverage(w, decay=0.99)
    for _ in range(2000):
        w[...] = c + rng.standard_normal(1000)
        average.update()
    assert np.abs(average.average - c).mean() < 0.2 * np.abs(w - c).mean()
    w[...] = c
    for _ in range(2000):
        average.update()
    np.testing.assert_allclose(average.average, c, atol=1e-6)


def test_fit_keeps_the_averaged_weights_it_measured(mnist):
    """Averaging does not change the training steps; it changes the weights kept, which are the ones
    whose test accuracy was reported."""
    images, labels = mnist["x_train"][:3000], mnist["y_train"][:3000]
    test = (mnist["x_test"][:1000], mnist["y_test"][:1000])
    runs = {}
    for average in (0.0, 0.99):
        net = Network(mlp([784, 32, 10]), seed=0)
        history = train_network(net, images, labels, Settings(**QUICK, average=average), test, progress=False)
        runs[average] = net, history
    (plain, plain_history), (averaged, averaged_history) = runs[0.0], runs[0.99]
    assert plain_history.loss == averaged_history.loss, "the same steps were taken"
    assert not np.array_equal(plain.flat, averaged.flat)
    assert evaluate(averaged, *test)[1] == averaged_history.validation_accuracy[-1]
    assert averaged_history.validation_accuracy[-1] > 0.85


def test_divergence_stops_training_with_advice():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 784)).astype(np.uint8)
    labels = rng.integers(0, 10, 256).astype(np.uint8)
    net = Network(mlp([784, 64, 10]))
    settings = Settings(epochs=3, optimizer="sgd", learning_rate=100, schedule="constant", augment=False)
    advice = r"diverged in epoch \d, batch \d+: the loss became .*Lower the learning rate \(it was 100\)"
    with pytest.raises(NNError, match=advice):
        train_network(net, images, labels, settings, progress=False)


def test_mismatched_images_and_labels_are_refused():
    net = Network(mlp([784, 8, 10]))
    with pytest.raises(NNError, match="got 5 images and 4 labels: give one label per image"):
        train_network(net, np.zeros((5, 784), np.uint8), np.zeros(4, np.uint8), progress=False)
    with pytest.raises(NNError, match=r"shape \(5, 28, 28\).*flatten each image"):
        train_network(net, np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8), progress=False)
    with pytest.raises(NNError, match="got 0 images and 0 labels"):
        train_network(net, np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8), progress=False)


# --- the optimisers against textbook implementations -------------------------------------------------

def flat_model(seed=0):
    """A flat float64 parameter buffer w, its gradient g, and a weight matrix W and bias b viewing w:
    the layout Network gives an optimiser."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=15)
    g = np.zeros_like(w)
    W, b = w[:12].reshape(3, 4), w[12:]
    return w, g, W, b


def gradient_sequence(steps=20, size=15, seed=1):
    """Gradients that change from step to step in size and sign, some of them tiny (where eps matters)."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-9, 1, size)            # per weight: from 1e-9 to 10
    return [rng.normal(size=size) * scales * rng.uniform(0.2, 3) for _ in range(steps)]


def rates(steps=20):
    return [learning_rate(t, steps, 0.05, "cosine", warmup=0.2) for t in range(steps)]


def textbook_adamw(w, decay_mask, grads, lrs, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """Adam with decoupled weight decay (Kingma & Ba 2015; Loshchilov & Hutter 2019), one line a formula."""
    w = w.copy()
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps) - lr * weight_decay * w * decay_mask
    return w


def textbook_sgdw(w, decay_mask, grads, lrs, momentum=0.9, weight_decay=0.0):
    """SGD with momentum and decoupled weight decay: v <- momentum v + g; w <- w - lr v - lr wd w."""
    w = w.copy()
    v = np.zeros_like(w)
    for g, lr in zip(grads, lrs, strict=True):
        v = momentum * v + g
        w = w - lr * v - lr * weight_decay * w * decay_mask
    return w


DECAY_MASK = np.r_[np.ones(12), np.zeros(3)]     # W is decayed, b is not


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_follows_the_textbook_formula_over_many_steps(weight_decay, eps, betas):
    w, g, W, b = flat_model()
    start, grads, lrs = w.copy(), gradient_sequence(), rates()
    adam = Adam(w, g, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay, decayed=[W])
    for step_gradient, lr in zip(grads, lrs, strict=True):
        g[...] = step_gradient
        adam.step(lr)
    expected = textbook_adamw(start, DECAY_MASK, grads, lrs, betas[0], betas[1], eps, weight_decay)
    np.testing.assert_allclose(w, expected, rtol=1e-10, atol=1e-14)
    assert np.max(np.abs(w - start)) > 0.1, "the test should move the weights measurably"


def test_adam_weight_decay_shrinks_weight_matrices_but_not_biases():
    w, g, W, b = flat_model()
    start = w.copy()
    adam = Adam(w, g, weight_decay=0.5, decayed=[W])
    adam.step(0.1)                                    # zero gradient: only the decay acts
    np.testing.assert_allclose(W.ravel(), start[:12] * (1 - 0.1 * 0.5), rtol=1e-12)
    np.testing.assert_array_equal(b, start[12:])


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_sgd_with_momentum_follows_the_textbook_formula_over_many_steps(weight_decay, momentum):
    w, g, W, b = flat_model()
    start, grads, lrs = w.copy(), gradient_sequence(), rates()
    sgd = SGD(w, g, momentum=momentum, weight_decay=weight_decay, decayed=[W])
    for step_gradient, lr in zip(grads, lrs, strict=True):
        g[...] = step_gradient
        sgd.step(lr)
    expected = textbook_sgdw(start, DECAY_MASK, grads, lrs, momentum, weight_decay)
    np.testing.assert_allclose(w, expected, rtol=1e-10, atol=1e-14)
    assert np.max(np.abs(w - start)) > 0.1


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_make_optimizer_decays_every_weight_matrix_and_no_bias(name):
    net = Network(mlp([784, 16, 8, 10]), seed=0)
    for k, value in net.params.items():
        if k.startswith("b"):
            value[...] = 0.5                          # biases start at 0, where decay would not show
    before = {k: v.copy() for k, v in net.params.items()}
    optimizer = make_optimizer(name, net, weight_decay=0.2)
    assert optimizer.w is net.flat and optimizer.g is net.flat_grad
    optimizer.step(0.5)                               # gradients are zero: only the decay acts
    for k, value in net.params.items():
        factor = 1 - 0.5 * 0.2 if k.startswith("W") else 1.0
        np.testing.assert_allclose(value, before[k] * np.float32(factor), rtol=1e-6, err_msg=k)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        make_optimizer("rmsprop", net)


# --- the learning-rate schedules ----------------------------------------------------------------------

def test_cosine_schedule_warms_up_peaks_and_ends_near_zero():
    peak, total = 0.1, 1000
    lrs = [learning_rate(s, total, peak) for s in range(total)]
    warmup = 30                                       # 3% of 1000 steps
    np.testing.assert_allclose(lrs[:warmup], peak * np.arange(1, warmup + 1) / warmup, rtol=1e-12)
    assert lrs[warmup - 1] == pytest.approx(peak) and lrs[warmup] == pytest.approx(peak)
    assert max(lrs) == pytest.approx(peak)
    after_warmup = lrs[warmup:]
    assert np.all(np.diff(after_warmup) < 0), "decreasing after warm-up"
    middle = warmup + (total - warmup) // 2           # progress 1/2: half the peak
    assert lrs[middle] == pytest.approx(peak / 2, rel=1e-12)
    assert 0 < lrs[-1] < 1e-4 * peak


def test_constant_schedule_stays_at_the_peak():
    assert {learning_rate(s, 100, 0.02, "constant") for s in range(100)} == {0.02}


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        learning_rate(0, 10, 0.1, "linear")


# --- settings -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, words", [
    (dict(hidden=(0,)), "hidden [0]: widths start at 1"),
    (dict(hidden=(64, 0)), "hidden [64, 0]"),
    (dict(dropout=1.5), "dropout 1.5 is not from 0 to below 1"),
    (dict(dropout=-0.1), "dropout -0.1"),
    (dict(optimizer="rmsprop"), "optimizer 'rmsprop' is not 'adam' or 'sgd'"),
    (dict(epochs=0), "epochs and batch size must be at least 1"),
    (dict(batch_size=0), "epochs and batch size must be at least 1"),
    (dict(learning_rate=0), "learning rate 0 must be above 0"),
    (dict(schedule="step"), "schedule 'step' is unknown"),
    (dict(arch="rnn"), "arch 'rnn' is not 'mlp' or 'cnn'"),
    (dict(threads=0), "threads 0 must be at least 1"),
])
def test_bad_settings_are_refused_with_a_message(change, words):
    with pytest.raises(NNError) as refused:
        Settings(**change)
    message = str(refused.value)
    assert message.startswith("bad training settings: ") and words in message
    assert message.endswith("Fix them and train again.") and "\n" not in message


def test_every_bad_setting_is_named_at_once():
    with pytest.raises(NNError, match="hidden.*dropout.*optimizer"):
        Settings(hidden=(0,), dropout=2, optimizer="x")


def test_settings_fields_lists_every_setting_but_distortion_with_its_help():
    fields = settings_fields()
    names = [f.name for f in dataclasses.fields(Settings)]
    assert [name for name, _, _ in fields] == [n for n in names if n != "distortion"]
    defaults = Settings()
    for name, default, help_text in fields:
        assert default == getattr(defaults, name), name
        assert help_text and not help_text.startswith("#"), name
    helps = {name: help_text for name, _, help_text in fields}
    assert helps["dropout"] == "share of hidden units switched off in each training step"
    assert helps["seed"] == "all randomness comes from it"


# --- the pipeline ------------------------------------------------------------------------------------------

SMALL = Settings(hidden=(16,), epochs=1, batch_size=32, learning_rate=5e-3, augment=False)


def test_run_writes_a_model_that_records_how_it_was_made(mnist_files, tmp_path):
    train_file, test_file = mnist_files
    out = tmp_path / "small.npz"
    said = []
    result = run(SMALL, train_file, test_file, digits=2000, out=out, progress=False, say=said.append)
    assert sorted(tmp_path.iterdir()) == [out], "nothing but the model, no temporary file"
    net = load_model(out)
    assert net.describe() == "Dense(784->16) ReLU Dense(16->10)"
    assert net.flat.tobytes() == result.net.flat.tobytes()
    record = net.record
    assert record["data"]["digits"] == 2000 and record["epochs_run"] == 1
    assert record["settings"]["hidden"] == [16] and record["settings"]["seed"] == 0
    assert record["test"]["accuracy"] == result.test_accuracy
    images, labels = mnist_test_split(test_file)
    assert evaluate(net, images, labels)[1] == pytest.approx(record["test"]["accuracy"], abs=1e-12)
    assert 0.6 < record["test"]["accuracy"] < 1
    assert any(f"test accuracy {record['test']['accuracy']:.2%}" in line for line in said), said


def test_run_keeps_a_memory_of_its_training_digits_and_saves_it_bit_for_bit(mnist_files, tmp_path):
    """A class-balanced sample of the training digits themselves, with the network's own scores for
    them, written into the model file and read back exactly."""
    train_file, test_file = mnist_files
    result = run(SMALL, train_file, test_file, digits=2000, out=tmp_path / "m.npz", progress=False,
                 say=lambda line: None)
    memory, back = result.net.memory, load_model(tmp_path / "m.npz").memory
    for name in ("images", "labels", "logits"):
        assert getattr(back, name).tobytes() == getattr(memory, name).tobytes(), name
    images, labels = load_digits(train_file, split="train")
    images, labels = images[:2000], labels[:2000]
    counts = np.bincount(memory.labels, minlength=10)
    assert np.array_equal(counts, np.minimum(np.bincount(labels, minlength=10), 300)), counts
    rows = {row.tobytes(): label for row, label in zip(images, labels, strict=True)}
    assert all(rows[row.tobytes()] == label for row, label in zip(memory.images, memory.labels, strict=True))
    assert np.allclose(memory.logits, result.net.forward(scale_pixels(memory.images)), atol=1e-5)
    assert memory.check.sum() == len(memory) // 3


def test_run_twice_with_the_same_settings_gives_the_same_weights(mnist_files, tmp_path):
    train_file, test_file = mnist_files
    settings = dataclasses.replace(SMALL, dropout=0.1)
    for name in ("a.npz", "b.npz"):
        run(settings, train_file, test_file, digits=2000, out=tmp_path / name, progress=False,
            say=lambda line: None)
    a, b = load_model(tmp_path / "a.npz"), load_model(tmp_path / "b.npz")
    assert a.flat.tobytes() == b.flat.tobytes()
    assert a.memory.images.tobytes() == b.memory.images.tobytes()
    assert a.memory.logits.tobytes() == b.memory.logits.tobytes()
    assert a.record["data"]["sha256"] == b.record["data"]["sha256"]


def load_digits(path, split):
    from digits.data import load_digits

    return load_digits(path, split=split)


def mnist_test_split(path):
    from digits.data import load_digits

    return load_digits(path, split="test")


# --- distortions -------------------------------------------------------------------------------------------

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


def test_shifted_moves_every_pixel_and_fills_the_edge_with_background():
    from digits.augment import shifted

    digits = np.random.default_rng(0).integers(1, 256, (3, 784)).astype(np.uint8)
    moved = shifted(digits, 2, -3).reshape(-1, 28, 28)
    assert np.array_equal(moved[:, :25, 2:], digits.reshape(-1, 28, 28)[:, 3:, :26])
    assert not moved[:, 25:, :].any() and not moved[:, :, :2].any()
    assert np.array_equal(shifted(digits, 0, 0), digits)


def test_settings_show_only_what_applies_to_the_network():
    assert "hidden" not in repr(settings_for("cnn")) and "hidden=(512, 512)" in repr(settings_for("mlp"))
    assert "distortion" not in repr(Settings(augment=False))


def test_the_core_loop_takes_any_settings_and_distorts_only_through_the_function_given(mnist):
    """nn.train.fit reads its settings by name from any object, and touches the digits only through the
    distort function it is given: an identity distortion, called once per batch, trains exactly the
    network that no distortion trains, and that network reads digits it never saw."""
    from types import SimpleNamespace

    from nn.train import fit

    s = SimpleNamespace(epochs=5, batch_size=250, optimizer="adam", learning_rate=1e-2, schedule="cosine",
                        weight_decay=0.0, average=0.0, seed=3, threads=1,
                        augment=True, distortion=Distortion())      # the loop must not act on these
    images, labels = mnist["x_train"][:5000], mnist["y_train"][:5000]
    calls = []

    def identity(batch, rng):
        calls.append(len(batch))
        return batch

    plain, distorted = Network(mlp([784, 64, 10]), seed=1), Network(mlp([784, 64, 10]), seed=1)
    fit(plain, images, labels, s, progress=False)
    fit(distorted, images, labels, s, distort=identity, progress=False)
    assert calls == [250] * 100
    assert np.array_equal(plain.flat, distorted.flat)
    assert evaluate(plain, mnist["x_test"][:2000], mnist["y_test"][:2000])[1] > 0.85
