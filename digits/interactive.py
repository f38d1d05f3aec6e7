"""Talking to the user about a drawing: what the network makes of it, the notebook's question "was
the guess right?", and errors shown as one line instead of a traceback.

Which model is used, and learning from a correction, belong to user_model.py.
"""

from dataclasses import dataclass

import numpy as np

from nn.errors import NNError, explain
from nn.network import scale_pixels

from .one_digit import doubt
from .preprocess import Drawing

UNSURE = 0.6     # below this top probability the guess is reported as unsure

@dataclass
class Prediction:
    """What the network makes of one drawing."""

    digit: int
    confidence: float              # the probability of `digit`
    probabilities: np.ndarray      # (10,), sums to 1
    drawing: Drawing               # the 28x28 input and the preprocessing steps
    doubt: str | None = None       # why this may not be one digit at all (one_digit.doubt), or None

    @property
    def unsure(self):
        return self.confidence < UNSURE

    @property
    def verdict(self):
        """"one digit", "more than one digit" or "not a digit": what the drawing looks like."""
        if self.doubt is None:
            return "one digit"
        return "more than one digit" if "more than one digit" in self.doubt else "not a digit"

    @property
    def runner_up(self):
        """The second most likely digit."""
        return int(np.argsort(self.probabilities)[-2])

    def describe(self):
        """One line for a person: the guess and how sure, a warning when it is not sure; or, when the
        drawing does not look like one digit, that first, and the guess only as what it would be."""
        if self.doubt:
            what, _, advice = self.doubt.partition(". ")
            return f"{what} (if it were a digit: {self.digit}, {self.confidence:.0%}). {advice}".strip()
        text = f"{self.digit} ({self.confidence:.1%} sure)"
        if self.unsure:
            second = self.runner_up
            text += (f"; unsure: {second} is next at {self.probabilities[second]:.1%}. Try drawing it "
                     "larger, with a thicker pen, or more like a printed digit.")
        return text


def predict_drawings(net, drawings, check=True):
    """Predictions for already preprocessed Drawings, in one forward pass.

    check: also ask one_digit.doubt whether each drawing looks like one digit at all (a few more
    forward passes per drawing; evaluations of thousands of real digits turn it off).
    """
    if not drawings:
        return []
    P = net.predict_proba(scale_pixels(np.stack([d.image for d in drawings])))
    return [Prediction(int(p.argmax()), float(p.max()), p, d, doubt(d, net) if check else None)
            for p, d in zip(P, drawings, strict=True)]


def short_errors_in_notebook():
    """In Jupyter, show an expected failure (errors.explain) as one line instead of a traceback."""
    from IPython import get_ipython

    def show(shell, kind, error, tb, tb_offset=None):
        line = explain(error)
        if line is None:               # a real bug: the full traceback helps whoever fixes it
            shell.showtraceback((kind, error, tb), tb_offset=tb_offset)
            return None
        print(f"⚠️  {line}")
        return [line]

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NNError, OSError, MemoryError), show)


def parse_label(text):
    """The digit a user typed, as an int 0-9; NNError for anything else ('a', '10', '-1', '')."""
    text = str(text).strip()
    if len(text) != 1 or text not in "0123456789":
        raise NNError(f"{text!r} is not a digit: type one digit from 0 to 9.")
    return int(text)


def person_at_notebook():
    """Whether a person's notebook app is attached, rather than a headless runner.

    Apps that show widgets (JupyterLab, Notebook 7, VS Code) also answer input(), and say so in each
    execute request; headless runners (nbclient, papermill, nbconvert) say they cannot, and show no
    widgets either. IPython in a terminal has no kernel and no widgets.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    return bool(kernel is not None and getattr(kernel, "_allow_stdin", False))
