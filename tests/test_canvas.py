"""The drawing widget without a browser: strokes become an image, the pad predicts, learns, undoes,
resets and saves through the same functions as the rest of the notebook."""

import cv2
import numpy as np
import pytest

from benchmarks.drawings import STROKES
from digits.canvas import BRUSH, SIZE, strokes_to_image
from digits.hand import smooth
from digits.paths import shipped_model
from digits.preprocess import read_grey
from digits.user_model import UserModel
from nn.persist import load_model

ipycanvas = pytest.importorskip("ipycanvas")


def test_a_single_point_is_a_round_dot_of_the_brush_size():
    image = strokes_to_image([([(140, 140)], 20)])
    ys, xs = np.nonzero(image > 127)
    assert np.ptp(ys) + 1 in (20, 21) and np.ptp(xs) + 1 in (20, 21)
    disc = np.pi * 10.5**2                   # radius 10 around the pixel centre, plus half a pixel
    assert abs((image > 127).sum() - disc) < 0.05 * disc


def test_a_stroke_is_as_long_as_its_points_plus_the_round_caps():
    image = strokes_to_image([([(50, 100), (150, 100), (200, 100)], 10)])
    ys, xs = np.nonzero(image > 127)
    assert (xs.min(), xs.max()) in [(45, 205), (45, 204), (46, 205), (46, 204)]
    assert np.ptp(ys) + 1 in (10, 11, 12)           # the brush width, give or take a pixel each side
    assert image.shape == (SIZE, SIZE) and image.dtype == np.uint8


def test_no_strokes_is_a_black_image():
    assert strokes_to_image([]).max() == 0


def stroke_seven(scale=200, left=50, top=40):
    (points,) = STROKES[7]
    curve = smooth(np.array(points))
    return [([(left + x * scale * 0.7, top + y * scale) for x, y in curve], BRUSH)]


@pytest.fixture
def pad(tmp_path):
    from digits.canvas import DrawingPad

    user = UserModel(tmp_path / "user.npz", tmp_path / "samples.csv", shipped_model())
    return DrawingPad(user, tmp_path / "drawn.png")


def draw(pad, strokes):
    for points, _ in strokes:
        pad._start(*points[0])
        for x, y in points[1:]:
            pad._extend(x, y)
        pad._finish()


def test_the_pad_reads_a_drawn_seven_when_the_stroke_ends(pad):
    assert "Draw a digit" in pad.guess.value
    draw(pad, stroke_seven())
    assert pad.prediction.digit == 7
    assert "Guess: 7" in pad.guess.value and "nn-bars" in pad.bars.value


ONE_WITH_A_LONG_FLAG = [([(60, 100), (170, 40), (170, 250)], BRUSH)]    # the shipped model says 7


def test_a_correction_button_learns_keeps_and_can_be_undone(pad, tmp_path):
    draw(pad, ONE_WITH_A_LONG_FLAG)
    assert pad.prediction.digit == 7, "a misread to correct"
    shipped = shipped_model().read_bytes()
    pad.digit_buttons[1].click()
    assert pad.prediction.digit == 1 and "Guess: 1" in pad.guess.value
    assert load_model(tmp_path / "user.npz").record["corrections"][-1]["label"] == 1
    assert shipped_model().read_bytes() == shipped
    pad.undo()
    assert not (tmp_path / "user.npz").exists() and not (tmp_path / "samples.csv").exists()
    assert pad.prediction.digit == 7, "after undo the shipped model reads it as before"


def test_undo_after_two_corrections_restores_the_first(pad, tmp_path):
    draw(pad, stroke_seven())
    pad.correct(1)
    first = (tmp_path / "user.npz").read_bytes()
    pad.correct(2)
    pad.undo()
    assert (tmp_path / "user.npz").read_bytes() == first
    assert len((tmp_path / "samples.csv").read_text().splitlines()) == 2    # header + the first
    pad.undo()           # one correction on the base model: undoing it is exact, back to the base
    assert not (tmp_path / "user.npz").exists() and not (tmp_path / "samples.csv").exists()
    pad.undo()
    assert "nothing to undo" in pad.status.value.lower()


def test_reset_and_clear(pad, tmp_path):
    draw(pad, stroke_seven())
    pad.correct(1)
    pad.reset()
    assert not (tmp_path / "user.npz").exists() and pad.prediction.digit == 7
    pad.clear()
    assert pad.strokes == [] and pad.prediction is None and "Draw a digit" in pad.guess.value


def test_save_writes_what_was_drawn_as_a_png(pad, tmp_path):
    draw(pad, stroke_seven())
    pad.save()
    saved = cv2.imread(str(tmp_path / "drawn.png"), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(saved, pad.image())
    assert np.allclose(read_grey(tmp_path / "drawn.png"), pad.image() / 255)


def test_a_click_without_a_drawing_says_what_to_do(pad):
    pad.correct(3)
    assert "Draw a digit first" in pad.status.value
    pad.predict()                                     # an empty canvas
    assert pad.prediction is None and "no digit found in the canvas" in pad.status.value


def test_pressing_a_digit_says_at_once_that_it_learns_shows_progress_and_the_buttons_wait(pad, monkeypatch):
    draw(pad, ONE_WITH_A_LONG_FLAG)
    seen, statuses = [], []
    real = pad.user.correct

    def watching(net, image, digit, progress):
        seen.append((pad.status.value, [b.disabled for b in pad.digit_buttons + pad.action_buttons]))

        def watched(steps):
            progress(steps)
            statuses.append(pad.status.value)

        return real(net, image, digit, watched)

    monkeypatch.setattr(pad.user, "correct", watching)
    pad.digit_buttons[1].click()
    status, disabled = seen[0]
    assert "Learning from your 1" in status and all(disabled)
    assert statuses and all("Learning from your 1" in s and " steps)" in s for s in statuses), statuses
    assert not any(b.disabled for b in pad.digit_buttons + pad.action_buttons)
    assert "learned that this is a 1" in pad.status.value.lower()


def test_a_new_drawing_clears_what_was_said_about_the_last_one(pad):
    draw(pad, ONE_WITH_A_LONG_FLAG)
    pad.correct(1)
    assert "learned that" in pad.status.value.lower()
    pad.clear()
    assert "learned that" not in pad.status.value.lower() and "your own model" in pad.status.value
    pad.correct(1)                               # learned again without clearing; then a new stroke
    pad._start(100, 100)
    assert "learned that" not in pad.status.value.lower()


def test_something_that_is_not_a_digit_is_answered_as_such(pad):
    face = [([(140 + 100 * np.cos(t), 140 + 100 * np.sin(t)) for t in np.linspace(0, 6.3, 60)], BRUSH),
            ([(100, 110)], BRUSH), ([(180, 110)], BRUSH),
            ([(100 + 80 * t, 180 + 20 * np.sin(np.pi * t)) for t in np.linspace(0, 1, 10)], BRUSH)]
    draw(pad, face)
    assert pad.prediction.doubt
    assert "Guess:" not in pad.guess.value and "like a digit" in pad.guess.value
    assert "if it were a digit" in pad.guess.value


def test_save_never_overwrites_a_drawing_already_there(pad, tmp_path):
    (tmp_path / "drawn.png").write_bytes(b"the user's Paint drawing")
    draw(pad, stroke_seven())
    pad.save()
    assert (tmp_path / "drawn.png").read_bytes() == b"the user's Paint drawing"
    assert np.array_equal(cv2.imread(str(tmp_path / "drawn_2.png"), cv2.IMREAD_GRAYSCALE), pad.image())
    assert "drawn_2.png" in pad.status.value and "kept as it was" in pad.status.value
