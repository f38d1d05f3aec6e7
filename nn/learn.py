"""Learning from one corrected drawing: the user's way of writing a digit, without forgetting the rest.

When the network misreads a drawing and the user types the right digit, we want more than that one
drawing read right: the user's NEXT drawings of that digit (which are never quite the same) must be
read right too, and everything else must be read as before. Train a network on one example and it
changes whatever weights make that example right, including the ones that made everything else right
(catastrophic forgetting); make it only just right and the next drawing, a little different, is still
misread. So a correction here is a short training run that mixes two kinds of examples:

What must change (cross-entropy with the user's label):
1. the drawing and VARIATIONS of it, made the way one person's drawings vary: slanted, turned,
   narrower or wider, a finer or bolder pen, a wobbly hand, and the ends of the strokes a little
   longer or shorter (found on the drawing's skeleton); each variation is then framed exactly as the
   preprocessing frames a drawing;
2. the user's earlier corrections, so that a new correction does not undo an old one.

What must not change:
3. MNIST digits with their labels, when MNIST is on disk (it need not be);
4. made-up inputs, answered as the network answered them BEFORE this correction (pseudo-rehearsal
   with distillation): random pen strokes, blobs and noise, and digits drawn here from pen strokes.
   Those most like the drawing (as the last hidden layer sees them) are in every step: that is where
   the correction pulls hardest, and where the user's other digits live (their normal 7 beside the 1
   they write with a long flag);
5. GUARD digits (MNIST, else made-up digits the network was sure about): every few steps we look
   which of them the correction has broken, and from then on those are rehearsed in every step.

It stops once the drawing AND 60% of a set of variations kept aside are read right, or after
max_steps (beyond that it only goes on while the drawing itself is still wrong). A last check before
accepting: if too many guard digits are still broken, the update is softened (moved part of the way
back) as far as the drawing stays right, and Learned.softened says so.
The made-up inputs are made once per process, not once per correction.
"""

import functools
import time
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from .augment import SMOOTH
from .layers import one_hot, softmax
from .network import scale_pixels
from .optim import make_optimizer
from .preprocess import centre_by_mass, crop, even_strokes, fit_box, to_uint8

WORK = 112                       # variations are drawn at this size, as the preprocessing works


@dataclass(frozen=True)
class Variation:
    """How much a person's next drawing of a digit differs from this one (each variation draws its own)."""

    slant: float = 0.15          # horizontal shear, either way
    turn: float = 6.0            # degrees, either way
    stretch: float = 0.12        # width factor within exp(+/- stretch)
    wobble: float = 0.5          # typical size of a smooth random warp, in 28-px pixels
    reach: float = 0.5           # a coarser warp: whole pieces of the digit a little elsewhere
    ends: float = 1.5            # stroke ends pulled out or pushed in along the stroke, 28-px pixels
    pen: int = 3                 # pen finer or bolder by up to this many pixels at 112 px


@dataclass(frozen=True)
class LearnSettings:
    """How a correction is learned; the defaults are what benchmarks/style_eval.py and learning_eval.py
    measured (see the README)."""

    variation: Variation = field(default_factory=Variation)
    bank: int = 128              # variations made per correction to train on...
    copies: int = 24             # ...of which this many in each step
    check: int = 32              # variations kept aside: they decide when to stop
    check_share: float = 0.6     # share of them that must be read right...
    check_margin: float = 0.5    # ...with at least this probability for the right digit
    target: float = 0.8          # and the drawing itself with at least this
    max_steps: int = 60
    hard_max_steps: int = 160    # beyond max_steps only while the drawing itself is wrong
    optimizer: str = "adam"
    # Small: Adam's first steps move every weight by about the learning rate, whatever its gradient,
    # and a larger rate costs MNIST accuracy that adds up over a run of corrections.
    learning_rate: float = 1e-4
    replay: int = 32             # earlier corrections per step (all of them if fewer)
    mnist: int = 32              # MNIST digits per step, when MNIST is available
    made_up: int = 1024          # made-up strokes, blobs and noise (made once per process)...
    made_up_digits: int = 4096   # ...and made-up digits
    pseudo: int = 512            # made-up inputs per step, answered as before the correction...
    near: int = 128              # ...of which this many are the ones most like the drawing
    temperature: float = 2.0     # softens both networks' answers, so the small probabilities count too
    distill_weight: float = 128.0        # without MNIST the made-up inputs are all there is...
    distill_weight_mnist: float = 32.0   # ...with MNIST on disk, real digits do most of the holding
    guard: int = 2000            # guard digits watched...
    guard_every: int = 10        # ...every this many steps
    hard: int = 128              # broken guard digits rehearsed per step, at most
    guard_budget: float = 0.002  # share of guard digits a correction may break before it is softened
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.variation, dict):            # settings given as JSON
            object.__setattr__(self, "variation", Variation(**self.variation))

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
    variations_before: float = 0.0   # share of the kept-aside variations read right before learning
    variations_after: float = 0.0    # and after
    guard_broken: float = 0.0    # share of the guard digits the correction broke (0 to 1)
    softened: float = 1.0        # 1: the update as learned; less: moved back part of the way

    @property
    def fixed(self):
        return int(self.after.argmax()) == self.label


