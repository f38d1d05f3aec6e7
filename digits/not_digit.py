"""Is it a digit at all? A small second network that has seen both digits and things that are not digits.

A network trained only on digits answers with a digit for anything: a letter, a star, a scribble. It
cannot say "none of these", because it never saw anything else. This second network did: it learns
from MNIST's training digits and the written digits of digits/written.py (label 0, a digit) and from
things drawn here in code (label 1, not a digit), every one read through the real preprocessing:

- letters and signs in OpenCV's fonts (upright and italic, fine to bold), leaned, narrowed or widened,
  and letters drawn with a pen by the hand of digits/hand.py;
- shapes people doodle (stars, hearts drawn both ways people draw them, arrows, houses, polygons,
  crosses, ...), drawn by the hand of digits/hand.py;
- scribbles: a pen wandering through random points, zigzags, loops, short strokes dashed off here and there.

Letters that any reader takes for a digit (O, I, l, S, Z, B, G, b, q, g, ...) are not among them: a
"not a digit" answer to those would be a guess. Nor is P: it is how many people in China, Taiwan and Korea
write a 9 (its loop to the right of the stem). digits/one_digit.py asks it for its log-odds that a
drawing is a digit (`digit_odds`) and refuses drawings below a limit measured on real digits.

    python -m digits train-gate            # writes models/not_a_digit.npz (about four minutes)
"""

import functools
from pathlib import Path

import cv2
import numpy as np

from nn.files import shown
from nn.network import scale_pixels

from . import paths
from .hand import Habits, draw, smooth
from .written import SIDES, as_read

