"""Writers with their own legitimate way of drawing a digit, which the shipped models misread.

Each style is a digit drawn as a few pen strokes (points in a unit box, x right, y down), the way
some people really write it: a European 1 with a long flag, a 9 whose loop is open at the top, a 7
with a crossbar, ... A writer takes a style and makes it their own once (their shape, slant, pen and
canvas habits); each of their drawings then varies like one person's drawings do: slant, size, place
on the canvas, pen width, a wobbly hand, pieces of a stroke a little longer or shorter. Every drawing
is a Paint-like canvas drawn from strokes here in code (no MNIST digit is used), then read through
the project's real preprocessing (digits.preprocess.preprocess_grey) into a 28x28 input.

A writer also writes the other digits in the ordinary way (the strokes of benchmarks/drawings.py),
with the same hand: after their long-flag 1 is corrected, their ordinary 7 must still read 7.

    writer = Writer(STYLES["long-flag 1"], seed=0)
    images = writer.images(30)            # (30, 28, 28) uint8, what the network reads
    normal, labels = writer.normal_images(range(10), per_digit=5)
"""

import zlib
from dataclasses import dataclass

import numpy as np

from benchmarks.drawings import STROKES
from digits.hand import Habits, draw
from digits.preprocess import preprocess_grey


@dataclass(frozen=True)
class Style:
    """A way of writing `digit` that a model trained on MNIST tends to read as `read_as`."""

    name: str
    digit: int
    read_as: int
    strokes: tuple  # strokes, each a tuple of (x, y) points in the unit box
    width: float = 0.6  # width of the digit as a share of its height


def _style(name, digit, read_as, strokes, width=0.6):
    return Style(name, digit, read_as, tuple(tuple(map(tuple, s)) for s in strokes), width)


STYLES = {
    s.name: s
    for s in [
        # The continental 1: a long up-stroke (flag) from low on the left to the top, then straight down.
        _style("long-flag 1", 1, 7, [[(0.0, 0.42), (0.7, 0.0), (0.7, 1.0)]], width=0.5),
        # The same 1 standing on a foot.
        _style(
            "flag-and-foot 1",
            1,
            2,
            [[(0.0, 0.45), (0.65, 0.0), (0.65, 1.0)], [(0.2, 1.0), (1.0, 1.0)]],
            width=0.55,
        ),
        # A 9 whose loop is not closed at the top: a cup beside the stem, like a 4 with a round bottom.
        _style(
            "open-top 9",
            9,
            4,
            [[(0.12, 0.0), (0.1, 0.3), (0.45, 0.5), (0.85, 0.3)], [(0.88, 0.0), (0.85, 0.55), (0.8, 1.0)]],
        ),
        # The same open 9 with its tail curled to the left, like a y.
        _style(
            "open curly 9",
            9,
            4,
            [
                [(0.15, 0.0), (0.12, 0.3), (0.45, 0.45), (0.85, 0.3)],
                [(0.85, 0.0), (0.85, 0.6), (0.6, 1.0), (0.3, 0.95)],
            ],
        ),
        # A 4 drawn closed, its top a rounded corner, the crossbar running on past the stem.
        _style(
            "closed-top 4",
            4,
            9,
            [[(0.7, 0.0), (0.3, 0.1), (0.1, 0.4), (0.95, 0.42)], [(0.7, 0.0), (0.72, 1.0)]],
        ),
        # A zero struck through, corner to corner, as programmers and Scandinavians write it.
        _style(
            "slashed 0",
            0,
            8,
            [
                [
                    (0.5, 0.0),
                    (0.12, 0.2),
                    (0.08, 0.55),
                    (0.3, 0.97),
                    (0.7, 0.97),
                    (0.92, 0.55),
                    (0.88, 0.2),
                    (0.5, 0.0),
                ],
                [(1.0, -0.1), (0.0, 1.1)],
            ],
        ),
        # A 5 written in one stroke whose belly runs on round into a closed loop.
        _style(
            "closed-belly 5",
            5,
            6,
            [
                [
                    (0.9, 0.0),
                    (0.25, 0.0),
                    (0.2, 0.42),
                    (0.65, 0.38),
                    (0.9, 0.65),
                    (0.7, 0.97),
                    (0.2, 0.92),
                    (0.2, 0.6),
                    (0.4, 0.45),
                ]
            ],
        ),
        # A 9 drawn backwards, its loop to the right of a stem drawn up first: common in China, Taiwan
        # and Korea (Language Log, "Why Chinese write '9' backwards").
        _style(
            "backwards 9",
            9,
            8,
            [[(0.22, 1.0), (0.22, 0.05), (0.6, 0.02), (0.9, 0.2), (0.86, 0.42), (0.55, 0.53), (0.22, 0.48)]],
        ),
        # A 4 in one stroke whose corner is a loop, like a 6: taught in China and France (Sinosplice,
        # "Chinese Numbers: Where 4 Meets 6").
        _style(
            "looped 4",
            4,
            6,
            [
                [
                    (0.62, 0.0),
                    (0.35, 0.3),
                    (0.12, 0.62),
                    (0.2, 0.8),
                    (0.45, 0.84),
                    (0.7, 0.76),
                    (0.74, 0.58),
                    (0.7, 0.42),
                    (0.7, 0.75),
                    (0.68, 1.0),
                ]
            ],
        ),
        # A 9 whose straight stem rises above its bowl, like a raised q (German hands).
        _style(
            "raised-stem 9",
            9,
            4,
            [
                [(0.8, 0.28), (0.5, 0.12), (0.15, 0.25), (0.1, 0.45), (0.4, 0.58), (0.8, 0.48)],
                [(0.8, 0.0), (0.8, 1.0)],
            ],
            width=0.55,
        ),
        # A 4 with an underscore (German hands).
        _style(
            "underlined 4",
            4,
            9,
            [
                [(0.4, 0.0), (0.1, 0.55), (0.9, 0.55)],
                [(0.66, 0.22), (0.66, 0.85)],
                [(0.05, 0.97), (0.95, 0.97)],
            ],
            width=0.65,
        ),
        # An 8 squeezed narrow in one stroke, as in a hurry or in a narrow box.
        _style(
            "squeezed 8",
            8,
            1,
            [
                [(0.85, 0.1), (0.5, 0.0), (0.15, 0.15), (0.5, 0.45), (0.85, 0.75), (0.5, 1.0), (0.15, 0.8)]
                + [(0.5, 0.5), (0.85, 0.15)]
            ],
            width=0.28,
        ),
        # A narrow 2 with a long flat foot.
        _style(
            "long-foot 2",
            2,
            1,
            [[(0.25, 0.15), (0.55, 0.0), (0.8, 0.2), (0.6, 0.6), (0.35, 1.0), (1.0, 1.0)]],
            width=0.5,
        ),
    ]
}