def learn(net, image, label, earlier=None, mnist=None, settings=LearnSettings()):
    """Teach net (in place) that the 28x28 uint8 `image` is `label`; returns a Learned.

    earlier: (images (n, 784) uint8, labels) of previous corrections, or None.
    mnist:   (images, labels) of MNIST digits to rehearse, or None.
    """
    s = settings
    start = time.perf_counter()
    rng = np.random.default_rng(s.seed)
    image = np.asarray(image, np.uint8).reshape(1, 784)
    bank = next_drawings(image, s.bank, rng, s.variation).reshape(s.bank, 784)
    kept = scale_pixels(next_drawings(image, s.check, np.random.default_rng([s.seed, 1]), s.variation),
                        net.dtype)
    drawing = scale_pixels(image, net.dtype)
    before, kept_before = net.predict_proba(drawing)[0], net.predict_proba(kept)
    anchors = Anchors(net, kept, mnist, s)
    old = net.flat.copy()
    optimizer = make_optimizer(s.optimizer, net)
    steps = 0
    while steps < s.hard_max_steps:
        if steps and steps % s.guard_every == 0:
            anchors.watch(net)
        X, Y = _labelled(image, label, bank, earlier, mnist, rng, s)
        X, Y = anchors.add_broken(scale_pixels(X, net.dtype), Y, rng)
        pick = anchors.pick(rng)
        # One forward pass for everything: the kept-aside variations first (only looked at), then the
        # rows that are learned from.
        logits = net.forward(np.concatenate([kept, X, anchors.X[pick]]))
        P = softmax(logits)
        n = len(kept)
        if _done(P[n, label], P[:n, label], steps, s):
            break
        weight = s.distill_weight if mnist is None else s.distill_weight_mnist
        dZ = _output_gradient(P[n:], logits[n:], Y, anchors.teacher[pick], weight, s.temperature)
        net.backward(np.concatenate([np.zeros((n, dZ.shape[1]), dZ.dtype), dZ]))
        optimizer.step(_rate(steps, s))
        steps += 1
    softened, broken = _soften_if_harmful(net, old, drawing, label, anchors, s)
    after = net.predict_proba(drawing)[0]
    return Learned(label, steps, before, after, time.perf_counter() - start,
                   float(np.mean(kept_before.argmax(1) == label)),
                   float(np.mean(net.predict(kept) == label)), broken, softened)


