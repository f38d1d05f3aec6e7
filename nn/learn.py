"""Learning from one corrected drawing without forgetting everything else.

The problem: train a network on one new example and it happily changes whatever weights make that
example right, including the ones that made everything else right. After a few such corrections it
reads the user's 7 and has forgotten MNIST (catastrophic forgetting; in a study on this machine, plain
fine-tuning on corrected drawings cost 23 points of MNIST accuracy).

The fix used here is rehearsal: every small training step mixes
1. the corrected drawing and distorted copies of it (shifted, rotated, scaled, thinner or bolder), so
   the network learns the user's way of writing that digit, not one exact image;
2. earlier corrections, with their labels, so new corrections do not undo old ones;
3. MNIST digits with their labels, when MNIST is on disk (it need not be);
4. made-up inputs (random pen strokes, blobs, noise) labelled with what the network said about them
   *before* this correction (pseudo-rehearsal with distillation). Matching its own old answers on
   such inputs holds the network close to what it was everywhere except where the correction pulls.
   It needs no data at all, only a copy of the model before the update.
It stops as soon as the corrected drawing is read right with a margin, so it moves no further than it
has to.
"""

import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .augment import SMOOTH, Distortion, distort
from .layers import one_hot, softmax
from .network import scale_pixels
from .optim import make_optimizer


@dataclass(frozen=True)
class LearnSettings:
    """How a correction is learned; the defaults are what the learning evaluation measured."""

    copies: int = 12             # distorted copies of the drawing in each step
    max_steps: int = 60
    target: float = 0.8          # stop once the drawing's right digit gets this probability
    optimizer: str = "adam"
    # Small: Adam's first steps move every weight by about the learning rate, whatever its gradient.
    learning_rate: float = 1e-4
    pseudo: int = 1024           # made-up inputs per step, labelled by the model before the update
    pseudo_pool: int = 4096      # how many made-up inputs to draw those from
    temperature: float = 2.0     # softens both models' outputs, so the small probabilities count too
    distill_weight: float = 64.0
    replay: int = 32             # earlier corrections per step (all of them if fewer)
    mnist: int = 64              # MNIST digits per step, when MNIST is available
    seed: int = 0

    def record(self):
        return asdict(self)


@dataclass
class Learned:
    """What a correction did."""

    label: int
    steps: int
    before: np.ndarray           # probabilities for the drawing before learning, (10,)
    after: np.ndarray            # and after
    seconds: float

    @property
    def fixed(self):
        return int(self.after.argmax()) == self.label


COPY_DISTORTION = Distortion(rotate=12.0, scale=0.1, shear=0.1, shift=2.0, elastic=0.5)


