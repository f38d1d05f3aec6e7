"""The user's side: which model to use, what it says about a drawing, and keeping what it learns.

The pretrained model ships in models/; once the user corrects a guess, their own copy is saved next
to it (models/user_model.npz) and used from then on, and the corrected drawing is added to
data/user_samples.csv (MNIST CSV layout) so it can be rehearsed later and trained on. The
pretrained file is never written; `reset()` goes back to it.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import USER_SAMPLES, load_digits, save_csv
from .errors import NNError
from .learn import LearnSettings, learn
from .network import scale_pixels
from .persist import PRETRAINED, PROJECT, USER_MODEL, atomic_write, load_model, save_model
from .preprocess import Drawing, preprocess

UNSURE = 0.6     # below this top probability the guess is reported as unsure


@dataclass
class Prediction:
    """What the network makes of one drawing."""

    digit: int
    confidence: float              # the probability of `digit`
    probabilities: np.ndarray      # (10,), sums to 1
    drawing: Drawing               # the 28x28 input and the preprocessing steps

    @property
    def unsure(self):
        return self.confidence < UNSURE

    @property
    def runner_up(self):
        """The second most likely digit."""
        return int(np.argsort(self.probabilities)[-2])

    def describe(self):
        """One line for a person: the guess, how sure, and a warning when it is not."""
        text = f"{self.digit} ({self.confidence:.1%} sure)"
        if self.unsure:
            second = self.runner_up
            text += (f"; unsure: {second} is next at {self.probabilities[second]:.1%}. Try drawing it "
                     "larger, with a thicker pen, or more like a printed digit.")
        return text


def current_model_path(user_model=USER_MODEL):
    """The user's own model if they have corrected a guess before, otherwise the pretrained one."""
    return Path(user_model) if Path(user_model).exists() else PRETRAINED


def load_current_model(user_model=USER_MODEL):
    """(network, path, a sentence saying which model it is)."""
    path = current_model_path(user_model)
    net = load_model(path)
    if path == PRETRAINED:
        which = "the pretrained model (trained on MNIST)"
    else:
        n = len(net.record.get("corrections", []))
        which = f"your own model (it has learned from {n} correction{'s' * (n != 1)})"
    return net, path, f"using {which}: {_shown(path)}"


def ask_label(prediction, ask=input):
    """Ask whether the guess was right and, if not, which digit it is; re-ask until the answer is valid.

    Returns the right digit, or None when the guess was right or nobody can answer (a notebook run
    headless has no keyboard: then set CORRECT_LABEL instead).
    """
    try:
        while (answer := ask(f"I read {prediction.digit}. Was the guess right? (y/n) ").strip().lower()) \
                not in ("y", "yes", "n", "no"):
            print("Please type y or n.")
        if answer.startswith("y"):
            return None
        while True:
            try:
                return parse_label(ask("Which digit is it? (0-9) "))
            except NNError as e:
                print(e)
    except (EOFError, OSError, RuntimeError) as e:   # no keyboard: StdinNotImplementedError is a RuntimeError
        print(f"No keyboard here ({type(e).__name__}: the notebook is running without one): "
              "to teach it, set CORRECT_LABEL in the first cell.")
        return None


def predict_drawings(net, drawings):
    """Predictions for already preprocessed Drawings, in one forward pass."""
    if not drawings:
        return []
    P = net.predict_proba(scale_pixels(np.stack([d.image for d in drawings])))
    return [Prediction(int(p.argmax()), float(p.max()), p, d) for p, d in zip(P, drawings, strict=True)]


def predict_file(net, path):
    """Read, preprocess and classify one drawing file."""
    return predict_drawings(net, [preprocess(path)])[0]


def _shown(path):
    try:
        return str(Path(path).relative_to(PROJECT))
    except ValueError:
        return str(path)


def short_errors_in_notebook():
    """In Jupyter, show an NNError as its one-line message instead of a traceback."""
    from IPython import get_ipython

    def show(shell, kind, error, tb, tb_offset=None):
        print(f"⚠️  {error}")
        return [str(error)]

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NNError,), show)



