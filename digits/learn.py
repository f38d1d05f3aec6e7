"""Learning from one corrected drawing: the user's way of writing a digit, without forgetting the rest.

When the network misreads a drawing and the user types the right digit, we want more than that one
drawing read right: the user's NEXT drawings of that digit (never quite the same) must be read right
too, and everything else must be read as before. Train a network on one example and it changes
whatever weights make that example right, including those that made everything else right
(catastrophic forgetting). So a correction is a short training run on two kinds of rows:

what must change:  the drawing, variations of it as the same hand would draw it (digits/variations.py),
                   and the user's earlier corrections, with their labels (cross-entropy);
what must not:     digits from the network's memory (nn/memory.py), real training digits, with their
                   labels (cross-entropy) and with the scores Z* the network gave them before any
                   correction (a squared-error pull back to them, as in Dark Experience Replay). Half
                   of them each step are the ones that look most like the drawing to the network: that
                   is where a correction pulls hardest.

    L = CE(new rows) + memory_weight * [ CE(memory rows) + score_weight * mean (Z - Z*)^2 ]

It stops once the drawing AND `share` of a set of held-out variations put the right digit ahead of
every other by `margin` in the scores (not merely "the guess flipped": that leaves the boundary at
the edge of the variations, and the next drawing falls on the wrong side). Then a certified finish:
the memory's check digits (never rehearsed) and the earlier corrections must all still be read as
before; if some are not, the rehearsal digits most like them are rehearsed for a few more steps; if
that does not mend them, the correction is learned again with variations half as wide, then with none
of their shape changes (a narrower claim on the next drawings collides less with what it remembers),
and as a last resort the update is scaled back until none is broken: Learned.kept says how much of it
was kept (1: all of it). Either way, no check digit read right with a clear lead is ever broken.

Only the dense layers move: a convolutional network's filters are general stroke detectors that one
drawing should not retune, and keeping them fixed means the memory's digits go through them once per
process, not once per step (what makes a correction on the CNN as fast as on the dense network).
"""

import dataclasses
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from nn.errors import NNError
from nn.layers import Dense, one_hot, softmax
from nn.network import scale_pixels
from nn.optim import Adam

from .variations import NextDrawings, Variation

GEOMETRY = ("slant", "turn", "stretch", "wobble", "reach", "ends", "shape")   # what a narrower claim narrows


@dataclass(frozen=True)
class LearnSettings:
    """How a correction is learned; the defaults are what benchmarks/style_eval.py and learning_eval.py
    measured (see the README)."""

    variation: Variation = field(default_factory=Variation)
    variations: int = 96         # variations of the drawing to learn from...
    per_step: int = 24           # ...this many of them in each step
    held_out: int = 32           # more variations, never learned from: they decide when to stop
    margin: float = 2.0          # the right digit's score must lead every other's by this...
    share: float = 0.9           # ...in this share of the held-out variations (and in the drawing)
    max_steps: int = 80          # give up on the held-out target here (the drawing itself: 2x this)
    learning_rate: float = 3e-4
    earlier: int = 16            # earlier corrections rehearsed per step (all of them if fewer)
    memory: int = 128            # memory digits rehearsed per step: half the nearest, half at random
    memory_weight: float = 1.0   # weight of the memory rows in L...
    repairs: int = 3             # rounds of repair when check digits broke, watch_every steps each
    repair_rows: int = 8         # rehearsal digits nearest each broken check digit, added to the hurt
    watch_every: int = 10        # look every this many steps for memory digits the update hurts...
    sure: float = 1.0            # ...(their lead fell below this), and rehearse them in every step
    score_weight: float = 1.0    # ...and of the pull back to their old scores within them
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
    variations_before: float     # share of the held-out variations read right before learning
    variations_after: float      # and after
    kept: float                  # share of the update kept by the certified finish (1: all of it)
    checked: int                 # memory check digits and earlier corrections that were checked

    @property
    def fixed(self):
        return int(self.after.argmax()) == self.label


