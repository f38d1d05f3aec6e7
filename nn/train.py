"""The mini-batch training loop: shuffle, distort, forward, backward, update; measure; repeat.

One function, `fit`, used by both the notebook and `python -m nn train`, so the two can never
disagree about how the shipped model was made. Everything random comes from one seed: the same
settings and seed give the same model.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .augment import Distortion, distort
from .errors import NNError
from .network import cross_entropy, one_hot, scale_pixels
from .optim import learning_rate, make_optimizer

# The shipped model's architecture: 784 pixels in, two hidden layers, 10 digit scores out.
DEFAULT_SIZES = (784, 512, 512, 10)


@dataclass
class Settings:
    """Everything that decides how a network is trained; saved with the model so it can be redone."""

    epochs: int = 40
    batch_size: int = 256
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    schedule: str = "cosine"
    weight_decay: float = 0.0
    dropout: float = 0.0
    augment: bool = True
    distortion: Distortion = field(default_factory=Distortion)
    seed: int = 0
    threads: int = 1

    def record(self):
        """A JSON-ready dict of these settings."""
        return asdict(self)


@dataclass
class History:
    """Per-epoch measurements: what the curves in the notebook are drawn from."""

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)


def split_validation(images, labels, n, seed=0):
    """Hold out n random digits for validation: (train_images, train_labels, val_images, val_labels)."""
    order = np.random.default_rng(seed).permutation(len(labels))
    val, train = order[:n], order[n:]
    return images[train], labels[train], images[val], labels[val]


def evaluate(net, images, labels):
    """(average cross-entropy, accuracy) of the network on uint8 images and their labels."""
    P = net.predict_proba(scale_pixels(images))
    return cross_entropy(P, one_hot(labels, P.shape[1], P.dtype)), float(np.mean(P.argmax(1) == labels))


def fit(net, images, labels, settings=None, validation=None, progress=True):
    """Train net in place on uint8 images (m, 784) with integer labels (m,); return a History.

    validation: optional (images, labels) measured after every epoch, never trained on.
    Stops with an NNError if the loss blows up (not a number, or above DIVERGED_LOSS).
    """
    s = settings or Settings()
    _check_training_data(net, images, labels, s)
    rng = np.random.default_rng(s.seed)                  # shuffling and dropout
    distort_rng = np.random.default_rng([s.seed, 1])     # distortions, drawn in the worker thread
    optimizer = make_optimizer(s.optimizer, net.params, s.weight_decay)
    if not s.augment:   # the digits never change: scale them once, not in every batch of every epoch
        images = scale_pixels(images, net.dtype)
    steps_per_epoch = -(-len(labels) // s.batch_size)
    total_steps = s.epochs * steps_per_epoch
    history = History()
    # One BLAS thread: these matrices are small, and extra threads mostly wait on each other.
    with threadpool_limits(limits=s.threads, user_api="blas"), ThreadPoolExecutor(1) as worker:
        for epoch in range(s.epochs):
            start = time.perf_counter()
            order = rng.permutation(len(labels))
            bar = _progress_bar(steps_per_epoch, f"epoch {epoch + 1}/{s.epochs}", progress)
            batches = _batches_ahead(images, order, s, distort_rng, net.dtype, worker)
            loss_sum = correct = 0.0
            for i, (X, batch) in zip(bar, batches, strict=True):
                step = epoch * steps_per_epoch + i
                loss, hits = _train_step(net, optimizer, X, labels[batch], rng, s,
                                         learning_rate(step, total_steps, s.learning_rate, s.schedule))
                _stop_if_diverged(loss, epoch, i, s)
                loss_sum += loss * len(batch)
                correct += hits
                if i % 50 == 0 or i == steps_per_epoch - 1:
                    seen = min((i + 1) * s.batch_size, len(labels))
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
            history.loss.append(loss_sum / len(labels))
            history.accuracy.append(correct / len(labels))
            history.seconds.append(time.perf_counter() - start)
            if validation is not None:
                val_loss, val_acc = evaluate(net, *validation)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_acc)
            bar.close()
            if progress:
                tqdm.write(_epoch_line(history, epoch, s.epochs))
    return history


def _progress_bar(steps, description, progress):
    """A tqdm bar over range(steps): a widget in Jupyter, text in a terminal.

    `disable` is left unset when progress is wanted so that TQDM_DISABLE=1 in the environment can
    still turn the bars off (the documented way to regenerate the committed notebooks).
    """
    off = {} if progress else {"disable": True}
    return tqdm(range(steps), desc=description, leave=False, unit="batch", **off)


def _epoch_line(h, epoch, epochs):
    line = (f"epoch {epoch + 1:>3}/{epochs}  loss {h.loss[-1]:.4f}  accuracy {h.accuracy[-1]:.2%}"
            f"  ({h.seconds[-1]:.1f} s)")
    if h.val_accuracy:
        line += f"  held-out loss {h.val_loss[-1]:.4f}  accuracy {h.val_accuracy[-1]:.2%}"
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


def _train_step(net, optimizer, X, labels, rng, s, lr):
    """One update on one batch of inputs X (m, 784); returns (batch loss, how many were right)."""
    Y = one_hot(labels, net.sizes[-1], net.dtype)
    P, cache = net.forward(X, dropout=s.dropout, rng=rng)
    optimizer.step(net.backward(cache, Y), lr)
    return cross_entropy(P, Y), int(np.sum(P.argmax(axis=1) == labels))


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
    if images.ndim != 2 or images.shape[1] != net.sizes[0]:
        raise NNError(f"training images have shape {images.shape}, but the network's first layer "
                      f"takes {net.sizes[0]} pixels per image: flatten each image to one row.")
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
        "test": {"name": str(test_name), "accuracy": test_accuracy} if test_accuracy is not None else None,
        "software": {"python": platform.python_version(), "numpy": np.__version__},
    }
