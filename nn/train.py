"""Training: the mini-batch loop (`fit`), and the one pipeline (`run`) that the notebook and
`python -m nn train` both call, so the two can never disagree about how a model was made.

fit: shuffle, distort, forward, backward, update; measure; repeat. Everything random comes from one
seed: the same settings and seed give the same model, bit for bit.
run: load the digits (MNIST is downloaded the first time), build the network the settings describe,
fit it, measure it on the test digits, record how it was made, keep a memory of its training digits
(nn/memory.py: what a correction rehearses), and save it.
"""

import contextlib
import dataclasses
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import paths
from .augment import Distortion, distort
from .errors import NNError
from .layers import cross_entropy, one_hot
from .memory import remember
from .network import Network, mlp, scale_pixels
from .optim import WeightAverage, learning_rate, make_optimizer


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
            from . import conv

            return Network(conv.cnn(self.dropout), conv.INPUT_SHAPE, seed=self.seed)
        raise NNError(f"unknown architecture {self.arch!r}: choose 'mlp' or 'cnn'.")


CNN_DISTORTION = Distortion(rotate=8.0, scale=0.08, shear=0.1, shift=2.0, elastic=0.5)


def settings_for(arch):
    """The settings the shipped model of an architecture was trained with.

    The convolutional network learns more per epoch than the dense one, and each epoch costs more, so
    it takes fewer, smaller batches: 22 epochs, 10 to 15 minutes on a 2-core machine, where two BLAS
    threads are faster than one. Its gentler distortions, its dropout and the moving average of its
    weights were each chosen on a validation split (benchmarks/recipe.py; results/recipe.json).
    """
    if arch == "cnn":
        return Settings(arch="cnn", epochs=22, batch_size=128, learning_rate=2e-3, dropout=0.5,
                        average=0.999, distortion=CNN_DISTORTION, threads=2)
    return Settings(arch=arch)


@dataclass
class History:
    """Per-epoch measurements: what the curves in the notebook are drawn from."""

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    validation_loss: list = field(default_factory=list)
    validation_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)


def accuracy(probabilities, labels):
    """Share of rows whose most probable digit is the label."""
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)))


def evaluate(net, images, labels):
    """(average cross-entropy, accuracy) of the network on uint8 images and their labels."""
    P = net.predict_proba(scale_pixels(images))
    return cross_entropy(P, one_hot(labels, P.shape[1], P.dtype)), accuracy(P, labels)