class Writer:
    """One person: a style made personal, and the randomness of their hand from drawing to drawing."""

    def __init__(self, style, seed=0):
        self.style = style
        rng = np.random.default_rng([seed, zlib.crc32(style.name.encode())])
        self.rng = rng
        self.habits = Habits(
            slant=float(rng.uniform(-0.1, 0.3)),
            aspect=float(rng.uniform(0.85, 1.15)),
            pen=float(rng.uniform(0.07, 0.14)),
            pencil=bool(rng.random() < 0.35),
            dark_on_light=bool(rng.random() < 0.5),
        )
        self.shape = personal(style.strokes, rng, 0.03)
        # The ordinary digits in this person's hand, made personal the same way.
        self.normal_shapes = {d: personal(STROKES[d], rng, 0.03) for d in range(10)}

    def canvases(self, n, strokes=None, width=None):
        """n drawings of this writer's style as grey canvases (H, W) in [0, 1], as saved from Paint."""
        strokes = self.shape if strokes is None else strokes
        width = self.style.width if width is None else width
        return [draw(strokes, width, self.habits, self.rng) for _ in range(n)]

    def images(self, n):
        """n drawings of the style, preprocessed: (n, 28, 28) uint8."""
        return np.stack([preprocess_grey(c).image for c in self.canvases(n)])

    def normal_images(self, digits, per_digit):
        """The writer's ordinary digits: (images (m, 28, 28) uint8, labels (m,))."""
        images, labels = [], []
        for d in digits:
            width = 0.45 if d == 1 else 0.65
            images += [
                preprocess_grey(c).image for c in self.canvases(per_digit, self.normal_shapes[d], width)
            ]
            labels += [d] * per_digit
        return np.stack(images), np.array(labels)


def personal(strokes, rng, spread):
    """The writer's version of the strokes: every point moved a little, once and for all."""
    return [np.asarray(s, float) + rng.normal(0, spread, (len(s), 2)) for s in strokes]
