"""Learning from one corrected drawing: the user's way of writing a digit, without forgetting the rest.

(Draft under measurement.)
"""

import functools
import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .augment import SMOOTH, Distortion, distort
from .layers import one_hot, softmax
from .network import scale_pixels
from .optim import make_optimizer
from .preprocess import centre_by_mass, crop, even_strokes, fit_box, to_uint8


@dataclass(frozen=True)
class LearnSettings:
    """How a correction is learned; the defaults are what the style evaluation measured."""

    copies: int = 24             # variations of the drawing trained on in each step
    bank: int = 256              # variations made per correction, the copies are drawn from these
    check: int = 32              # variations set aside: they must be read right before stopping
    check_share: float = 0.9     # share of them that must be read right...
    check_margin: float = 0.6    # ...each giving the right digit at least this probability
    target: float = 0.8          # and the drawing itself at least this
    max_steps: int = 60          # steps allowed to make the variations right
    hard_max_steps: int = 160    # then more, with growing steps, only while the drawing itself is wrong
    optimizer: str = "adam"
    learning_rate: float = 1e-4
    pseudo: int = 1024           # made-up inputs per step, labelled by the model before the update
    pseudo_pool: int = 4096      # how many made-up inputs to draw those from (made once per process)
    near: int = 256              # of the made-up inputs per step, this many the model read as a nearby digit
    temperature: float = 2.0
    distill_weight: float = 64.0
    replay: int = 32             # earlier corrections per step (all of them if fewer)
    mnist: int = 64              # MNIST digits per step, when MNIST is available
    mnist_near: int = 32         # plus this many of the MNIST digits most like the drawing
    mnist_near_pool: int = 256   # drawn from this many nearest
    slant: float = 0.15
    turn: float = 6.0
    stretch: float = 0.12
    wobble: float = 0.5
    pen: int = 3
    reach: float = 0.0
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
    variations_before: float = 0.0   # share of the set-aside variations read right before learning
    variations_after: float = 0.0    # and after

    @property
    def fixed(self):
        return int(self.after.argmax()) == self.label


NEXT_DRAWING = Distortion(rotate=10.0, scale=0.0, shear=0.2, shift=0.0, elastic=0.8)


