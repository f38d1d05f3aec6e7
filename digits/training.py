"""Training a digit reader: its settings, the shipped recipes, and the one pipeline (`run`) that the
notebook and `python -m digits train` both call, so the two can never disagree about how a model was made.

run: load the digits (MNIST is downloaded the first time), add the digits written in code in the shapes
and hands MNIST lacks (digits/written.py), build the network the settings describe, fit it
(nn.train.fit, with this package's distortions of the digits), measure it on the test digits,
record how it was made, keep a memory of its training digits (nn/memory.py: what a correction
rehearses), and save it.
"""

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nn import conv
from nn.errors import NNError
from nn.files import shown
from nn.memory import remember
from nn.network import Network, mlp, scale_pixels
from nn.persist import save_model
from nn.train import History, accuracy, fit

from . import paths
from .augment import Distortion, distort
from .interactive import person_at_notebook


@dataclass
class Settings:
    """Everything that decides how a network is built and trained; saved with the model so it can be
    redone. The command line's options are made from these fields and their comments."""

    arch: str = "mlp"               # "mlp" (fully connected) or "cnn" (convolutional, part 2)
    hidden: tuple = (512, 512)      # hidden layer widths of the mlp
    dropout: float = 0.0            # share of hidden units switched off in each training step
    epochs: int = 40                # passes over the training digits
    batch_size: int = 256           # digits per training step
    optimizer: str = "adam"         # "adam" or "sgd"
    learning_rate: float = 2e-3     # the peak learning rate
    schedule: str = "cosine"        # "cosine" or "constant"
    weight_decay: float = 0.0       # decoupled weight decay per step, times the learning rate
    average: float = 0.0            # decay of a moving average of the weights, the model kept (0: off)
    augment: bool = True            # train on randomly distorted copies of the digits
    distortion: Distortion = field(default_factory=Distortion)
    written: int = 0                # digits drawn in code, in shapes and hands MNIST lacks, added to them
    validation: int = 0             # training digits held out and measured after each epoch (0: none)
    seed: int = 0                   # all randomness comes from it
    threads: int = 1                # BLAS threads (1 is fastest here, see README)

    def __post_init__(self):
        self.hidden = tuple(int(n) for n in np.atleast_1d(self.hidden))
        rules = [
            (self.arch in ("mlp", "cnn"), f"arch {self.arch!r} is not 'mlp' or 'cnn'"),
            (min(self.hidden, default=1) >= 1, f"hidden {list(self.hidden)}: widths start at 1"),
            (0 <= self.dropout < 1, f"dropout {self.dropout} is not from 0 to below 1"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch size must be at least 1"),
            (self.optimizer in ("adam", "sgd"), f"optimizer {self.optimizer!r} is not 'adam' or 'sgd'"),
            (self.schedule in ("cosine", "constant"), f"schedule {self.schedule!r} is unknown"),
            (self.learning_rate > 0, f"learning rate {self.learning_rate} must be above 0"),
            (0 <= self.average < 1, f"average {self.average} is not from 0 to below 1"),
            (self.validation >= 0, f"validation {self.validation} must be 0 or more digits"),
            (self.written >= 0, f"written {self.written} must be 0 or more digits"),
            (self.threads >= 1, f"threads {self.threads} must be at least 1")]
        problems = [message for ok, message in rules if not ok]
        if problems:
            raise NNError(f"bad training settings: {'; '.join(problems)}. Fix them and train again.")

    def record(self):
        """A JSON-ready dict of the settings that apply (see used)."""
        used = set(self.used())
        return {name: value for name, value in asdict(self).items() if name in used}

    def used(self):
        """The names of the settings that apply: no hidden widths for the convolutional network
        (conv.cnn fixes its layers), no distortion ranges when there are no distortions."""
        unused = {"hidden"} if self.arch == "cnn" else set()
        unused |= set() if self.augment else {"distortion"}
        return [f.name for f in dataclasses.fields(self) if f.name not in unused]

    def __repr__(self):
        return "Settings(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.used()) + ")"

    def network(self):
        """A fresh network of the architecture these settings describe, initialised from the seed."""
        if self.arch == "mlp":
            return Network(mlp([784, *self.hidden, 10], self.dropout), seed=self.seed)
        if self.arch == "cnn":
            return Network(conv.cnn(self.dropout), conv.INPUT_SHAPE, seed=self.seed)
        raise NNError(f"unknown architecture {self.arch!r}: choose 'mlp' or 'cnn'.")