def parse_label(text):
    """The digit a user typed, as an int 0-9; NNError for anything else ('a', '10', '-1', '')."""
    text = str(text).strip()
    if len(text) != 1 or text not in "0123456789":
        raise NNError(f"{text!r} is not a digit: type one digit from 0 to 9.")
    return int(text)


def load_samples(path=USER_SAMPLES):
    """The user's earlier corrections (images (n, 784) uint8, labels (n,)), or None if there are none."""
    return load_digits(path) if Path(path).exists() else None


def append_sample(image, label, path=USER_SAMPLES):
    """Add one corrected drawing to the user's samples file, atomically (all or nothing)."""
    images, labels = np.empty((0, 784), np.uint8), np.empty(0, np.uint8)
    earlier = load_samples(path)
    if earlier is not None:
        images, labels = earlier
    images = np.concatenate([images, np.asarray(image, np.uint8).reshape(1, 784)])
    save_csv(path, images, np.append(labels, np.uint8(label)))


def mnist_for_rehearsal(path=PROJECT / "data" / "mnist_train.csv", n=5000):
    """The first n MNIST training digits, if MNIST has been downloaded; None otherwise (no download)."""
    return load_digits(path, rows=n) if Path(path).exists() else None


def correct(drawing, label, model_path=USER_MODEL, samples_path=USER_SAMPLES, settings=None):
    """Learn that `drawing` (a Drawing) is `label`, and keep it: save the model and the sample.

    Starts from model_path if it exists, else from the pretrained model. The sample is saved first,
    then the model; each write is atomic, so a crash at any point leaves both files readable.
    Returns (network, Learned).
    """
    label = parse_label(label)
    base = Path(model_path) if Path(model_path).exists() else PRETRAINED
    net = load_model(base)
    earlier = load_samples(samples_path)
    corrections = net.record.get("corrections", [])
    settings = settings or LearnSettings(seed=len(corrections))
    result = learn(net, drawing.image, label, earlier=earlier, mnist=mnist_for_rehearsal(), settings=settings)
    net.record = {**net.record, "base_model": net.record.get("base_model", _shown(base)),
                  "corrections": corrections + [_correction_record(result)]}
    append_sample(drawing.image, label, samples_path)
    _keep_for_undo(Path(model_path))
    save_model(net, model_path)
    return net, result


def _undo_path(model_path):
    return model_path.with_name(f".{model_path.name}.undo.npz")


def _keep_for_undo(model_path):
    """Copy the model as it is before a correction, so `undo_last_correction` can bring it back."""
    backup = _undo_path(model_path)
    if model_path.exists():
        with atomic_write(backup) as f:
            f.write(model_path.read_bytes())
    else:
        backup.unlink(missing_ok=True)


def undo_last_correction(model_path=USER_MODEL, samples_path=USER_SAMPLES):
    """Take back the latest correction: the model as it was before it, and its sample removed.

    Returns a sentence saying what happened. Only the latest correction can be undone.
    """
    model_path, backup = Path(model_path), _undo_path(Path(model_path))
    if backup.exists():
        os.replace(backup, model_path)
    elif model_path.exists() and len(load_model(model_path).record.get("corrections", [])) == 1:
        model_path.unlink()
    else:
        return "nothing to undo: only the latest correction can be undone."
    samples = load_samples(samples_path)
    if samples is not None and len(samples[1]) > 1:
        save_csv(samples_path, samples[0][:-1], samples[1][:-1])
    else:
        Path(samples_path).unlink(missing_ok=True)
    return "undid the latest correction."


def _correction_record(result):
    import datetime

    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "label": result.label, "steps": result.steps,
            "before": round(float(result.before[result.label]), 4),
            "after": round(float(result.after[result.label]), 4)}


def reset(model_path=USER_MODEL, forget_samples=False, samples_path=USER_SAMPLES):
    """Go back to the pretrained model: delete the user's model (and, if asked, their samples)."""
    Path(model_path).unlink(missing_ok=True)
    _undo_path(Path(model_path)).unlink(missing_ok=True)
    if forget_samples:
        Path(samples_path).unlink(missing_ok=True)