def learn(net, image, label, earlier=None, mnist=None, settings=LearnSettings()):
    """Teach net (in place) that the 28x28 uint8 `image` is `label`; returns a Learned.

    earlier: (images, labels) of previous corrections, or None.
    mnist:   (images, labels) of MNIST digits to rehearse, or None.
    """
    s = settings
    start = time.perf_counter()
    rng = np.random.default_rng(s.seed)
    image = np.asarray(image, np.uint8).reshape(1, 784)
    pseudo_X = scale_pixels(made_up_inputs(s.pseudo_pool, s.seed), net.dtype)
    # The teacher's soft answers: the network as it was before this correction.
    teacher = softmax(np.log(np.clip(net.predict_proba(pseudo_X), 1e-30, 1)) / s.temperature)
    before = net.predict_proba(scale_pixels(image))[0]
    optimizer = make_optimizer(s.optimizer, net)
    steps = 0
    while steps < s.max_steps:
        X, Y, pick = _batch(image, label, earlier, mnist, pseudo_X.shape[0], rng, s)
        X_all = np.concatenate([scale_pixels(X, net.dtype), pseudo_X[pick]])
        logits = net.forward(X_all)
        P = softmax(logits)
        if P[0, label] >= s.target:
            break
        dZ = _output_gradient(P, logits, Y, teacher[pick], s)
        # Most corrections take a few steps; one far from what the network believes (a clear 7 said
        # to be a 1) gets a doubled learning rate every 20 steps rather than giving up.
        net.backward(dZ)
        optimizer.step(s.learning_rate * 2 ** (steps // 20))
        steps += 1
    after = net.predict_proba(scale_pixels(image))[0]
    return Learned(label, steps, before, after, time.perf_counter() - start)


def _batch(image, label, earlier, mnist, pool_size, rng, s):
    """Labelled rows (the drawing first, its copies, earlier corrections, MNIST) and pseudo-row indices."""
    copies = vary_strokes(distort(np.repeat(image, s.copies, axis=0), rng, COPY_DISTORTION), rng)
    parts = [(image, [label]), (copies, [label] * s.copies)]
    for source, n in ((earlier, s.replay), (mnist, s.mnist)):
        if source is not None and len(source[1]) and n:
            chosen = rng.choice(len(source[1]), size=min(n, len(source[1])), replace=False)
            parts.append((source[0][chosen], source[1][chosen]))
    X = np.concatenate([p[0].reshape(len(p[0]), 784) for p in parts])
    labels = np.concatenate([np.asarray(p[1]) for p in parts]).astype(int)
    return X, one_hot(labels, dtype=np.float32), rng.choice(pool_size, size=s.pseudo, replace=False)


def _output_gradient(P, logits, Y, teacher, s):
    """dZ for the mixed loss: cross-entropy on the labelled rows, distillation on the made-up ones.

    Labelled rows:  L = cross-entropy(P, Y), averaged     ->  dZ = (P - Y) / n
    Made-up rows:   L = w T^2 cross-entropy(Q, softmax(Z/T)), averaged, Q = teacher's softmax(Z_old/T)
                                                          ->  dZ = w T (softmax(Z/T) - Q) / n_pseudo
    (The T^2 keeps the distillation gradient the same size whatever the temperature.)
    """
    n = len(Y)
    dZ = np.empty_like(P)
    dZ[:n] = (P[:n] - Y) / n
    student = softmax(logits[n:] / s.temperature)
    dZ[n:] = s.distill_weight * s.temperature * (student - teacher) / len(teacher)
    return dZ


def vary_strokes(images, rng):
    """Make a third of the digits bolder and a third thinner (one pixel of dilation or erosion)."""
    out = images.reshape(-1, 28, 28).copy()
    kernel = np.ones((2, 2), np.uint8)
    choice = rng.integers(0, 3, len(out))
    for i in np.flatnonzero(choice == 1):
        out[i] = cv2.dilate(out[i], kernel)
    for i in np.flatnonzero(choice == 2):
        thinner = cv2.erode(out[i], kernel)
        if thinner.sum() > 0.4 * out[i].sum():         # never erase a thin digit
            out[i] = thinner
    return out.reshape(images.shape)


def made_up_inputs(n, seed=0):
    """n uint8 28x28 inputs that are not digits: random pen strokes, blurred-noise blobs, noise.

    Their only job is to be answered by the old and the new network alike; pen strokes come closest
    to the inputs the network sees, blobs and noise cover the rest of the input space.
    """
    rng = np.random.default_rng(seed + 7919)
    strokes = random_strokes(n // 2, rng)
    blobs = noise_blobs(n // 3, rng)
    noise = (rng.random((n - len(strokes) - len(blobs), 28, 28)) ** 3 * 255).astype(np.uint8)
    return np.concatenate([strokes, blobs, noise])


def random_strokes(n, rng):
    """Pen-like curves (1-3 per image, 1.5-3.5 px wide) roughly inside MNIST's 20x20 box."""
    out = np.zeros((n, 28, 28), np.uint8)
    for image in out:
        for _ in range(rng.integers(1, 4)):
            points = rng.uniform(4, 24, (rng.integers(2, 6), 2))
            cv2.polylines(image, [np.round(points * 16).astype(np.int32)], False, 255,
                          thickness=int(rng.integers(2, 4)), lineType=cv2.LINE_AA, shift=4)
    return out


def noise_blobs(n, rng):
    """Smooth random blobs: Gaussian-smoothed noise, thresholded to a few irregular shapes."""
    field = SMOOTH @ rng.standard_normal((n, SMOOTH.shape[1], SMOOTH.shape[1])) @ SMOOTH.T
    field /= field.std(axis=(1, 2), keepdims=True)
    level = rng.uniform(0.5, 1.5, (n, 1, 1))
    return (np.clip((field - level) * 2, 0, 1) * 255).astype(np.uint8)