def learn(net, image, label, earlier=None, settings=LearnSettings(), progress=None):
    """Teach net (in place) that the 28x28 uint8 `image` is `label`; returns a Learned.

    earlier: (images (n, 784) uint8, labels) of the user's previous corrections, or None.
    progress: called as progress(steps) every few steps, for a front end that shows it.
    net.memory must hold the network's memory of its training digits (see no_memory_message).
    If the certified finish has to hold part of the update back, the correction is learned again with
    variations half as wide, then with none of their shape changes (a narrower claim on what the user's
    next drawings look like collides less with remembered digits); the first that is kept whole and
    reads the drawing right, else the best of them (the drawing read right, then the largest share
    kept), is the one kept.
    """
    if net.memory is None:
        raise NNError(no_memory_message(net))
    start = time.perf_counter()
    correction = Correction(net, np.asarray(image, np.uint8).reshape(1, 784), label, earlier, settings,
                            progress or (lambda steps: None))
    old, tried = net.flat.copy(), []
    for width in (1.0, 0.5, 0.0):
        net.flat[...] = old
        steps, kept = correction.learn(width, 1 if width == 1 else 0.25)
        right = correction.reads_right()
        tried.append((kept == 1 and right, right, kept, steps, net.flat.copy()))
        if kept == 1 and right:
            break
    _, _, kept, _, best = max(tried, key=lambda t: t[:3])
    net.flat[...] = best
    return correction.result(sum(t[3] for t in tried), kept, time.perf_counter() - start)


def learn_in_turn(net, images, labels, settings=LearnSettings()):
    """Learn corrections one after another on net (in place), as a person makes them: correction i
    rehearses the i before it (earlier) and draws its randomness from seed i. images (k, 28, 28) or
    (k, 784) uint8, labels (k,); yields each correction's Learned as soon as it is learned."""
    images = np.asarray(images, np.uint8).reshape(len(images), 784)
    labels = np.asarray(labels)
    for i in range(len(labels)):
        earlier = (images[:i], labels[:i]) if i else None
        yield learn(net, images[i], int(labels[i]), earlier, dataclasses.replace(settings, seed=i))