CNN_DISTORTION = Distortion(rotate=8.0, scale=0.08, shear=0.1, shift=2.0, elastic=0.5)


WRITTEN = 10_000     # digits written in code that join MNIST's in the shipped recipes (digits/written.py)


def settings_for(arch):
    """The settings the shipped model of an architecture was trained with.

    Both train on MNIST and WRITTEN digits written in code, in the shapes and hands MNIST has few of.
    The convolutional network learns more per epoch than the dense one, and each epoch costs more, so
    it takes fewer, smaller batches: 16 epochs, about 10 minutes on a 2-core machine (590 s of training
    and 50 s of drawing the written digits on a 2-core Xeon), where two BLAS threads are faster than
    one. Its gentler distortions, its dropout, the moving average of its weights and the written digits
    were each chosen on a validation split (benchmarks/recipe.py; results/recipe.json).
    """
    if arch == "cnn":
        return Settings(arch="cnn", epochs=16, batch_size=128, learning_rate=2e-3, dropout=0.5,
                        average=0.999, distortion=CNN_DISTORTION, written=WRITTEN, threads=2)
    return Settings(arch=arch, written=WRITTEN)


def train_network(net, images, labels, settings=None, validation=None, progress=True):
    """nn.train.fit with the settings' random distortions of the digits (if settings.augment) and, in a
    notebook a person watches, a live progress bar; returns its History."""
    s = settings or Settings()
    if progress and person_at_notebook():
        from tqdm.notebook import tqdm as progress
    return fit(net, images, labels, s, validation, distorter(s), progress)


def distorter(settings):
    """The function fit applies to every batch: the settings' distortion, or None without augment."""
    if not settings.augment:
        return None
    return lambda images, rng: distort(images, rng, settings.distortion)


def training_record(settings, data_name, images, labels, history, test_accuracy=None, test_name=None):
    """What goes into the model file about how it was made: enough to redo it and to trust it."""
    import datetime
    import hashlib
    import platform

    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {"name": str(data_name), "digits": int(len(labels)), "sha256": digest.hexdigest()},
        "settings": settings.record(),
        "epochs_run": len(history.loss),
        "train_seconds": round(float(sum(history.seconds)), 1),
        "final_train_loss": history.loss[-1] if history.loss else None,
        "validation_accuracy": history.validation_accuracy[-1] if history.validation_accuracy else None,
        "test": {"name": str(test_name), "accuracy": test_accuracy} if test_accuracy is not None else None,
        "software": {"python": platform.python_version(), "numpy": np.__version__},
    }


# --- the pipeline --------------------------------------------------------------------------------

MNIST = "mnist"     # the dataset name that means the MNIST digits, downloaded into data/ the first time


def data_file(name, split):
    """The file behind a dataset name: "mnist" is downloaded if missing; anything else is a path."""
    if str(name).lower() == MNIST:
        from .data import ensure_mnist

        train_csv, test_csv = ensure_mnist()
        return Path(train_csv if split == "train" else test_csv)
    return Path(name)


def load_split(name, split, digits=None):
    """(images (m, 784) uint8, labels (m,)) of a dataset's train or test split, the first `digits` only."""
    from .data import load_digits

    images, labels = load_digits(data_file(name, split), split=split)
    return (images[:digits], labels[:digits]) if digits else (images, labels)