DIGIT, NOT_DIGIT = 0, 1
LETTERS = "AEFHKMNRTUVWXYadefhkmntvwx&@#*=%"
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
# Letters as pen strokes, the same way (the fonts above are printed; people draw with a pen).
PEN_LETTERS = {
    "A": ([[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]], 0.8),
    "E": ([[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0), (0.9, 1.0)], [(0.1, 0.5), (0.7, 0.5)]], 0.7),
    "F": ([[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0)], [(0.1, 0.5), (0.7, 0.5)]], 0.65),
    "H": ([[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.9, 1.0)], [(0.1, 0.5), (0.9, 0.5)]], 0.75),
    "K": ([[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.1, 0.55)], [(0.35, 0.4), (0.9, 1.0)]], 0.7),
    "M": ([[(0.0, 1.0), (0.05, 0.0), (0.5, 0.65), (0.95, 0.0), (1.0, 1.0)]], 1.0),
    "N": ([[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]], 0.75),
    "R": ([[(0.1, 1.0), (0.1, 0.0), (0.7, 0.02), (0.9, 0.25), (0.7, 0.48), (0.1, 0.5)],
           [(0.4, 0.5), (0.9, 1.0)]], 0.7),
    "T": ([[(0.0, 0.0), (1.0, 0.0)], [(0.5, 0.0), (0.5, 1.0)]], 0.8),
    "U": ([[(0.1, 0.0), (0.1, 0.7), (0.5, 1.0), (0.9, 0.7), (0.9, 0.0)]], 0.7),
    "V": ([[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]], 0.8),
    "W": ([[(0.0, 0.0), (0.25, 1.0), (0.5, 0.3), (0.75, 1.0), (1.0, 0.0)]], 1.1),
    "X": ([[(0.1, 0.0), (0.9, 1.0)], [(0.9, 0.0), (0.1, 1.0)]], 0.75),
    "Y": ([[(0.0, 0.0), (0.5, 0.5), (1.0, 0.0)], [(0.5, 0.5), (0.5, 1.0)]], 0.75),
    "e": ([[(0.15, 0.6), (0.85, 0.55), (0.6, 0.25), (0.2, 0.4), (0.2, 0.8), (0.85, 0.95)]], 0.7),
    "f": ([[(0.85, 0.1), (0.6, 0.0), (0.4, 0.2), (0.4, 1.0)], [(0.1, 0.4), (0.75, 0.4)]], 0.6),
    "h": ([[(0.1, 0.0), (0.1, 1.0)], [(0.1, 0.6), (0.5, 0.4), (0.85, 0.6), (0.85, 1.0)]], 0.65),
    "k": ([[(0.1, 0.0), (0.1, 1.0)], [(0.8, 0.4), (0.1, 0.7)], [(0.3, 0.6), (0.85, 1.0)]], 0.6),
    "m": ([[(0.05, 1.0), (0.05, 0.35)], [(0.05, 0.5), (0.3, 0.35), (0.5, 0.5), (0.5, 1.0)],
           [(0.5, 0.5), (0.75, 0.35), (0.95, 0.5), (0.95, 1.0)]], 1.1),
    "n": ([[(0.1, 1.0), (0.1, 0.3)], [(0.1, 0.5), (0.5, 0.3), (0.9, 0.5), (0.9, 1.0)]], 0.7),
    "t": ([[(0.45, 0.0), (0.45, 0.85), (0.7, 1.0)], [(0.1, 0.3), (0.85, 0.3)]], 0.6),
    "w": ([[(0.0, 0.3), (0.25, 1.0), (0.5, 0.5), (0.75, 1.0), (1.0, 0.3)]], 1.1),
    "&": ([[(0.9, 1.0), (0.2, 0.35), (0.35, 0.0), (0.6, 0.2), (0.1, 0.7), (0.4, 1.0), (0.85, 0.55)]], 0.7),
    "@": ([[(0.65, 0.5), (0.5, 0.35), (0.35, 0.55), (0.5, 0.7), (0.65, 0.5), (0.8, 0.7), (0.95, 0.4),
            (0.6, 0.05), (0.15, 0.25), (0.1, 0.7), (0.5, 0.98), (0.85, 0.85)]], 1.0),
}
# Doodles as pen strokes in a box of unit height (x right, y down), with their width as a share of height.
DOODLES = {
    "star": ([[(0.5, 0.0), (0.8, 1.0), (0.0, 0.38), (1.0, 0.38), (0.2, 1.0), (0.5, 0.0)]], 1.0),
    "heart": ([[(0.5, 0.3), (0.25, 0.0), (0.0, 0.3), (0.5, 1.0), (1.0, 0.3), (0.75, 0.0), (0.5, 0.3)]], 1.0),
    # The other way people draw one: from the point at the bottom, up round two full lobes and down again.
    "round heart": ([[(0.5, 1.0), (0.12, 0.6), (0.0, 0.28), (0.2, 0.03), (0.42, 0.08), (0.5, 0.25),
                      (0.58, 0.08), (0.8, 0.03), (1.0, 0.28), (0.88, 0.6), (0.5, 1.0)]], 1.0),
    "house": ([[(0.0, 0.4), (0.5, 0.0), (1.0, 0.4), (1.0, 1.0), (0.0, 1.0), (0.0, 0.4), (1.0, 0.4)]], 0.9),
    "arrow": ([[(0.0, 0.5), (1.0, 0.5)], [(0.65, 0.1), (1.0, 0.5), (0.65, 0.9)]], 1.4),
    "up arrow": ([[(0.5, 1.0), (0.5, 0.0)], [(0.1, 0.35), (0.5, 0.0), (0.9, 0.35)]], 0.7),
    "plus": ([[(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]], 1.0),
    "hash": ([[(0.3, 0.0), (0.25, 1.0)], [(0.75, 0.0), (0.7, 1.0)], [(0.0, 0.3), (1.0, 0.3)],
              [(0.0, 0.7), (1.0, 0.7)]], 1.0),
    "triangle": ([[(0.5, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.0)]], 1.1),
    "square": ([[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]], 1.0),
    "diamond": ([[(0.5, 0.0), (1.0, 0.5), (0.5, 1.0), (0.0, 0.5), (0.5, 0.0)]], 0.8),
    "tick": ([[(0.0, 0.6), (0.35, 1.0), (1.0, 0.0)]], 1.0),
    "cross": ([[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]], 1.0),
    "roofed box": ([[(0.05, 0.45), (0.05, 1.0), (0.95, 1.0), (0.95, 0.45), (0.05, 0.45)],
                    [(0.0, 0.5), (0.5, 0.0), (1.0, 0.5)]], 0.9),
}
def letter(rng):
    """A letter or sign in one of OpenCV's fonts, leaned, narrowed or widened and turned a little."""
    side = int(rng.integers(SIDES[0], SIDES[1] + 1))
    canvas = np.zeros((side, side), np.uint8)       # OpenCV draws text on 8-bit images only
    font = int(rng.choice(FONTS)) | (cv2.FONT_ITALIC if rng.random() < 0.3 else 0)
    char = str(rng.choice(list(LETTERS)))
    thickness = int(rng.integers(1, max(2, side // 18)))
    scale = cv2.getFontScaleFromHeight(font, int(side * rng.uniform(0.35, 0.6)), thickness)
    (w, h), _ = cv2.getTextSize(char, font, scale, thickness)
    cv2.putText(canvas, char, ((side - w) // 2, (side + h) // 2), font, scale, 255, thickness, cv2.LINE_AA)
    M = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-15, 15), 1.0)
    M[0, :2] *= rng.uniform(0.6, 1.3)
    M[0, 1] += rng.uniform(-0.3, 0.3)
    M[0, 2] = side / 2 - M[0, :2] @ (side / 2, side / 2)
    return cv2.warpAffine(canvas, M, (side, side), flags=cv2.INTER_LINEAR).astype(np.float32) / 255


def _habits(rng):
    return Habits(slant=float(rng.uniform(-0.2, 0.3)), aspect=float(rng.uniform(0.6, 1.3)),
                  pen=float(rng.uniform(0.04, 0.16)), pencil=bool(rng.random() < 0.3), dark_on_light=False)


def pen_letter(rng):
    """A letter drawn with a pen by a random hand (digits/hand.py)."""
    names = list(PEN_LETTERS)
    strokes, width = PEN_LETTERS[names[rng.integers(len(names))]]
    return draw([_straight(np.asarray(s, float), 2) for s in strokes], width, _habits(rng), rng, sides=SIDES)


def doodle(rng):
    """A shape people doodle, drawn by a random hand; polygons of 3 to 7 random corners among them. About
    half are drawn with care, corners sharp; half in haste, the hand rounding every corner (a quick triangle
    is a rounded one, and must still not pass for a digit). No flag: drawn as a triangle on a stem, it
    is the P that many people write for a 9 (see the module notes)."""
    names = [*DOODLES, "polygon"]
    name = names[rng.integers(len(names))]
    if name == "polygon":
        corners = rng.uniform(0, 1, (int(rng.integers(3, 8)), 2))
        strokes, width = [np.vstack([corners, corners[:1]])], 1.0
    else:
        strokes, width = DOODLES[name]
    # A rounded diamond is a 0, and a rounded random polygon might be any digit: those stay sharp.
    careful = name in ("diamond", "polygon") or ("heart" not in name and rng.random() < 0.5)
    strokes = [_straight(np.asarray(s, float)) if careful else np.asarray(s, float) for s in strokes]
    return draw(strokes, width, _habits(rng), rng, sides=SIDES)


def _straight(points, per_edge=5):
    """The polyline through the points with points added along each edge, so that the smooth curve
    hand.draw passes through keeps straight edges and sharp corners (a square, not a 0)."""
    t = np.linspace(0, 1, per_edge, endpoint=False)[:, None]
    edges = [a + (b - a) * t for a, b in zip(points[:-1], points[1:], strict=True)]
    return np.vstack([*edges, points[-1:]])


def scribble(rng):
    """A pen wandering through 7 to 24 random points, a zigzag, a row of loops, or a few short strokes
    dashed off here and there (someone trying the pen)."""
    kind = rng.integers(4)
    if kind == 3:
        return dashes(rng)
    if kind == 0:
        points = rng.uniform(0, 1, (int(rng.integers(7, 25)), 2))
    elif kind == 1:
        n = int(rng.integers(4, 9))
        points = np.column_stack([np.linspace(0, 1, n), np.tile([0.0, 1.0], n)[:n]])
        points = points[:, ::-1] if rng.random() < 0.5 else points
    else:
        t = np.linspace(0, 2 * np.pi * rng.integers(3, 6), 60)
        points = np.column_stack([t / t[-1] + 0.12 * np.cos(t), 0.5 + 0.4 * np.sin(t)])
    width = float(rng.uniform(0.6, 1.8))
    curve = smooth(points, per_segment=4) if kind != 2 else points
    return draw([curve], width, _habits(rng), rng, shape=0.5, sides=SIDES)


def dashes(rng):
    """Three to seven short strokes of two or three points, each somewhere else in a box up to twice
    as wide as it is tall (the hand may widen it a little more)."""
    strokes = []
    for _ in range(int(rng.integers(3, 8))):
        size = rng.uniform(0.15, 0.5)
        strokes.append(rng.uniform(0, 1 - size, 2) + size * rng.uniform(0, 1, (int(rng.integers(2, 4)), 2)))
    return draw(strokes, float(rng.uniform(0.6, 2.0)), _habits(rng), rng, shape=0.5, sides=SIDES)


MAKERS = (letter, pen_letter, pen_letter, doodle, doodle, scribble)   # letters are the hardest to tell


def not_digits(n, seed=0):
    """n drawings of things that are not digits, as the network reads them: (n, 784) uint8."""
    rng = np.random.default_rng([seed, 31])
    return as_read(lambda i: MAKERS[i % len(MAKERS)](rng), n)


OTHERS = 20_000          # drawings of things that are not digits the shipped gate learned from


def gate_settings():
    """How the shipped gate is trained: a dense network with one hidden layer of 512 units, the dense
    digit network's distortions, MNIST's and 15,000 written digits against OTHERS drawings made here.
    Chosen on held-out drawings of each kind (MNIST's last 5,000 digits out of its training; written
    digits and not-digits of other seeds) and on benchmarks/non_digits.py's letters, shapes and
    scribbles (benchmarks/gate_eval.py): a convolutional gate learned the drawings made here better and
    the benchmark's worse; 30 epochs, two hidden layers, three gates averaged, or 40,000 and 80,000
    drawings with more shapes and scribbles did not move the trade-off between digits let through and
    non-digits flagged; shapes drawn in haste (rounded corners), dashed-off strokes and hearts drawn the
    other way (from the point round two full lobes; gate_eval's hearts flagged: 51% -> 93%) did."""
    from .training import Settings

    return Settings(hidden=(512,), epochs=12, written=15000)


def train_gate(out=None, data="mnist", others=OTHERS, settings=None, say=print):
    """Train the not-a-digit network: a dataset's training digits and settings.written digits written in
    code (digits/written.py) as digits, `others` drawings made here as not digits, all randomly
    distorted in every epoch; save it to `out` (default models/not_a_digit.npz) with a record of how it
    was made. settings.validation: the dataset's last training digits left out, only (to measure the
    gate on digits it never saw, as benchmarks/gate_eval.py does). Returns the Network."""
    from nn.network import Network, mlp
    from nn.persist import save_model

    from .training import hold_out, load_split, train_network, training_record, with_written

    s = settings or gate_settings()
    digits, labels, _ = hold_out(*load_split(data, "train"), s.validation)
    digits, _ = with_written(digits, labels, s)
    say(f"drawing {others:,} things that are not digits...")
    images = np.concatenate([digits, not_digits(others, s.seed)])
    labels = np.repeat(np.array([DIGIT, NOT_DIGIT], np.uint8), [len(digits), others])
    net = Network(mlp([784, *s.hidden, 2]), seed=s.seed)
    history = train_network(net, images, labels, s)
    net.record = training_record(s, f"{data} + written digits + {others} not digits", images, labels,
                                 history)
    out = Path(out or paths.MODELS / paths.NOT_A_DIGIT)
    save_model(net, out)
    say(f"saved {shown(out)}")
    return net


@functools.cache
def gate(path=None):
    """The not-a-digit network saved at `path` (default models/not_a_digit.npz), or None if none is."""
    from nn.persist import load_model

    path = Path(path or paths.not_a_digit_model())
    return load_model(path) if path.is_file() else None


def digit_odds(image, net=None):
    """How much more the gate believes the (28, 28) input is a digit than not: Z_digit - Z_not, the
    log-odds (0: undecided; real digits score high). +inf when there is no gate to ask."""
    net = gate() if net is None else net
    if net is None:
        return float("inf")
    Z = net.forward(scale_pixels(image.reshape(1, -1), net.dtype))[0]
    return float(Z[DIGIT] - Z[NOT_DIGIT])
