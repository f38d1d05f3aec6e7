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
    digits: int = 0              # plus this many made-up digits
    near: int = 256              # of the made-up inputs per step, this many the model read as a nearby digit
    spare: int = 0               # the made-up inputs most like the drawing are left out
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
    handles: int = 0
    ends: float = 0.0
    pull: float = 1.5
    radius: float = 4.0
    frozen: str = ""
    guard_every: int = 0
    hard: int = 64
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
    v = Variation(s.slant, s.turn, s.stretch, s.wobble, s.pen, s.reach, s.handles, s.ends, s.pull, s.radius)
    bank = next_drawings(image, s.bank, rng, v).reshape(s.bank, 784)
    check = scale_pixels(next_drawings(image, s.check, np.random.default_rng([s.seed, 1]), v), net.dtype)
    pool = pseudo_inputs(s.pseudo_pool, s.digits, net.dtype)
    pool_h, teacher_p = hidden_and_proba(net, pool)
    teacher = softmax(np.log(np.clip(teacher_p, 1e-30, 1)) / s.temperature)
    before = net.predict_proba(scale_pixels(image))[0]
    check_h, check_before = hidden_and_proba(net, check)
    ranked = nearest(pool_h, check_h, len(pool))
    spare = ranked[:s.spare]                      # the inputs most like the drawing may change
    near_pool = ranked[s.spare:s.spare + s.near]
    free = np.ones(len(pool), bool)
    free[spare] = False
    others = np.flatnonzero(free)
    mnist_near = None
    if mnist is not None and s.mnist_near:
        mnist_h, _ = hidden_and_proba(net, scale_pixels(mnist[0], net.dtype))
        mnist_near = nearest(mnist_h, check_h, s.mnist_near_pool)
    guard_X, guard_labels = _guard(net, mnist, pool, teacher_p, s)
    guard_right = net.predict(guard_X) == guard_labels if guard_X is not None else None
    hard = np.zeros(0, int)
    optimizer = make_optimizer(s.optimizer, net)
    steps = 0
    n_check = len(check)
    while True:
        if guard_X is not None and s.guard_every and steps and steps % s.guard_every == 0:
            broken = np.flatnonzero(guard_right & (net.predict(guard_X) != guard_labels))
            hard = np.union1d(hard, broken)
        X, Y = _batch(image, label, bank, earlier, mnist, mnist_near, rng, s)
        X = scale_pixels(X, net.dtype)
        if len(hard):
            chosen = rng.choice(hard, size=min(s.hard, len(hard)), replace=False)
            X = np.concatenate([X, guard_X[chosen]])
            Y = np.concatenate([Y, one_hot(guard_labels[chosen], dtype=np.float32)])
        pick = _pick_pseudo(others, near_pool, rng, s)
        X_all = np.concatenate([check, X, pool[pick]])
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
        for name in s.frozen.split(","):
            if name:
                net.grads[name][...] = 0
        # A correction far from what the network believes gets a doubled learning rate every 20
        # steps beyond max_steps rather than giving up.
        optimizer.step(s.learning_rate * 2 ** (max(0, steps - s.max_steps) // 20))
        steps += 1
    after = net.predict_proba(scale_pixels(image))[0]
    check_after = net.predict_proba(check)
    return Learned(label, steps, before, after, time.perf_counter() - start,
                   float(np.mean(check_before.argmax(1) == label)), float(np.mean(check_after.argmax(1) == label)))


def _guard(net, mnist, pool, teacher_p, s):
    """Digits whose answers must not change: MNIST with its labels, else the made-up digits the
    network was sure about, with its answers. (scaled images, labels) or (None, None)."""
    if mnist is not None:
        return scale_pixels(mnist[0], net.dtype), np.asarray(mnist[1]).astype(int)
    if not s.digits:
        return None, None
    digits = np.arange(len(pool) - s.digits, len(pool))
    sure = digits[teacher_p[digits].max(axis=1) > 0.99]
    return pool[sure], teacher_p[sure].argmax(axis=1)


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


def _pick_pseudo(others, near_pool, rng, s):
    n_near = min(s.near, len(near_pool))
    near = rng.choice(near_pool, size=n_near, replace=False) if n_near else np.zeros(0, int)
    rest = rng.choice(others, size=s.pseudo - n_near, replace=False)
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
    handles: int = 0             # points on the ink pulled a little, each dragging the stroke near it
    ends: float = 0.0            # stroke ends pulled out or pushed in along the stroke, 28-px pixels
    pull: float = 1.5            # how far, 28-px pixels
    radius: float = 4.0          # how much of the stroke comes along, 28-px pixels


WORK = 112                       # the resolution copies are drawn at, like the preprocessing's


def next_drawings(image, n, rng, v=Variation()):
    """n variations of a 28x28 uint8 drawing, like the same person's next drawings after preprocessing.

    The drawing is enlarged to 112 px and made crisp again (a canvas drawing is crisp), then each copy
    gets its own slant, turn, width, wobble and pen, and goes through the last steps of nn.preprocess
    (crop, strokes evened out, longer side scaled to 20 px, centred by mass). (n, 28, 28) uint8.
    """
    big = cv2.resize(np.asarray(image, np.float32).reshape(28, 28) / 255, (WORK, WORK),
                     interpolation=cv2.INTER_LINEAR)
    big = np.clip((big - 0.5) / 0.3 + 0.5, 0, 1)      # soft 28-px edges -> a crisp stroke, as wide
    skeleton = thin(big > 0.5)
    ends = stroke_ends(skeleton)
    points = np.argwhere(skeleton)[:, ::-1]             # (x, y) of the skeleton
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        copy = _pen(_warp(big, rng, v, ends, points), rng, v.pen)
        if copy.max() > 0.1:
            out[i] = to_uint8(centre_by_mass(fit_box(even_strokes(crop(copy)))))
    return out


def _warp(big, rng, v, ends=(), points=None):
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
    scale = WORK / 28
    if v.handles and points is not None and len(points):
        for k in rng.integers(0, len(points), v.handles):
            pull = rng.normal(0, v.pull * scale, 2)
            near = np.exp(-((xs + c - points[k, 0]) ** 2 + (ys + c - points[k, 1]) ** 2) / (2 * (v.radius * scale) ** 2))
            map_x -= pull[0] * near
            map_y -= pull[1] * near
    if v.ends:
        for x, y, dx, dy, length in ends:
            pull = rng.normal(0, v.ends * scale)
            near = np.exp(-((xs + c - x) ** 2 + (ys + c - y) ** 2) / (2 * (0.6 * length) ** 2))
            map_x -= pull * dx * near
            map_y -= pull * dy * near
    return cv2.remap(big, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _neighbours(img):
    """The 8 neighbours of every pixel, clockwise from the one above: a list of 8 arrays like img."""
    P = np.pad(img, 1)
    return [P[:-2, 1:-1], P[:-2, 2:], P[1:-1, 2:], P[2:, 2:], P[2:, 1:-1], P[2:, :-2], P[1:-1, :-2], P[:-2, :-2]]


def _crossings(n):
    """How many separate runs of neighbours each pixel has: 1 at a stroke end, 2 along a stroke."""
    return sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))


def thin(mask):
    """The skeleton of a binary image: strokes thinned to one pixel (Zhang and Suen, 1984).

    Each pass peels off the border pixels whose removal keeps the stroke connected and that are not
    the end of a stroke; the two half-passes peel opposite sides, so the skeleton stays in the middle.
    """
    img = mask.astype(np.uint8)
    while True:
        changed = False
        for half in (0, 1):
            n = _neighbours(img)
            count = sum(n)
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if half == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (img == 1) & (count >= 2) & (count <= 6) & (_crossings(n) == 1) & side
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            return img


def stroke_ends(skeleton, reach=24, shortest=8):
    """Where the strokes end and which way they point: [(x, y, dx, dy, length)], (dx, dy) a unit vector.

    An end is a skeleton pixel with one run of neighbours. Walking back from it along the skeleton
    (at most `reach` pixels, stopping at a fork) gives the direction of the end piece. Pieces shorter
    than `shortest` pixels are the little spurs thinning leaves at corners, not stroke ends.
    """
    n = _neighbours(skeleton)
    crossings = _crossings(n)
    on = skeleton.astype(bool)
    ends = []
    for y, x in np.argwhere(on & (crossings == 1) & (sum(n) <= 3)):
        path, seen = [(x, y)], {(x, y)}
        while len(path) < reach:
            cx, cy = path[-1]
            if len(path) > 1 and crossings[cy, cx] >= 3:
                break                                           # a fork: the end piece stops here
            ahead = [(cx + i, cy + j) for i in (-1, 0, 1) for j in (-1, 0, 1)
                     if 0 <= cy + j < on.shape[0] and 0 <= cx + i < on.shape[1] and on[cy + j, cx + i]
                     and (cx + i, cy + j) not in seen]
            if not ahead:
                break
            seen.update(ahead)                                  # never step back sideways
            path.append(min(ahead, key=lambda q: abs(q[0] - cx) + abs(q[1] - cy)))
        if len(path) >= shortest:
            d = np.subtract(path[0], path[-1]).astype(float)
            ends.append((float(x), float(y), *(d / (np.linalg.norm(d) + 1e-9)), float(len(path))))
    return ends


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
def pseudo_inputs(n, digits=0, dtype=np.float32):
    """made_up_inputs(n) and made_up_digits(digits) scaled for the network; made once per process,
    then reused (read-only)."""
    parts = [made_up_inputs(n)] + ([made_up_digits(digits)] if digits else [])
    X = scale_pixels(np.concatenate(parts), dtype)
    X.flags.writeable = False
    return X


# Ordinary ways of writing each digit, as pen strokes through points in a unit box (x right, y down).
DIGIT_STROKES = {
    0: [[[(0.5, 0), (0.1, 0.3), (0.15, 0.8), (0.5, 1), (0.85, 0.75), (0.9, 0.25), (0.5, 0)]],
        [[(0.6, 0.1), (0.4, 0), (0.1, 0.4), (0.3, 0.95), (0.75, 0.9), (0.9, 0.4), (0.6, 0), (0.4, 0.1)]]],
    1: [[[(0.5, 0), (0.5, 1)]], [[(0.25, 0.2), (0.55, 0), (0.5, 1)]]],
    2: [[[(0.1, 0.2), (0.45, 0), (0.85, 0.2), (0.7, 0.55), (0.1, 1), (0.9, 1)]],
        [[(0.15, 0.3), (0.5, 0), (0.9, 0.3), (0.3, 0.8), (0.1, 1), (0.5, 0.9), (0.95, 0.95)]]],
    3: [[[(0.1, 0.1), (0.6, 0), (0.85, 0.25), (0.4, 0.48), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]],
        [[(0.1, 0), (0.85, 0), (0.4, 0.4), (0.9, 0.65), (0.6, 1), (0.1, 0.9)]]],
    4: [[[(0.15, 0), (0.1, 0.55), (0.9, 0.55)], [(0.7, 0.05), (0.7, 1)]],
        [[(0.6, 0), (0.05, 0.6), (0.95, 0.6)], [(0.65, 0.25), (0.65, 1)]],
        [[(0.15, 0), (0.12, 0.4), (0.35, 0.6), (0.9, 0.55)], [(0.75, 0), (0.75, 1)]]],
    5: [[[(0.85, 0), (0.2, 0), (0.15, 0.45), (0.7, 0.4), (0.9, 0.7), (0.6, 1), (0.1, 0.9)]],
        [[(0.2, 0), (0.15, 0.45), (0.7, 0.4), (0.9, 0.7), (0.6, 1), (0.1, 0.9)], [(0.2, 0), (0.9, 0)]]],
    6: [[[(0.75, 0), (0.3, 0.3), (0.1, 0.75), (0.45, 1), (0.85, 0.75), (0.5, 0.5), (0.15, 0.7)]],
        [[(0.5, 0), (0.2, 0.6), (0.3, 1), (0.8, 0.9), (0.75, 0.55), (0.25, 0.6)]]],
    7: [[[(0.05, 0), (0.95, 0), (0.4, 1)]], [[(0.05, 0), (0.95, 0), (0.45, 1)], [(0.3, 0.5), (0.85, 0.5)]],
        [[(0.05, 0.15), (0.1, 0), (0.95, 0.05), (0.6, 0.5), (0.5, 1)]]],
    8: [[[(0.85, 0.1), (0.5, 0), (0.15, 0.2), (0.5, 0.5), (0.85, 0.8), (0.5, 1), (0.15, 0.8), (0.5, 0.5),
          (0.85, 0.15)]],
        [[(0.5, 0.45), (0.2, 0.2), (0.5, 0), (0.8, 0.2), (0.5, 0.45), (0.15, 0.75), (0.5, 1), (0.85, 0.75),
          (0.5, 0.45)]]],
    9: [[[(0.85, 0.2), (0.45, 0), (0.15, 0.25), (0.45, 0.5), (0.85, 0.25), (0.8, 1)]],
        [[(0.85, 0.15), (0.5, 0), (0.15, 0.2), (0.5, 0.45), (0.85, 0.2), (0.85, 0.6), (0.6, 1)]],
        [[(0.8, 0.1), (0.5, 0), (0.2, 0.15), (0.3, 0.4), (0.8, 0.3), (0.8, 0)], [(0.8, 0.05), (0.75, 1)]]],
}


@functools.lru_cache(maxsize=4)
def made_up_digits(n, seed=0):
    """n uint8 28x28 digit-like drawings from DIGIT_STROKES: each point moved, slanted, narrower or
    wider, a pen 1.5-3.5 px wide, framed like MNIST (20 px box, centred by mass). Made once per process.

    They are not labelled: like the other made-up inputs, they are answered by the network before the
    correction, and the network is asked to keep those answers. They lie among the digits, where a
    correction can do harm (random strokes mostly do not).
    """
    rng = np.random.default_rng(seed + 104729)
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        digit = int(rng.integers(10))
        strokes = DIGIT_STROKES[digit][rng.integers(len(DIGIT_STROKES[digit]))]
        slant, width = rng.uniform(-0.3, 0.3), rng.uniform(0.35, 0.8) if digit != 1 else rng.uniform(0.05, 0.4)
        big = np.zeros((WORK, WORK), np.float32)
        for stroke in strokes:
            p = np.asarray(stroke, float) + rng.normal(0, 0.04, (len(stroke), 2))
            p = _chaikin(p)
            x = 0.5 + (p[:, 0] - 0.5) * width + slant * (0.5 - p[:, 1])
            xy = np.column_stack([x, p[:, 1]]) * 0.7 * WORK + 0.15 * WORK
            cv2.polylines(big, [np.round(xy * 16).astype(np.int32)], False, 1.0,
                          thickness=int(rng.integers(6, 15)), lineType=cv2.LINE_AA, shift=4)
        out[i] = to_uint8(centre_by_mass(fit_box(crop(big))))
    out.flags.writeable = False
    return out


def _chaikin(points, rounds=3):
    """Round off the corners of a polyline (Chaikin's corner cutting): a hand's curve, not a ruler's."""
    for _ in range(rounds):
        if len(points) < 3:
            break
        a, b = points[:-1], points[1:]
        inner = np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], axis=1).reshape(-1, 2)
        points = np.vstack([points[:1], inner, points[-1:]])
    return points


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