def learn(net, image, label, earlier=None, mnist=None, settings=LearnSettings()):
    """Teach net (in place) that the 28x28 uint8 `image` is `label`; returns a Learned.

    earlier: (images, labels) of previous corrections, or None.
    mnist:   (images, labels) of MNIST digits to rehearse, or None.
    """
    s = settings
    start = time.perf_counter()
    rng = np.random.default_rng(s.seed)
    image = np.asarray(image, np.uint8).reshape(1, 784)
    v = Variation(s.slant, s.turn, s.stretch, s.wobble, s.pen, s.reach)
    bank = next_drawings(image, s.bank, rng, v).reshape(s.bank, 784)
    check = scale_pixels(next_drawings(image, s.check, np.random.default_rng([s.seed, 1]), v), net.dtype)
    pool = pseudo_inputs(s.pseudo_pool, net.dtype)
    pool_h, teacher_p = hidden_and_proba(net, pool)
    teacher = softmax(np.log(np.clip(teacher_p, 1e-30, 1)) / s.temperature)
    before = net.predict_proba(scale_pixels(image))[0]
    check_h, check_before = hidden_and_proba(net, check)
    near_pool = nearest(pool_h, check_h, s.near)
    mnist_near = None
    if mnist is not None and s.mnist_near:
        mnist_h, _ = hidden_and_proba(net, scale_pixels(mnist[0], net.dtype))
        mnist_near = nearest(mnist_h, check_h, s.mnist_near_pool)
    optimizer = make_optimizer(s.optimizer, net)
    steps = 0
    n_check = len(check)
    while True:
        X, Y = _batch(image, label, bank, earlier, mnist, mnist_near, rng, s)
        pick = _pick_pseudo(len(pool), near_pool, rng, s)
        X_all = np.concatenate([check, scale_pixels(X, net.dtype), pool[pick]])
        logits = net.forward(X_all)
        P = softmax(logits)
        drawing_ok = P[n_check, label] >= s.target
        copies_ok = np.mean(P[:n_check, label] >= s.check_margin) >= s.check_share
        if drawing_ok and (copies_ok or steps >= s.max_steps):
            break
        if steps >= s.hard_max_steps:
            break
        dZ = _output_gradient(P[n_check:], logits[n_check:], Y, teacher[pick], s)
        net.backward(np.concatenate([np.zeros((n_check, dZ.shape[1]), dZ.dtype), dZ]))
        # A correction far from what the network believes gets a doubled learning rate every 20
        # steps beyond max_steps rather than giving up.
        optimizer.step(s.learning_rate * 2 ** (max(0, steps - s.max_steps) // 20))
        steps += 1
    after = net.predict_proba(scale_pixels(image))[0]
    check_after = net.predict_proba(check)
    return Learned(label, steps, before, after, time.perf_counter() - start,
                   float(np.mean(check_before.argmax(1) == label)), float(np.mean(check_after.argmax(1) == label)))


def hidden_and_proba(net, X):
    """The last hidden layer's activations H (m, 512) and the probabilities (m, 10) for inputs X."""
    H = X
    for layer in net.layers[:-1]:
        H = layer.forward(H)
    return H, softmax(net.layers[-1].forward(H))


def nearest(H, H_drawing, n):
    """Indices of the n rows of H closest (cosine) to any row of H_drawing: what the network sees as
    most like the drawing."""
    if n <= 0:
        return np.zeros(0, int)
    A = H / (np.linalg.norm(H, axis=1, keepdims=True) + 1e-6)
    B = H_drawing / (np.linalg.norm(H_drawing, axis=1, keepdims=True) + 1e-6)
    similarity = (A @ B.T).max(axis=1)
    return np.argsort(-similarity)[:n]


def _pick_pseudo(pool_size, near_pool, rng, s):
    n_near = min(s.near, len(near_pool))
    near = rng.choice(near_pool, size=n_near, replace=False) if n_near else np.zeros(0, int)
    rest = rng.choice(pool_size, size=s.pseudo - n_near, replace=False)
    return np.concatenate([near, rest])


def _batch(image, label, bank, earlier, mnist, mnist_near, rng, s):
    """Labelled rows: the drawing first, its copies, earlier corrections, MNIST."""
    copies = bank[rng.choice(len(bank), size=s.copies, replace=False)]
    parts = [(image, [label]), (copies, [label] * s.copies)]
    for source, n in ((earlier, s.replay), (mnist, s.mnist)):
        if source is not None and len(source[1]) and n:
            chosen = rng.choice(len(source[1]), size=min(n, len(source[1])), replace=False)
            parts.append((source[0][chosen], source[1][chosen]))
    if mnist_near is not None and len(mnist_near):
        chosen = rng.choice(mnist_near, size=min(s.mnist_near, len(mnist_near)), replace=False)
        parts.append((mnist[0][chosen], mnist[1][chosen]))
    X = np.concatenate([p[0].reshape(len(p[0]), 784) for p in parts])
    labels = np.concatenate([np.asarray(p[1]) for p in parts]).astype(int)
    return X, one_hot(labels, dtype=np.float32)


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


@dataclass(frozen=True)
class Variation:
    """How much a person's next drawing of a digit differs from this one (each copy draws its own)."""

    slant: float = 0.15          # horizontal shear, either way
    turn: float = 6.0            # degrees, either way
    stretch: float = 0.12        # width factor within exp(+/- stretch)
    wobble: float = 0.5          # typical size of a smooth random warp, in 28-px pixels
    pen: int = 3                 # pen finer or bolder by up to this many pixels at 112 px
    reach: float = 0.0           # a coarse warp: pieces of the stroke longer or shorter, 28-px pixels


WORK = 112                       # the resolution copies are drawn at, like the preprocessing's


def next_drawings(image, n, rng, v=Variation()):
    """n variations of a 28x28 uint8 drawing, like the same person's next drawings after preprocessing.

    The drawing is enlarged to 112 px and made crisp again (a canvas drawing is crisp), then each copy
    gets its own slant, turn, width, wobble and pen, and goes through the last steps of nn.preprocess
    (crop, strokes evened out, longer side scaled to 20 px, centred by mass). (n, 28, 28) uint8.
    """
    big = cv2.resize(np.asarray(image, np.float32).reshape(28, 28) / 255, (WORK, WORK),
                     interpolation=cv2.INTER_LINEAR)
    big = np.clip((big - 0.25) / 0.5, 0, 1)           # soft 28-px edges -> a crisp stroke
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        copy = _pen(_warp(big, rng, v), rng, v.pen)
        if copy.max() > 0.1:
            out[i] = to_uint8(centre_by_mass(fit_box(even_strokes(crop(copy)))))
    return out


def _warp(big, rng, v):
    """One copy: an affine map (slant, turn, width) plus a smooth random warp, about the centre."""
    c = (WORK - 1) / 2
    angle = np.deg2rad(rng.uniform(-v.turn, v.turn))
    shear, width = rng.uniform(-v.slant, v.slant), np.exp(rng.uniform(-v.stretch, v.stretch))
    A = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ \
        np.array([[width, shear], [0.0, 1.0]])
    # Where each output pixel reads from: the inverse map, then the warp added on top.
    inverse = np.linalg.inv(A)
    ys, xs = np.mgrid[0:WORK, 0:WORK].astype(np.float32) - c
    map_x = inverse[0, 0] * xs + inverse[0, 1] * ys + c
    map_y = inverse[1, 0] * xs + inverse[1, 1] * ys + c
    for size, grid in ((v.wobble, 5), (v.reach, 3)):
        if size:
            field = rng.standard_normal((2, grid, grid)).astype(np.float32)
            field = np.stack([cv2.resize(f, (WORK, WORK), interpolation=cv2.INTER_CUBIC) for f in field])
            field *= size * WORK / 28 / (field.std() + 1e-6)
            map_x += field[0]
            map_y += field[1]
    return cv2.remap(big, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _pen(big, rng, most):
    """A finer or bolder pen: erode or dilate by up to `most` pixels (never erasing the drawing)."""
    change = int(rng.integers(-most, most + 1))
    if change == 0:
        return big
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(change) + 1, abs(change) + 1))
    if change > 0:
        return cv2.dilate(big, disc)
    finer = cv2.erode(big, disc)
    return finer if finer.sum() > 0.4 * big.sum() else big


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


@functools.lru_cache(maxsize=4)
def pseudo_inputs(n, dtype=np.float32):
    """made_up_inputs(n) scaled for the network; made once per process, then reused (read-only)."""
    X = scale_pixels(made_up_inputs(n), dtype)
    X.flags.writeable = False
    return X


@functools.lru_cache(maxsize=4)
def made_up_inputs(n, seed=0):
    """n uint8 28x28 inputs that are not digits: random pen strokes, blurred-noise blobs, noise.

    Their only job is to be answered by the old and the new network alike; pen strokes come closest
    to the inputs the network sees, blobs and noise cover the rest of the input space.
    Made once per process (cached): read-only.
    """
    rng = np.random.default_rng(seed + 7919)
    strokes = random_strokes(n // 2, rng)
    blobs = noise_blobs(n // 3, rng)
    noise = (rng.random((n - len(strokes) - len(blobs), 28, 28)) ** 3 * 255).astype(np.uint8)
    out = np.concatenate([strokes, blobs, noise])
    out.flags.writeable = False
    return out


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
