"""Learning from corrections: it sticks, it does not forget, it is kept safely, and reset undoes it."""

import numpy as np
import pytest
from IPython.core.error import StdinNotImplementedError

from nn import NNError, interactive
from nn.learn import LearnSettings, learn, made_up_inputs
from nn.network import scale_pixels
from nn.persist import PRETRAINED, load_model
from nn.preprocess import Drawing, preprocess

from .conftest import ROOT


@pytest.fixture(scope="module")
def misread(mnist):
    """MNIST test digits the pretrained model gets wrong (images, labels), and the rest for measuring."""
    net = load_model(PRETRAINED)
    wrong = net.predict(scale_pixels(mnist["x_test"])) != mnist["y_test"]
    held_out = np.flatnonzero(~wrong)
    return (mnist["x_test"][wrong], mnist["y_test"][wrong],
            mnist["x_test"][held_out], mnist["y_test"][held_out])


def accuracy(net, images, labels):
    return float(np.mean(net.predict(scale_pixels(images)) == labels))


def correct_in_turn(images, labels, settings=None):
    settings = settings or LearnSettings()
    net = load_model(PRETRAINED)
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


@pytest.fixture
def user_files(tmp_path):
    return tmp_path / "user_model.npz", tmp_path / "user_samples.csv"


@pytest.fixture(scope="module")
def seven():
    return preprocess(ROOT / "test_image.png")


def test_correct_saves_the_user_model_and_leaves_the_pretrained_file_alone(user_files, seven):
    model, samples = user_files
    pretrained_bytes = PRETRAINED.read_bytes()
    net, result = interactive.correct(seven, 1, model, samples)
    assert result.fixed and model.exists()
    assert PRETRAINED.read_bytes() == pretrained_bytes
    again = interactive.predict_file(load_model(model), ROOT / "test_image.png")
    assert again.digit == 1, "the learned model, reloaded from disk, reads the corrected digit"
    assert load_model(model).record["corrections"][0]["label"] == 1


def test_reset_goes_back_to_the_pretrained_model(user_files, seven):
    model, samples = user_files
    interactive.correct(seven, 1, model, samples)
    assert interactive.current_model_path(model) == model
    interactive.reset(model)
    assert interactive.current_model_path(model) == PRETRAINED
    net, _, which = interactive.load_current_model(model)
    assert "pretrained" in which and interactive.predict_drawings(net, [seven])[0].digit == 7
    assert samples.exists(), "reset keeps the user's drawings unless asked"
    interactive.reset(model, forget_samples=True, samples_path=samples)
    assert not samples.exists()


def test_each_correction_adds_exactly_one_valid_row(user_files, seven):
    model, samples = user_files
    other = Drawing(image=np.roll(seven.image, 1, axis=1))
    interactive.correct(seven, 1, model, samples)
    interactive.correct(other, 2, model, samples)
    images, labels = interactive.load_samples(samples)
    assert labels.tolist() == [1, 2]
    assert np.array_equal(images[0], seven.image.ravel()) and np.array_equal(images[1], other.image.ravel())
    assert samples.read_text().splitlines()[0].startswith("label,pixel0,pixel1")


def test_an_interrupted_sample_write_leaves_the_samples_intact(user_files, seven, monkeypatch):
    model, samples = user_files
    interactive.correct(seven, 1, model, samples)
    before_samples, before_model = samples.read_bytes(), model.read_bytes()

    def crash(f, rows, **kwargs):
        f.write("1,2,3")                      # half a line, then the power goes out
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savetxt", crash)
    with pytest.raises(KeyboardInterrupt):
        interactive.correct(seven, 2, model, samples)
    assert samples.read_bytes() == before_samples and model.read_bytes() == before_model
    assert sorted(p.name for p in samples.parent.iterdir()) == [model.name, samples.name]


def test_a_failed_learning_step_changes_nothing(user_files, seven, monkeypatch):
    model, samples = user_files
    monkeypatch.setattr(interactive, "learn", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(MemoryError):
        interactive.correct(seven, 1, model, samples)
    assert not model.exists() and not samples.exists()


@pytest.mark.parametrize("text", ["a", "10", "-1", "", " ", "1.5", "٣"])
def test_labels_that_are_not_one_digit_are_refused(text):
    with pytest.raises(NNError, match="is not a digit: type one digit from 0 to 9"):
        interactive.parse_label(text)


def test_a_digit_label_is_accepted():
    assert interactive.parse_label(" 3 ") == 3 and interactive.parse_label(0) == 0


def test_asking_re_asks_until_the_answer_makes_sense(seven):
    prediction = interactive.predict_drawings(load_model(PRETRAINED), [seven])[0]
    answers = iter(["maybe", "n", "ten", "-1", "4"])
    assert interactive.ask_label(prediction, ask=lambda _: next(answers)) == 4
    assert interactive.ask_label(prediction, ask=lambda _: "Y") is None


def test_asking_without_a_keyboard_returns_none(seven, capsys):
    prediction = interactive.predict_drawings(load_model(PRETRAINED), [seven])[0]

    def no_keyboard(_):
        raise StdinNotImplementedError("raw_input was called, but this frontend does not support input")

    assert interactive.ask_label(prediction, ask=no_keyboard) is None
    assert "set CORRECT_LABEL" in capsys.readouterr().out
