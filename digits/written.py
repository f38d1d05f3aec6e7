"""Digits as people write them, drawn in code: training digits for the shapes and hands MNIST has few of.

MNIST's writers were American census staff and students. People elsewhere write a 1 with a long flag
or with a flag and a foot, cross their 7s, leave their 4s open at the top, slash their zeros; they
write narrow or wide, with a fine pen or a thick marker, in grey pencil, and send a blurred photo. A
network that saw only MNIST reads such digits poorly, however good it is on MNIST's own test digits.

`written_digits` draws such digits: each one by a new random writer (their hand from digits/hand.py,
the project's one model of how a person draws), in one of the shapes below, on a small Paint-like
canvas, read through the real preprocessing (digits.preprocess) into the 28x28 digit the network
sees. Training mixes a few thousand of them into MNIST (Settings.written); the project's handwriting
evaluation (benchmarks/handwriting_eval.py) draws its own writers, with shapes written down there
independently of these, and no writer of it is drawn here.
"""

import dataclasses

import cv2
import numpy as np

from nn.errors import NNError

from .hand import Habits, draw
from .preprocess import preprocess_grey

# Each digit's shapes: (name, strokes, width as a share of height). Strokes are lists of points in a
# box of unit height (x right, y down) through which a smooth pen stroke is drawn.
SHAPES = {
    0: [("oval", [[(0.55, 0.0), (0.15, 0.15), (0.05, 0.55), (0.3, 0.97), (0.72, 0.97), (0.95, 0.5),
                   (0.85, 0.12), (0.5, 0.02)]], 0.65),
        ("round, overlapping at the top", [[(0.7, 0.05), (0.35, 0.0), (0.05, 0.4), (0.2, 0.9), (0.6, 1.0),
                                            (0.95, 0.6), (0.85, 0.1), (0.45, 0.05)]], 0.8),
        ("slashed", [[(0.5, 0.0), (0.1, 0.2), (0.05, 0.6), (0.35, 1.0), (0.75, 0.95), (0.95, 0.5),
                      (0.8, 0.1), (0.5, 0.0)], [(0.85, 0.1), (0.15, 0.9)]], 0.65)],
    1: [("bare", [[(0.5, 0.0), (0.5, 1.0)]], 0.15),
        ("short flag", [[(0.25, 0.2), (0.6, 0.0), (0.6, 1.0)]], 0.4),
        ("long flag", [[(0.0, 0.45), (0.75, 0.0), (0.72, 1.0)]], 0.5),
        ("flag and foot", [[(0.05, 0.35), (0.6, 0.0), (0.6, 1.0)], [(0.15, 1.0), (1.0, 1.0)]], 0.55),
        ("foot", [[(0.3, 0.12), (0.5, 0.0), (0.5, 1.0)], [(0.15, 1.0), (0.85, 1.0)]], 0.45)],
    2: [("usual", [[(0.1, 0.22), (0.4, 0.0), (0.8, 0.08), (0.8, 0.4), (0.05, 1.0), (0.95, 0.98)]], 0.65),
        ("looped", [[(0.1, 0.25), (0.45, 0.0), (0.85, 0.2), (0.6, 0.6), (0.2, 0.95), (0.1, 0.8), (0.35, 0.8),
                     (0.6, 1.0), (0.95, 0.95)]], 0.7),
        ("long flat foot", [[(0.15, 0.2), (0.5, 0.0), (0.8, 0.25), (0.55, 0.6), (0.0, 1.0), (1.0, 1.0)]],
         0.8)],
    3: [("round", [[(0.1, 0.15), (0.55, 0.0), (0.85, 0.22), (0.45, 0.47), (0.9, 0.7), (0.6, 1.0),
                    (0.05, 0.85)]], 0.6),
        ("flat top", [[(0.05, 0.0), (0.9, 0.0), (0.4, 0.4), (0.85, 0.6), (0.75, 0.95), (0.1, 0.9)]], 0.6)],
    4: [("closed", [[(0.65, 0.0), (0.0, 0.68), (1.0, 0.68)], [(0.65, 0.0), (0.65, 1.0)]], 0.7),
        ("open", [[(0.2, 0.0), (0.05, 0.6), (0.95, 0.6)], [(0.72, 0.12), (0.72, 1.0)]], 0.7),
        ("one stroke", [[(0.3, 0.0), (0.1, 0.55), (0.9, 0.55)], [(0.7, 0.0), (0.68, 1.0)]], 0.6),
        ("looped", [[(0.6, 0.0), (0.1, 0.55), (0.25, 0.72), (0.5, 0.6), (0.95, 0.6)],
                    [(0.65, 0.15), (0.65, 1.0)]], 0.7)],
    5: [("usual", [[(0.2, 0.0), (0.12, 0.45), (0.55, 0.35), (0.9, 0.65), (0.6, 1.0), (0.05, 0.9)],
                   [(0.2, 0.0), (0.9, 0.0)]], 0.65),
        ("one stroke", [[(0.9, 0.0), (0.2, 0.02), (0.15, 0.42), (0.7, 0.45), (0.85, 0.8), (0.45, 1.0),
                         (0.05, 0.85)]], 0.65),
        ("round belly", [[(0.8, 0.0), (0.25, 0.0), (0.2, 0.4), (0.8, 0.45), (0.95, 0.85), (0.5, 1.0),
                          (0.1, 0.9), (0.2, 0.6), (0.6, 0.5)]], 0.65)],
    6: [("usual", [[(0.75, 0.0), (0.3, 0.3), (0.1, 0.7), (0.4, 1.0), (0.85, 0.85), (0.8, 0.55), (0.4, 0.5),
                    (0.12, 0.7)]], 0.6),
        ("straight stem", [[(0.6, 0.0), (0.15, 0.6), (0.2, 0.95), (0.65, 1.0), (0.85, 0.7), (0.5, 0.5),
                            (0.15, 0.65)]], 0.55)],
    7: [("usual", [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]], 0.65),
        ("crossed", [[(0.0, 0.05), (1.0, 0.0), (0.4, 1.0)], [(0.3, 0.5), (0.95, 0.48)]], 0.7),
        ("curved stem", [[(0.0, 0.05), (0.95, 0.0), (0.6, 0.45), (0.45, 1.0)]], 0.6),
        ("hooked", [[(0.0, 0.25), (0.05, 0.0), (0.95, 0.0), (0.45, 1.0)]], 0.65)],
    8: [("one stroke", [[(0.85, 0.1), (0.5, 0.0), (0.15, 0.2), (0.5, 0.48), (0.9, 0.75), (0.5, 1.0),
                         (0.1, 0.75), (0.5, 0.48), (0.85, 0.2)]], 0.6),
        ("two loops", [[(0.5, 0.0), (0.2, 0.22), (0.5, 0.45), (0.8, 0.22), (0.5, 0.0)],
                       [(0.5, 0.45), (0.1, 0.72), (0.5, 1.0), (0.9, 0.72), (0.5, 0.45)]], 0.6),
        ("narrow", [[(0.8, 0.05), (0.5, 0.0), (0.2, 0.2), (0.5, 0.5), (0.8, 0.8), (0.5, 1.0), (0.2, 0.8),
                     (0.5, 0.5), (0.8, 0.2)]], 0.35)],
    9: [("usual", [[(0.85, 0.25), (0.5, 0.0), (0.15, 0.25), (0.45, 0.5), (0.85, 0.3), (0.82, 1.0)]], 0.6),
        ("curved tail", [[(0.85, 0.2), (0.45, 0.0), (0.1, 0.25), (0.5, 0.45), (0.85, 0.2), (0.7, 0.8),
                          (0.3, 1.0)]], 0.6),
        ("open top", [[(0.15, 0.0), (0.15, 0.35), (0.5, 0.5), (0.85, 0.35)], [(0.85, 0.0), (0.85, 1.0)]],
         0.6),
        ("open top, curled tail", [[(0.1, 0.0), (0.12, 0.3), (0.45, 0.45), (0.85, 0.3)],
                                   [(0.85, 0.0), (0.85, 0.7), (0.6, 1.0), (0.25, 0.9)]], 0.6),
        ("stem above the loop", [[(0.82, 0.3), (0.5, 0.55), (0.15, 0.35), (0.45, 0.1), (0.82, 0.25)],
                                 [(0.85, 0.0), (0.82, 1.0)]], 0.6)],
}

