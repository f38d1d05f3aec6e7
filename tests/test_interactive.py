"""Talking to the user: the guess described, the "was it right?" question, labels, errors as one line."""

import errno

import pytest

from digits import interactive
from digits.paths import shipped_model
from digits.preprocess import preprocess
from nn import NNError
from nn.errors import explain
from nn.persist import load_model

from .conftest import ROOT


@pytest.fixture(scope="module")
def prediction():
    return interactive.predict_drawings(load_model(shipped_model()), [preprocess(ROOT / "test_image.png")])[0]


def test_the_shipped_drawing_is_read_as_a_sure_seven(prediction):
    assert prediction.digit == 7 and prediction.confidence > 0.9 and not prediction.unsure
    assert abs(prediction.probabilities.sum() - 1) < 1e-5
    assert prediction.describe().startswith("7 (")


@pytest.mark.parametrize("text", ["a", "10", "-1", "", " ", "1.5", "٣"])
def test_labels_that_are_not_one_digit_are_refused(text):
    with pytest.raises(NNError, match="is not a digit: type one digit from 0 to 9"):
        interactive.parse_label(text)


def test_a_digit_label_is_accepted():
    assert interactive.parse_label(" 3 ") == 3 and interactive.parse_label(0) == 0


@pytest.mark.parametrize("error, words", [
    (NNError("x.png not found: save it there."), "x.png not found: save it there."),
    (OSError(errno.EACCES, "Permission denied", "models/m.npz"), "not allowed to write models/m.npz"),
    (OSError(errno.EROFS, "Read-only file system", "models/m.npz"), "read-only"),
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    (MemoryError(), "out of memory"),
])
def test_expected_failures_become_one_line_that_says_what_to_do(error, words):
    line = explain(error)
    assert words in line and "\n" not in line


def test_a_bug_is_not_hidden_behind_a_friendly_line():
    assert explain(ZeroDivisionError("division by zero")) is None