def _rate(step, s):
    """The learning rate at a step: a correction far from what the network believes (a clear 7 said
    to be a 1) gets it doubled every 20 steps beyond max_steps rather than giving up."""
    return s.learning_rate * 2 ** (max(0, step - s.max_steps) // 20)


def _done(p_drawing, p_kept, steps, s):
    """Stop when the drawing is right with a margin and so are most kept-aside variations; after
    max_steps, as soon as the drawing itself is right."""
    if p_drawing < s.target:
        return False
    return steps >= s.max_steps or np.mean(p_kept >= s.check_margin) >= s.check_share


def _labelled(image, label, bank, earlier, mnist, rng, s):
    """Rows with labels: the drawing first, variations of it, earlier corrections, MNIST digits."""
    copies = bank[rng.choice(len(bank), size=min(s.copies, len(bank)), replace=False)]
    parts = [(image, [label]), (copies, [label] * len(copies))]
    for source, n in ((earlier, s.replay), (mnist, s.mnist)):
        if source is not None and len(source[1]) and n:
            chosen = rng.choice(len(source[1]), size=min(n, len(source[1])), replace=False)
            parts.append((source[0][chosen], source[1][chosen]))
    X = np.concatenate([p[0].reshape(len(p[0]), 784) for p in parts])
    labels = np.concatenate([np.asarray(p[1]) for p in parts]).astype(int)
    return X, one_hot(labels, dtype=np.float32)


class Anchors:
    """What a correction must leave alone.

    X, teacher:  the made-up inputs (scaled) and the network's softened answers for them before the
                 correction; `near` are the ones most like the drawing, rehearsed in every step.
    guard:       digits that must stay right (MNIST with labels, else made-up digits the network was
                 sure about, with its answers); `broken` collects those the correction has broken.
    """

    def __init__(self, net, kept, mnist, s):
        self.s = s
        self.X = pseudo_inputs(s.made_up, s.made_up_digits, net.dtype)
        H, Z = net.hidden_and_scores(self.X)
        P = softmax(Z)
        self.teacher = softmax(np.log(np.clip(P, 1e-30, 1)) / s.temperature)
        self.near = nearest(H, net.hidden_and_scores(kept)[0], s.near)
        if mnist is not None:
            guard_X, guard_y = scale_pixels(mnist[0], net.dtype), np.asarray(mnist[1]).astype(int)
        else:
            digits = np.arange(len(self.X) - s.made_up_digits, len(self.X))
            sure = digits[P[digits].max(axis=1) > 0.99]
            guard_X, guard_y = self.X[sure], P[sure].argmax(axis=1)
        if len(guard_y) > s.guard:
            keep = np.random.default_rng(s.seed).choice(len(guard_y), s.guard, replace=False)
            guard_X, guard_y = guard_X[keep], guard_y[keep]
        self.guard_X, self.guard_y = guard_X, guard_y
        self.guard_right = net.predict(guard_X) == guard_y
        self.broken = np.zeros(0, int)

    def watch(self, net):
        """Add the guard digits the network now gets wrong (and got right before) to `broken`."""
        self.broken = np.union1d(self.broken, self.now_broken(net))

    def now_broken(self, net):
        return np.flatnonzero(self.guard_right & (net.predict(self.guard_X) != self.guard_y))

    def add_broken(self, X, Y, rng):
        """The labelled rows plus (some of) the broken guard digits, with their labels."""
        if not len(self.broken):
            return X, Y
        chosen = rng.choice(self.broken, size=min(self.s.hard, len(self.broken)), replace=False)
        return (np.concatenate([X, self.guard_X[chosen]]),
                np.concatenate([Y, one_hot(self.guard_y[chosen], dtype=Y.dtype)]))

    def pick(self, rng):
        """Indices of this step's made-up inputs: the nearest ones and a random draw of the rest."""
        rest = rng.choice(len(self.X), size=max(0, self.s.pseudo - len(self.near)), replace=False)
        return np.concatenate([self.near, rest])


def _soften_if_harmful(net, old, drawing, label, anchors, s):
    """If the correction broke more than guard_budget of the guard digits, move the weights part of the
    way back (3/4, 1/2, 1/4 of the update), as far as the drawing stays right and within the budget.

    Returns (how much of the update was kept, share of guard digits broken).
    """
    new = net.flat.copy()
    budget = s.guard_budget * len(anchors.guard_y)
    broken, kept = len(anchors.now_broken(net)), 1.0
    for t in (0.75, 0.5, 0.25):
        if broken <= budget:
            break
        net.flat[...] = old + t * (new - old)
        if net.predict(drawing)[0] != label:             # the user's correction itself must stick
            break
        broken, kept = len(anchors.now_broken(net)), t
    net.flat[...] = old + kept * (new - old)
    return kept, broken / max(1, len(anchors.guard_y))


def _output_gradient(P, logits, Y, teacher, weight, temperature):
    """dZ for the mixed loss: cross-entropy on the labelled rows, distillation on the made-up ones.

    Labelled rows:  L = cross-entropy(P, Y), averaged     ->  dZ = (P - Y) / n
    Made-up rows:   L = w T^2 cross-entropy(Q, softmax(Z/T)), averaged, Q = teacher's softmax(Z_old/T)
                                                          ->  dZ = w T (softmax(Z/T) - Q) / n_pseudo
    (The T^2 keeps the distillation gradient the same size whatever the temperature.)
    """
    n = len(Y)
    dZ = np.empty_like(P)
    dZ[:n] = (P[:n] - Y) / n
    student = softmax(logits[n:] / temperature)
    dZ[n:] = weight * temperature * (student - teacher) / len(teacher)
    return dZ


def nearest(H, H_drawing, n):
    """Indices of the n rows of H closest (cosine) to any row of H_drawing: what the network sees as
    most like the drawing."""
    A = H / (np.linalg.norm(H, axis=1, keepdims=True) + 1e-6)
    B = H_drawing / (np.linalg.norm(H_drawing, axis=1, keepdims=True) + 1e-6)
    return np.argsort(-(A @ B.T).max(axis=1))[:n]


# --- variations of the drawing: a person's next drawings ------------------------------------------

def next_drawings(image, n, rng, v=Variation()):
    """n variations of a 28x28 uint8 drawing, like the same person's next drawings after preprocessing.

    The drawing is enlarged to 112 px and made crisp again (a canvas drawing is crisp); each variation
    gets its own slant, turn, width, wobble, stroke ends and pen, and goes through the last steps of
    nn.preprocess (crop, strokes evened out, longer side scaled to 20 px, centred by mass).
    Returns (n, 28, 28) uint8.
    """
    big = cv2.resize(np.asarray(image, np.float32).reshape(28, 28) / 255, (WORK, WORK),
                     interpolation=cv2.INTER_LINEAR)
    big = np.clip((big - 0.5) / 0.3 + 0.5, 0, 1)      # soft 28-px edges -> a crisp stroke, as wide
    ends = stroke_ends(thin(big > 0.5))
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        copy = _pen(_warp(big, rng, v, ends), rng, v.pen)
        if copy.max() > 0.1:
            out[i] = to_uint8(centre_by_mass(fit_box(even_strokes(crop(copy)))))
    return out


def _warp(big, rng, v, ends):
    """One variation: an affine map (slant, turn, width) about the centre, smooth random warps, and
    each stroke end pulled out or pushed in along its stroke."""
    c = (WORK - 1) / 2
    scale = WORK / 28                                  # 28-px pixels -> working pixels
    angle = np.deg2rad(rng.uniform(-v.turn, v.turn))
    shear, width = rng.uniform(-v.slant, v.slant), np.exp(rng.uniform(-v.stretch, v.stretch))
    A = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ \
        np.array([[width, shear], [0.0, 1.0]])
    # cv2.remap wants, for each output pixel, where to read from: the inverse map.
    inverse = np.linalg.inv(A)
    ys, xs = np.mgrid[0:WORK, 0:WORK].astype(np.float32) - c
    map_x = inverse[0, 0] * xs + inverse[0, 1] * ys + c
    map_y = inverse[1, 0] * xs + inverse[1, 1] * ys + c
    for size, grid in ((v.wobble, 5), (v.reach, 3)):   # fine and coarse random displacement fields
        if size:
            shift = rng.standard_normal((2, grid, grid)).astype(np.float32)
            shift = np.stack([cv2.resize(f, (WORK, WORK), interpolation=cv2.INTER_CUBIC) for f in shift])
            shift *= size * scale / (shift.std() + 1e-6)
            map_x += shift[0]
            map_y += shift[1]
    for x, y, dx, dy, length in ends:
        # Move the end along its direction; the move fades out over the end piece, stretching or
        # squeezing it: a longer or shorter flag on a 1, tail on a 9.
        pull = rng.normal(0, v.ends * scale)
        fade = np.exp(-((xs + c - x) ** 2 + (ys + c - y) ** 2) / (2 * (0.6 * length) ** 2))
        map_x -= pull * dx * fade
        map_y -= pull * dy * fade
    return cv2.remap(big, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _neighbours(img):
    """The 8 neighbours of every pixel, clockwise from the one above: a list of 8 arrays like img."""
    P = np.pad(img, 1)
    return [P[:-2, 1:-1], P[:-2, 2:], P[1:-1, 2:], P[2:, 2:],
            P[2:, 1:-1], P[2:, :-2], P[1:-1, :-2], P[:-2, :-2]]


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


# --- made-up inputs: what the network must keep answering as before ----------------------------

@functools.lru_cache(maxsize=4)
def pseudo_inputs(made_up=1024, digits=4096, dtype=np.float32):
    """made_up_inputs and made_up_digits, scaled for the network: made once per process and reused
    by every correction (read-only)."""
    X = scale_pixels(np.concatenate([made_up_inputs(made_up), made_up_digits(digits)]), dtype)
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
        slant = rng.uniform(-0.3, 0.3)
        width = rng.uniform(0.35, 0.8) if digit != 1 else rng.uniform(0.05, 0.4)
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