SIDES = (112, 200)       # canvas sides: smaller than a real canvas, so a few thousand draw quickly


def random_writer(rng):
    """A person's hand drawn at random from how people write: slant, width (0.35 to 1.3 of the usual),
    a fine to thick pen or a grey pencil, dark ink on light or light on dark."""
    return Habits(slant=float(rng.uniform(-0.2, 0.4)), aspect=float(rng.uniform(0.35, 1.3)),
                  pen=float(rng.uniform(0.04, 0.22)), pencil=bool(rng.random() < 0.3),
                  dark_on_light=bool(rng.random() < 0.5))


def written_digit(digit, rng):
    """One drawing of `digit` by a new random writer, as a (H, W) canvas of floats in [0, 1]: a random
    shape of the digit, sometimes every stroke gone over twice, sometimes a blurred photo of it."""
    shapes = SHAPES[digit]
    _, strokes, width = shapes[rng.integers(len(shapes))]
    strokes = [np.asarray(s, float) for s in strokes]
    if rng.random() < 0.1:
        strokes += [s + rng.uniform(-0.04, 0.04, 2) for s in strokes]
    habits = random_writer(rng)
    if digit != 1:         # narrower than a quarter of its height, any other digit is a 1
        habits = dataclasses.replace(habits, aspect=max(habits.aspect, 0.25 / width))
    canvas = draw(strokes, width, habits, rng, sides=SIDES)
    if rng.random() < 0.2:
        canvas = blurred(canvas, rng.uniform(0.004, 0.014), habits.dark_on_light)
    return canvas


def blurred(canvas, blur, dark_on_light):
    """The canvas as a blurred photo or scan of it: the ink spread by a Gaussian (blur times the canvas
    side), then stretched back to its darkest as a camera's or scanner's levels do."""
    ink = 1 - canvas if dark_on_light else canvas
    spread = cv2.GaussianBlur(ink, (0, 0), blur * canvas.shape[0])
    spread *= ink.max() / max(float(spread.max()), 1e-6)
    return 1 - spread if dark_on_light else spread


def written_digits(n, seed=0):
    """n written digits, the ten digits in turn: (images (n, 784) uint8 as the network reads them,
    labels (n,) uint8). The same seed gives the same digits."""
    rng = np.random.default_rng([seed, 30])
    labels = np.arange(n, dtype=np.uint8) % 10
    return as_read(lambda i: written_digit(int(labels[i]), rng), n), labels


def as_read(drawing, n):
    """drawing(i) for i in range(n), each read through the real preprocessing: (n, 784) uint8, as the
    network reads them. A drawing the preprocessing refuses (a pen lift split it in two, it came out too
    faint) is drawn again, so every row is a drawing a user's could have been."""
    images = np.zeros((n, 784), np.uint8)
    for i in range(n):
        while True:
            try:
                images[i] = preprocess_grey(drawing(i)).image.reshape(-1)
                break
            except NNError:
                continue
    return images