def load_training_data(name=MNIST, digits=None, include_my_digits=False, samples=None):
    """The digits to train on: a dataset's train split, plus the user's corrected drawings if asked."""
    images, labels = load_split(name, "train", digits)
    return with_my_digits(images, labels, include_my_digits, samples)


def with_my_digits(images, labels, include_my_digits=True, samples=None):
    """images and labels with the user's corrected drawings (test_model.ipynb) added at the end."""
    samples = Path(samples or paths.USER_SAMPLES)
    if include_my_digits and samples.exists():
        from .data import load_digits

        mine, my_labels = load_digits(samples)
        images, labels = np.concatenate([images, mine]), np.concatenate([labels, my_labels])
    return images, labels


def with_written(images, labels, settings):
    """images and labels with settings.written digits drawn in code (digits/written.py) added at the end."""
    if not settings.written:
        return images, labels
    from .written import written_digits

    drawn, drawn_labels = written_digits(settings.written, settings.seed)
    return np.concatenate([images, drawn]), np.concatenate([labels, drawn_labels.astype(labels.dtype)])


def hold_out(images, labels, n):
    """(training images, labels, validation (images, labels) or None): the last n digits held out."""
    if not n:
        return images, labels, None
    if n >= len(labels):
        raise NNError(f"cannot hold out {n:,} of {len(labels):,} training digits for validation: "
                      "hold out fewer (5,000 of MNIST's 60,000 is usual).")
    return images[:-n], labels[:-n], (images[-n:], labels[-n:])


@dataclass
class Run:
    """What one training run made: the network, its curves, and its test-set numbers."""

    net: Network
    history: History
    test_images: np.ndarray
    test_labels: np.ndarray
    test_probabilities: np.ndarray
    path: Path

    @property
    def test_accuracy(self):
        return accuracy(self.test_probabilities, self.test_labels)


def run(settings=None, data=MNIST, test_data=MNIST, digits=None, include_my_digits=False, out=None,
        progress=True, say=print):
    """Load, build, train, measure, record and save: the whole job, as the notebook and CLI do it.

    With settings.validation, that many training digits are held out and measured after each epoch; the
    test digits are read once, when training is over, so nothing about the training can depend on them.
    out: where to save (default: models/trained_<arch>.npz, which then becomes the base model).
    Nothing is written unless training finished; the previous model stays as it was otherwise.
    """
    s = settings or Settings()
    images, labels, validation = hold_out(*load_split(data, "train", digits), s.validation)
    images, labels = with_my_digits(images, labels, include_my_digits)
    test_images, test_labels = load_split(test_data, "test")   # loaded now, so a bad file stops nothing long
    from .data import balance_warning

    warning = balance_warning(labels, str(data))
    if warning:
        say(f"warning: {warning}")
    net = s.network()
    out = Path(out or paths.trained_model(s.arch))
    written = f" and {s.written:,} written in code" if s.written else ""
    say(f"training {net.describe()} on {len(labels):,} digits from {data}{written}")
    train_images, train_labels = with_written(images, labels, s)
    history = train_network(net, train_images, train_labels, s, validation, progress)
    P = net.predict_proba(scale_pixels(test_images))            # the test digits read once, at the end
    test_accuracy = accuracy(P, test_labels)
    net.record = training_record(s, data, images, labels, history, test_accuracy, test_data)
    net.memory = remember(net, train_images, train_labels, seed=s.seed)
    save_model(net, out)
    say(f"test accuracy {test_accuracy:.2%} on {len(test_labels):,} digits from {test_data}; "
        f"trained in {sum(history.seconds):.0f} s; saved {shown(out)}")
    return Run(net, history, test_images, test_labels, P, out)


def settings_fields():
    """(name, default, help text) of each setting the command line offers, read from Settings itself."""
    import inspect
    import re

    source = inspect.getsource(Settings)
    helps = dict(re.findall(r"^\s+(\w+): .*?#\s*(.+)$", source, re.M))
    return [(f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory(),
             helps.get(f.name, "")) for f in dataclasses.fields(Settings) if f.name != "distortion"]
