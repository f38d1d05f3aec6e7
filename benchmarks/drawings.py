"""Drawings made the way users make them, for evaluating the drawing pipeline.

Two kinds:
- MNIST test digits re-drawn as Paint canvases: blown up, hardened into solid strokes, placed
  off-centre on a canvas of 280-640 px, in either polarity, some with a soft edge or on a
  transparent background. Made on the fly from MNIST (which is never stored in the repository).
- Hand-made stroke digits: each digit 0-9 as a few pen strokes (points below), jittered, slanted and
  drawn with a thin pencil or a thick brush, like a mouse drawing in Paint.

Each maker returns an image array ready for cv2.imwrite: (H, W) grey, or (H, W, 4) BGRA.
"""

import cv2
import numpy as np

from digits.hand import smooth


def redraw_mnist(digit28, rng, side=None):
    """One MNIST digit (28, 28) uint8 as a user's canvas drawing (side: the canvas's shorter side, default
    280-640 px at random); returns (image, description)."""
    side = side or int(rng.integers(280, 641))
    canvas_h, canvas_w = (side, side) if rng.random() < 0.5 else (side, int(side * rng.uniform(1.2, 2.3)))
    scale = rng.uniform(0.35, 0.85) * min(canvas_h, canvas_w) / 20      # digit height 35-85% of canvas
    big = cv2.resize(digit28, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    soft = rng.random() < 0.3
    ink = (big > 100).astype(np.float32)                                 # hardened: solid strokes
    if soft:
        ink = cv2.GaussianBlur(ink, (0, 0), sigmaX=scale * 0.35)
    ys, xs = np.nonzero(ink > 0.05)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    canvas = np.zeros((canvas_h, canvas_w), np.float32)
    top = int(rng.integers(0, max(1, canvas_h - ink.shape[0])))
    left = int(rng.integers(0, max(1, canvas_w - ink.shape[1])))
    h, w = min(ink.shape[0], canvas_h - top), min(ink.shape[1], canvas_w - left)
    canvas[top:top + h, left:left + w] = ink[:h, :w]
    return _finish(canvas, rng, "soft" if soft else "hard")


# Pen strokes for each digit in a unit box (x right, y down); each stroke a list of points through
# which a smooth curve is drawn.
STROKES = {
    0: [[(0.5, 0.0), (0.12, 0.2), (0.08, 0.55), (0.3, 0.95), (0.7, 0.95), (0.92, 0.55), (0.88, 0.2),
         (0.5, 0.0)]],
    1: [[(0.3, 0.18), (0.55, 0.0), (0.55, 1.0)]],
    2: [[(0.12, 0.25), (0.35, 0.02), (0.7, 0.02), (0.85, 0.28), (0.6, 0.6), (0.1, 1.0), (0.92, 1.0)]],
    3: [[(0.12, 0.12), (0.5, 0.0), (0.85, 0.2), (0.7, 0.42), (0.4, 0.5), (0.8, 0.6), (0.88, 0.85),
         (0.5, 1.0), (0.1, 0.88)]],
    4: [[(0.6, 0.0), (0.08, 0.65), (0.95, 0.65)], [(0.68, 0.3), (0.68, 1.0)]],
    5: [[(0.88, 0.0), (0.2, 0.0), (0.15, 0.45), (0.6, 0.38), (0.9, 0.65), (0.7, 0.95), (0.12, 0.92)]],
    6: [[(0.78, 0.02), (0.35, 0.25), (0.12, 0.65), (0.3, 0.98), (0.75, 0.95), (0.85, 0.68), (0.5, 0.5),
         (0.15, 0.65)]],
    7: [[(0.05, 0.02), (0.95, 0.02), (0.35, 1.0)]],
    8: [[(0.5, 0.48), (0.15, 0.25), (0.5, 0.0), (0.85, 0.25), (0.5, 0.48), (0.12, 0.75), (0.5, 1.0),
         (0.88, 0.75), (0.5, 0.48)]],
    9: [[(0.85, 0.3), (0.5, 0.55), (0.15, 0.3), (0.5, 0.0), (0.85, 0.25), (0.8, 0.6), (0.7, 1.0)]],
}


def stroke_digit(digit, rng, brush=None, side=None):
    """A hand-drawn-looking digit: jittered strokes, thin pencil or thick brush, on a square canvas (side:
    default 280-640 px at random); (image, description)."""
    side = side or int(rng.integers(280, 641))
    canvas = np.zeros((side, side), np.uint8)
    height = rng.uniform(0.45, 0.85) * side
    width = height * (0.45 if digit == 1 else rng.uniform(0.55, 0.75))
    slant = rng.uniform(-0.25, 0.25)
    if brush is None:
        brush = int(rng.choice([1, 2, 3])) if rng.random() < 0.5 else int(height * rng.uniform(0.08, 0.2))
    margin = brush / 2 + 0.08 * height                       # room for the jitter and the brush
    top = rng.uniform(margin, max(margin + 1, side - height - margin))
    left = rng.uniform(margin, max(margin + 1, side - width * (1 + abs(slant)) - margin))
    for stroke in STROKES[digit]:
        points = np.array(stroke) + rng.normal(0, 0.025, (len(stroke), 2))
        curve = smooth(points)
        x = left + (curve[:, 0] + slant * (1 - curve[:, 1])) * width
        y = top + curve[:, 1] * height
        cv2.polylines(canvas, [np.round(np.column_stack([x, y]) * 16).astype(np.int32)], False, 255,
                      thickness=max(1, brush), lineType=cv2.LINE_AA, shift=4)
    return _finish(canvas.astype(np.float32) / 255, rng, f"brush {brush}px")


def _finish(ink, rng, description):
    """Ink in [0, 1] on a canvas -> white-on-black, black-on-white or strokes on transparency."""
    style = rng.choice(["white on black", "black on white", "transparent"], p=[0.4, 0.4, 0.2])
    if style == "white on black":
        image = np.rint(ink * 255).astype(np.uint8)
    elif style == "black on white":
        image = np.rint((1 - ink) * 255).astype(np.uint8)
    else:  # black strokes, background fully transparent (and black underneath, as many apps save it)
        image = np.zeros(ink.shape + (4,), np.uint8)
        image[..., 3] = np.rint(ink * 255).astype(np.uint8)
    return image, f"{description}, {style}"
