"""The mini-batch training loop: shuffle, (distort), forward, backward, update; measure; repeat.

Everything random comes from one seed: the same settings and seed give the same model, bit for bit.
What the loop reads from its settings (any object with these attributes; the digit reader's
`digits.training.Settings` is one):

    epochs, batch_size          passes over the digits, digits per step
    optimizer, learning_rate    "adam" or "sgd", and the peak rate of the schedule ("cosine" or "constant")
    schedule, weight_decay
    average                     decay of a moving average of the weights, the model kept (0: off)
    seed, threads               all randomness comes from the seed; BLAS threads
"""

import contextlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import NNError
from .layers import cross_entropy, one_hot
from .network import scale_pixels
from .optim import WeightAverage, learning_rate, make_optimizer


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


def fit(net, images, labels, settings, validation=None, distort=None, progress=True):
    """Train net in place on uint8 images (m, 784) with integer labels (m,); return a History.

    validation: optional (images, labels) measured after every epoch, never trained on: the digits a
    recipe is chosen on. With settings.average, they are read by the averaged weights, which are kept.
    distort: optional function (uint8 images, rng) -> uint8 images, applied to every batch afresh; the
    loop itself never distorts (settings.augment, if the settings have it, is the caller's business:
    digits.training.train_network passes its distortion here).
    progress: print a line per epoch (and a bar in a terminal); or a tqdm class to draw the bar with.
    Stops with an NNError if the loss blows up (not a number, or above DIVERGED_LOSS).
    """
    s = settings
    _check_training_data(net, images, labels, s)
    rng = np.random.default_rng(s.seed)                  # shuffling and dropout
    distort_rng = np.random.default_rng([s.seed, 1])     # distortions, drawn in the worker thread
    net.use_rng(rng)
    optimizer = make_optimizer(s.optimizer, net, s.weight_decay)
    average = WeightAverage(net.flat, s.average) if s.average else None
    if distort is None:   # the digits never change: scale them once, not in every batch of every epoch
        images = scale_pixels(images, net.dtype)
    steps_per_epoch = -(-len(labels) // s.batch_size)
    total_steps = s.epochs * steps_per_epoch
    history = History()
    with threadpool_limits(limits=s.threads, user_api="blas"), ThreadPoolExecutor(1) as worker:
        for epoch in range(s.epochs):
            start = time.perf_counter()
            order = rng.permutation(len(labels))
            batches = _batches_ahead(images, order, s.batch_size, distort, distort_rng, net.dtype, worker)
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
    """The bar class given, or a live terminal bar while a person watches, or nothing.

    A run with no one watching (a pipe, papermill, CI) gets only the per-epoch text lines, which read
    well in a log or a notebook saved for the web.
    """
    from tqdm import tqdm

    if progress and progress is not True:
        tqdm = progress
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


def _batches_ahead(images, order, batch_size, distort, rng, dtype, worker):
    """Yield (network input X, batch indices) for each batch, preparing the next one in a worker thread.

    The caller's distortion (the digit reader's runs in OpenCV) and the matrix multiplies (BLAS) both
    run outside Python's lock, so with two cores the next batch is distorted while this one trains.
    One worker taking the batches in order keeps the random distortions the same from run to run.
    """
    def prepare(batch):
        return scale_pixels(distort(images[batch], rng), dtype)

    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if distort is None:  # nothing to prepare: handing work to a thread would only add a delay
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