class Correction:
    """One correction: the drawing, its variations, the rows to check, and the training run."""

    def __init__(self, net, image, label, earlier, s, progress):
        self.net, self.label, self.s, self.progress = net, label, s, progress
        self.head = head = Head(net)
        self.drawing = head.features(image)
        self.next_drawings = NextDrawings(image)                 # traced once, drawn from at every try
        self.held = self._variations(s.held_out, 1.0, np.random.default_rng([s.seed, 1]))
        self.earlier_F, self.earlier_labels = _earlier(head, earlier)
        self.memory = head.memory_features()
        self.check = _check_rows(head, self.memory, self.earlier_F, self.earlier_labels, s.sure)
        self.rehearse = np.flatnonzero(~net.memory.check)
        self.rehearse_X = self.memory[self.rehearse]
        self.rehearse_labels = net.memory.labels[self.rehearse].astype(int)
        self.hidden = head.hidden(self.rehearse_X)              # before: to find digits like another
        # Which rehearsal digits the network is sure of before learning (the same for every try).
        self.was_sure = lead(head.layers[-1].forward(self.hidden), self.rehearse_labels) >= s.sure
        self.near = self.rehearse[_nearest(self.hidden, head.hidden(self.held), s.memory // 2)]
        self.before, self.held_before = head.proba(self.drawing)[0], head.proba(self.held)

    def _variations(self, n, width, rng):
        v = self.s.variation
        narrower = dataclasses.replace(v, **{k: getattr(v, k) * width for k in GEOMETRY})
        return self.head.features(self.next_drawings.draw(n, rng, narrower).reshape(-1, 784))

    def learn(self, width, budget):
        """Train from the network as it is, with variations `width` times as wide, for at most `budget`
        times the settings' steps (a second try is shorter: the time a user waits is bounded); then
        repair and certify. Returns (steps, share of the update kept)."""
        s, head, net = self.s, self.head, self.net
        rng = np.random.default_rng([s.seed, int(width * 100)])
        variations = self._variations(s.variations, width, rng)
        held = self.held if width == 1 else self._variations(s.held_out, width, rng)
        watch = Watch(head, self.rehearse_X, self.rehearse, self.rehearse_labels, self.was_sure, s.sure)
        old = net.flat.copy()
        optimizer = Adam(net.flat, net.flat_grad)
        net.flat_grad[...] = 0                  # the frozen layers' gradients stay zero: Adam leaves them

        def step(i):
            if i and i % s.watch_every == 0:
                watch.look()
                self.progress(i)
            X, labels, chosen = _step_rows(rng, s, self.label, variations, self.earlier_F,
                                           self.earlier_labels, self.near, watch.hurt, self.rehearse)
            head.train_step(optimizer, X, labels, self.memory[chosen], chosen, s)

        steps, targets = 0, np.concatenate([self.drawing, held])
        while steps < 2 * s.max_steps * budget and not _done(head.scores(targets), self.label, steps, s):
            step(steps)
            steps += 1
        for _ in range(max(1, round(s.repairs * budget))):
            # Check digits the update broke: rehearse the rehearsal digits most like them, a few more
            # steps (the check digits themselves are never trained on, so they stay an honest check).
            broken = _broken(head, *self.check)
            if not len(broken):
                break
            like = _nearest(self.hidden, head.hidden(self.check[0][broken]), s.repair_rows * len(broken))
            watch.hurt = np.union1d(watch.hurt, self.rehearse[like])
            for _ in range(s.watch_every):
                step(steps)
                steps += 1
        return steps, _certified(head, old, self.check)

    def reads_right(self):
        return bool(self.head.scores(self.drawing)[0].argmax() == self.label)

    def result(self, steps, kept, seconds):
        head, label = self.head, self.label
        return Learned(label, steps, self.before, head.proba(self.drawing)[0], seconds,
                       float(np.mean(self.held_before.argmax(1) == label)),
                       float(np.mean(head.proba(self.held).argmax(1) == label)), kept, len(self.check[1]))


def no_memory_message(net):
    source = net.record.get("data", {}).get("name", "mnist")
    return ("this model file carries no memory of the digits it was trained on, so a correction could "
            "not check that it forgets nothing: add one with `python -m digits remember --model MODEL "
            f"--data {source}` (MODEL: the base model file), then correct again.")


def _done(Z, label, steps, s):
    """Stop when the drawing (row 0) and `share` of the held-out variations lead by `margin`; after
    max_steps, as soon as the drawing itself is read right."""
    ahead = lead(Z, label)
    if steps >= s.max_steps:
        return ahead[0] > 0
    return ahead[0] >= s.margin and np.mean(ahead[1:] >= s.margin) >= s.share


def lead(Z, labels):
    """How far each row's label's score is ahead of the best other digit's: Z (m, 10), labels an int or
    (m,) -> (m,)."""
    rows = np.arange(len(Z))
    labels = np.broadcast_to(labels, rows.shape)
    others = Z.copy()
    others[rows, labels] = -np.inf
    return Z[rows, labels] - others.max(axis=1)


def _earlier(head, earlier):
    if earlier is None or not len(earlier[1]):
        return np.zeros((0, head.width), head.dtype), np.zeros(0, int)
    images, labels = earlier
    return head.features(np.asarray(images, np.uint8).reshape(-1, 784)), np.asarray(labels).astype(int)


class Watch:
    """The rehearsed memory digits this correction hurts: read right with a lead of at least `sure`
    before, now less sure than that. They are rehearsed in every later step (as MIR, Aljundi et al.
    2019, rehearses the memory an update would hurt most)."""

    def __init__(self, head, X, rows, labels, was_sure, sure):
        """X, labels: the rehearsal digits' features and labels; rows: their indices in the memory;
        was_sure: which of them the network read right with a lead of at least `sure` before."""
        self.head, self.X, self.rows, self.labels = head, X, rows, labels
        self.was_sure, self.sure = was_sure, sure
        self.hurt = np.zeros(0, int)

    def look(self):
        now = lead(self.head.scores(self.X), self.labels)
        self.hurt = np.union1d(self.hurt, self.rows[self.was_sure & (now < self.sure)])


def _check_rows(head, memory, earlier_F, earlier_labels, sure=1.0):
    """The rows a correction must not break (features (n, width), labels (n,)): the memory's check
    digits that the network read right with a lead of at least `sure` when its memory was made (one it
    barely read right is a coin toss no update can promise; its stored scores tell, so the same digits
    are checked in every correction), and the earlier corrections it reads right now."""
    m = head.net.memory
    check = np.flatnonzero(m.check)
    check = check[lead(m.logits[check], m.labels[check].astype(int)) >= sure]
    right = lead(head.scores(earlier_F), earlier_labels) > 0
    return (np.concatenate([memory[check], earlier_F[right]]),
            np.concatenate([m.labels[check].astype(int), earlier_labels[right]]))


def _nearest(H, H_drawing, n):
    """Indices of the n rows of H closest (cosine) to any row of H_drawing: what the network sees as
    most like the drawing."""
    A = H / (np.linalg.norm(H, axis=1, keepdims=True) + 1e-6)
    B = H_drawing / (np.linalg.norm(H_drawing, axis=1, keepdims=True) + 1e-6)
    return np.argsort(-(A @ B.T).max(axis=1))[:n]


def _step_rows(rng, s, label, variations, earlier_F, earlier_labels, near, hurt, rehearse):
    """This step's rows that must change (features, labels: variations and earlier corrections), and
    the indices of its memory digits: the nearest ones, the hurt ones (a draw of at most as many), and
    a random draw of the rest."""
    pick = rng.choice(len(variations), size=min(s.per_step, len(variations)), replace=False)
    old = rng.choice(len(earlier_labels), size=min(s.earlier, len(earlier_labels)), replace=False)
    hurt = rng.choice(hurt, size=min(len(near), len(hurt)), replace=False)
    rest = rng.choice(rehearse, size=s.memory - len(near), replace=False)
    return (np.concatenate([variations[pick], earlier_F[old]]),
            np.concatenate([np.full(len(pick), label), earlier_labels[old]]),
            np.concatenate([near, hurt, rest]))


def _broken(head, X, labels):
    """Indices of the check rows X the network no longer reads as `labels`."""
    return np.flatnonzero(head.proba(X).argmax(1) != labels)


def _certified(head, old, check, tries=6):
    """Keep the largest share t of the update (new = old + t * update) that breaks no check row: all of
    it if it breaks none, else t found by halving the interval between a share known to break none
    (0: the network before the correction) and one known to break some, `tries` times."""
    net, update = head.net, head.net.flat - old
    good, bad = 0.0, 1.0
    if not len(_broken(head, *check)):
        return 1.0
    for _ in range(tries):
        t = (good + bad) / 2
        net.flat[...] = old + t * update
        good, bad = (t, bad) if not len(_broken(head, *check)) else (good, t)
    net.flat[...] = old + good * update
    return good


class Head:
    """The part of the network a correction trains: its layers from the first dense layer on.

    For the dense network that is all of it; for the convolutional one, the dense layers above the
    convolutions, which then read fixed features: F = the convolutions' output for an image.
    """

    def __init__(self, net):
        self.net, self.dtype = net, net.dtype
        self.start = next(i for i, layer in enumerate(net.layers) if isinstance(layer, Dense))
        self.layers = net.layers[self.start:]
        self.width = self.layers[0].n_in

    def features(self, images):
        """uint8 images (m, 784) -> what the first dense layer reads (m, width)."""
        A = scale_pixels(images, self.dtype)
        if not self.start:
            return A
        A = A.reshape(len(A), *self.net.input_shape)
        out = []
        for i in range(0, len(A), 500):
            B = A[i:i + 500]
            for layer in self.net.layers[:self.start]:
                B = layer.forward(B)
            out.append(B.reshape(len(B), -1))
        return np.concatenate(out)

    def memory_features(self):
        """Features of the memory's digits; computed once for as long as the frozen layers stay as
        they are (a dense network has none: its features are the pixels)."""
        memory = self.net.memory
        frozen = self.net.flat[:sum(p.size for layer in self.net.layers[:self.start]
                                    for p in layer.params.values())]
        key = (hash(memory.images.tobytes()), hash(frozen.tobytes()))
        if _FEATURES.get("key") != key:
            _FEATURES.update(key=key, F=self.features(memory.images))
        return _FEATURES["F"]

    def scores(self, F):
        """Z (m, 10) for features F (m, width)."""
        A = F
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def hidden(self, F):
        """The last hidden layer's activity for features F: how alike two inputs look to the network."""
        A = F
        for layer in self.layers[:-1]:
            A = layer.forward(A)
        return A

    def proba(self, F):
        return softmax(self.scores(F))

    def train_step(self, optimizer, X, labels, M, chosen, s):
        """One Adam step on L (see the module docstring): X, labels the rows that must change, M the
        features of the memory digits `chosen`."""
        memory = self.net.memory
        Z = self.scores(np.concatenate([X, M]))
        P = softmax(Z)
        n = len(X)
        dZ = np.empty_like(Z)
        dZ[:n] = (P[:n] - one_hot(labels, P.shape[1], P.dtype)) / n
        Y = one_hot(memory.labels[chosen], P.shape[1], P.dtype)
        pull = 2 * (Z[n:] - memory.logits[chosen]) / Z.shape[1]        # d/dZ of mean (Z - Z*)^2
        dZ[n:] = s.memory_weight * (P[n:] - Y + s.score_weight * pull) / len(M)
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)
        optimizer.step(s.learning_rate)


_FEATURES = {}       # the memory's features for the last convolutional network used (see Head)
