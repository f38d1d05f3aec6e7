"""A hand drawing strokes: how one person's drawings of a digit differ from one to the next.

A digit is a few pen strokes, each a list of points (x right, y down) in a box of unit height. A
person never draws it the same way twice: every point lands a little elsewhere, a stroke's free end
comes out longer or shorter, the curve trembles, the whole digit leans and turns a little more or
less, the pen presses harder in places (wider, darker strokes) and now and then lifts for a moment,
and the canvas is larger or smaller. `draw` makes one such drawing on a Paint-like canvas.

This is the one model of a person's next drawings in the project: the writers of
benchmarks/styles.py draw their styles with it, and a correction (digits/learn.py) trains on redrawings
of the user's own strokes with it (digits/variations.py).
"""

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Habits:
    """What stays the same across one person's drawings."""

    slant: float  # x shift per unit of height, bottom to top (right-leaning > 0)
    aspect: float  # width factor
    pen: float  # pen width as a share of the digit's height (pen) ...
    pencil: bool  # ... or a fixed few canvas pixels if they use a pencil
    dark_on_light: bool  # black ink on white paper, or white on black


def any_habits(rng):
    """Habits drawn at random: a person we know nothing about yet (upright, their own pen)."""
    return Habits(slant=0.0, aspect=1.0, pen=float(rng.uniform(0.07, 0.14)),
                  pencil=bool(rng.random() < 0.35), dark_on_light=False)


def smooth(points, per_segment=12):
    """A Catmull-Rom curve through the points, so strokes bend like a hand's rather than a ruler's."""
    p = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(p[-2][None])
    return np.vstack(out)


def draw(strokes, width, habits, rng, free=None, shape=1.0, sides=(200, 640)):
    """One drawing: the strokes varied as a hand varies them, drawn on a canvas; (H, W) floats in [0, 1].

    strokes: arrays (k, 2) of points in a box of unit height; width: the digit's width as a share of
    its height. free: for each stroke, whether its (first, last) point is a free end that may come out
    longer or shorter (None: all are; a stroke ending in a junction with another is not). shape scales
    how much the shape varies (points, ends, slant, turn, width): 1 as a person, 0 the strokes as given.
    Beyond shape: a square canvas of sides[0] to sides[1] px, a pen pressed harder in places (wider and
    darker), now and then a short lift of the pen in mid-stroke, and a grey pencil for the pencil writers.
    """
    side = int(rng.integers(sides[0], sides[1] + 1))
    height = rng.uniform(0.4, 0.85) * side
    w = height * width * habits.aspect * (1 + shape * rng.uniform(-0.1, 0.1))
    slant = habits.slant + shape * rng.uniform(-0.1, 0.1)
    angle = np.deg2rad(shape * rng.uniform(-6, 6))
    if habits.pencil:
        pen = int(rng.integers(1, 5))
    else:
        pen = max(2, int(round(height * habits.pen * rng.uniform(0.75, 1.3))))
    free = free or [(True, True)] * len(strokes)
    curves = [_hand(np.asarray(s, float), rng, ends, shape) for s, ends in zip(strokes, free, strict=True)]
    # Place the digit: unit box -> canvas pixels, slanted and turned a little, somewhere on the canvas.
    placed = []
    for curve in curves:
        x = (curve[:, 0] + slant * (1 - curve[:, 1])) * w
        y = curve[:, 1] * height
        x, y = x * np.cos(angle) - y * np.sin(angle), x * np.sin(angle) + y * np.cos(angle)
        placed.append(np.column_stack([x, y]))
    allp = np.vstack(placed)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    margin = pen + 4
    room = np.maximum(np.array([side, side]) - (hi - lo) - 2 * margin, 1)
    offset = margin - lo + rng.uniform(0, 1, 2) * room
    canvas = np.zeros((side, side), np.float32)
    grey = rng.uniform(0.45, 0.8) if habits.pencil else 1.0
    for p in placed:
        _stroke(canvas, p + offset, pen, grey, rng)
    ink = np.clip(canvas, 0, 1)
    return 1 - ink if habits.dark_on_light else ink


def _stroke(canvas, points, pen, grey, rng):
    """Draw one stroke segment by segment: the pressure (width and darkness) rises and falls along it,
    and with a chance of 1 in 4 the pen lifts for a short gap somewhere in the middle."""
    n = len(points)
    t = np.linspace(0, 1, n)
    pressure = 0.75 + 0.25 * np.sin(2 * np.pi * (rng.uniform(0.5, 1.5) * t + rng.random()))
    gap = set()
    if n > 8 and rng.random() < 0.25:
        start = int(rng.integers(n // 4, 3 * n // 4))
        gap = set(range(start, start + max(1, n // 25)))
    for i in range(n - 1):
        if i in gap:
            continue
        thickness = max(1, int(round(pen * (0.7 + 0.5 * pressure[i]))))
        a, b = (np.round(points[i:i + 2] * 16).astype(np.int32))
        cv2.line(canvas, tuple(map(int, a)), tuple(map(int, b)), float(grey * pressure[i]),
                 thickness=thickness, lineType=cv2.LINE_AA, shift=4)


def _hand(stroke, rng, free=(True, True), shape=1.0):
    """A stroke as one drawing of it: points wobble, free end pieces come out longer or shorter, and
    the curve through them trembles a little (all of it scaled by shape)."""
    s = stroke + shape * rng.normal(0, 0.025, stroke.shape)
    if len(s) >= 2:
        first, last = 1 + shape * rng.uniform(-0.2, 0.2), 1 + shape * rng.uniform(-0.2, 0.2)
        if free[0]:
            s[0] = s[1] + (s[0] - s[1]) * first
        if free[1]:
            s[-1] = s[-2] + (s[-1] - s[-2]) * last
    curve = smooth(s)
    # Tremor: a smooth random offset along the curve, a percent or so of the digit's height.
    t = np.linspace(0, 1, len(curve))[:, None]
    waves = sum(
        rng.normal(0, 0.008 / k, (1, 2)) * np.sin(2 * np.pi * (k * t + rng.random())) for k in (1, 2, 3)
    )
    return curve + shape * waves