def fit(net, images, labels, settings=None, validation=None, progress=True):
    """Train net in place on uint8 images (m, 784) with integer labels (m,); return a History.

    validation: optional (images, labels) measured after every epoch, never trained on: the digits a
    recipe is chosen on. With settings.average, they are read by the averaged weights, which are kept.
    Stops with an NNError if the loss blows up (not a number, or above DIVERGED_LOSS).
    """
    s = settings or Settings()
    _check_training_data(net, images, labels, s)
    rng = np.random.default_rng(s.seed)                  # shuffling and dropout
    distort_rng = np.random.default_rng([s.seed, 1])     # distortions, drawn in the worker thread
    net.use_rng(rng)
    optimizer = make_optimizer(s.optimizer, net, s.weight_decay)
    average = WeightAverage(net.flat, s.average) if s.average else None
    if not s.augment:   # the digits never change: scale them once, not in every batch of every epoch
        images = scale_pixels(images, net.dtype)
    steps_per_epoch = -(-len(labels) // s.batch_size)
    total_steps = s.epochs * steps_per_epoch
    history = History()
    with threadpool_limits(limits=s.threads, user_api="blas"), ThreadPoolExecutor(1) as worker:
        for epoch in range(s.epochs):
            start = time.perf_counter()
            order = rng.permutation(len(labels))
            batches = _batches_ahead(images, order, s, distort_rng, net.dtype, worker)
            bar = _progress_bar(steps_per_epoch, f"epoch {epoch + 1}/{s.epochs}", progress)
            loss_sum = hits = 0.0
            for i, (X, batch) in enumerate(batches):
                lr = learning_rate(epoch * steps_per_epoch + i, total_steps, s.learning_rate, s.schedule)
                loss, right = _train_step(net, optimizer, X, labels[batch], lr)
                _stop_if_diverged(loss, epoch, i, s)
                if average:
                    average.update()
                loss_sum, hits = loss_sum + loss * len(batch), hits + right
                bar.update()
            bar.close()
            history.loss.append(loss_sum / len(labels))
            history.accuracy.append(hits / len(labels))
            history.seconds.append(time.perf_counter() - start)
            if validation is not None:
                with average.swapped_in() if average else contextlib.nullcontext():
                    validation_loss, validation_accuracy = evaluate(net, *validation)
                history.validation_loss.append(validation_loss)
                history.validation_accuracy.append(validation_accuracy)
            if progress:
                print(_epoch_line(history, s.epochs), flush=True)
    if average:
        net.flat[...] = average.average
    return history


def _train_step(net, optimizer, X, labels, lr):
    """One update on one batch of inputs X (m, 784); returns (batch loss, how many were right)."""
    loss, _ = net.gradients(X, one_hot(labels, net.classes, net.dtype), training=True)
    optimizer.step(lr)
    return loss, int(np.sum(net.output.P.argmax(axis=1) == labels))


def _progress_bar(steps, description, progress):
    """A live bar while a person watches (a terminal, or a notebook open in Jupyter), else nothing.

    A notebook run headless (papermill, nbconvert, CI) gets only the per-epoch text lines, which read
    well when the saved notebook is shown on the web; a saved progress-bar widget would not.
    """
    from tqdm import tqdm

    from .interactive import person_at_notebook

    if progress and person_at_notebook():
        from tqdm.notebook import tqdm
    elif not (progress and sys.stderr.isatty()):
        return tqdm(total=steps, disable=True)
    return tqdm(total=steps, desc=description, leave=False, unit="batch")


def _epoch_line(h, epochs):
    line = (f"epoch {len(h.loss):>3}/{epochs}  loss {h.loss[-1]:.4f}  accuracy {h.accuracy[-1]:.2%}"
            f"  ({h.seconds[-1]:.1f} s)")
    if h.validation_accuracy:
        line += (f"  validation digits: loss {h.validation_loss[-1]:.4f}"
                 f"  accuracy {h.validation_accuracy[-1]:.2%}")
    return line


def _batches_ahead(images, order, s, rng, dtype, worker):
    """Yield (network input X, batch indices) for each batch, preparing the next one in a worker thread.

    Distorting digits (OpenCV) and multiplying matrices (BLAS) both run outside Python's lock, so with
    two cores the next batch is distorted while this one trains. One worker taking the batches in
    order keeps the random distortions the same from run to run.
    """
    def prepare(batch):
        return scale_pixels(distort(images[batch], rng, s.distortion), dtype)

    batches = [order[i:i + s.batch_size] for i in range(0, len(order), s.batch_size)]
    if not s.augment:  # nothing to prepare: handing work to a thread would only add a delay
        yield from ((images[batch], batch) for batch in batches)
        return
    future = worker.submit(prepare, batches[0])
    for i, batch in enumerate(batches):
        X = future.result()
        if i + 1 < len(batches):
            future = worker.submit(prepare, batches[i + 1])
        yield X, batch


# A network that guesses uniformly scores ln(10) = 2.3; an average loss of 15 means the right digit
# gets a probability of about 3e-7: the weights have blown up, and more steps will not bring them back.
DIVERGED_LOSS = 15.0


def _stop_if_diverged(loss, epoch, step, s):
    if not np.isfinite(loss) or loss > DIVERGED_LOSS:
        raise NNError(
            f"training diverged in epoch {epoch + 1}, batch {step + 1}: the loss became {loss:.3g}. "
            f"Lower the learning rate (it was {s.learning_rate:g}) and train again; "
            "the model on disk was not changed.")


def _check_training_data(net, images, labels, s):
    if images.ndim != 2 or images.shape[1] != net.input_size:
        raise NNError(f"training images have shape {images.shape}, but the network takes "
                      f"{net.input_size} pixels per image: flatten each image to one row.")
    if len(images) != len(labels) or len(labels) == 0:
        raise NNError(f"got {len(images)} images and {len(labels)} labels: give one label per image.")
    if s.epochs < 1 or s.batch_size < 1:
        raise NNError(f"epochs ({s.epochs}) and batch size ({s.batch_size}) must be at least 1.")


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
    say(f"training {net.describe()} on {len(labels):,} digits from {data}")
    history = fit(net, images, labels, s, validation, progress=progress)
    P = net.predict_proba(scale_pixels(test_images))            # the test digits read once, at the end
    net.record = training_record(s, data, images, labels, history, accuracy(P, test_labels), test_data)
    net.memory = remember(net, images, labels, seed=s.seed)
    from .persist import save_model

    save_model(net, out)
    say(f"test accuracy {accuracy(P, test_labels):.2%} on {len(test_labels):,} digits from {test_data}; "
        f"trained in {sum(history.seconds):.0f} s; saved {paths.shown(out)}")
    return Run(net, history, test_images, test_labels, P, out)


def settings_fields():
    """(name, default, help text) of each setting the command line offers, read from Settings itself."""
    import inspect
    import re

    source = inspect.getsource(Settings)
    helps = dict(re.findall(r"^\s+(\w+): .*?#\s*(.+)$", source, re.M))
    return [(f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory(),
             helps.get(f.name, "")) for f in dataclasses.fields(Settings) if f.name != "distortion"]
