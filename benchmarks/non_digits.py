"""Things people draw in Paint that are not one digit, for measuring what the project refuses.

Seven kinds, each a list of makers `maker(rng) -> (image, description)` like benchmarks/drawings.py's
(an image ready for cv2.imwrite, in any of that module's three styles: white on black, black on white,
strokes on transparency):
- noise: a canvas of random static, sprinkled specks, airbrush spray, ink blots;
- scribbles: a tangle of one pen line, a crossing-out zigzag, a row of loops, strokes thrown at random;
- smileys: a face with eyes and a smile, mostly in a circle;
- letters: capital letters that no digit looks like;
- shapes: a star, heart, house, arrow, plus, hash, triangle, square;
- numbers: two to four digits side by side, as pen strokes or as re-drawn MNIST digits, written with
  gaps from a wide space down to touching;
- photos: a crop of one of the real photos that ship with matplotlib and scikit-learn (a portrait, a
  temple, a flower), grey or in colour, as a person might pick the wrong file.

Letters a digit can be mistaken for by anyone (O, I, l, S, Z, B, G, b, q, g) are left out: no reader can
tell them from 0, 1, 5, 2, 8, 6, 9, and a "not a digit" answer to them would be a guess. So is P: it is a
9 as many people in China, Taiwan and Korea write it (benchmarks/styles.py, "backwards 9").
"""

import cv2
import numpy as np

from benchmarks.drawings import STROKES, _finish
from digits.hand import smooth

# Capital letters as pen strokes in a unit box (x right, y down), like drawings.STROKES.
LETTERS = {
    "A": [[(0.05, 1.0), (0.5, 0.0), (0.95, 1.0)], [(0.25, 0.6), (0.75, 0.6)]],
    "E": [[(0.85, 0.0), (0.1, 0.0), (0.1, 1.0), (0.85, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0.0), (0.1, 0.0), (0.1, 1.0)], [(0.1, 0.48), (0.7, 0.48)]],
    "H": [[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.9, 1.0)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.12, 0.0), (0.12, 1.0)], [(0.85, 0.0), (0.12, 0.55)], [(0.35, 0.4), (0.9, 1.0)]],
    "M": [[(0.05, 1.0), (0.1, 0.0), (0.5, 0.6), (0.9, 0.0), (0.95, 1.0)]],
    "N": [[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]],
    "R": [[(0.15, 1.0), (0.15, 0.0), (0.7, 0.02), (0.88, 0.25), (0.7, 0.5), (0.15, 0.52)],
          [(0.45, 0.52), (0.9, 1.0)]],
    "T": [[(0.0, 0.02), (1.0, 0.02)], [(0.5, 0.02), (0.5, 1.0)]],
    "V": [[(0.05, 0.0), (0.5, 1.0), (0.95, 0.0)]],
    "W": [[(0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0)]],
    "X": [[(0.1, 0.0), (0.9, 1.0)], [(0.9, 0.0), (0.1, 1.0)]],
    "Y": [[(0.05, 0.0), (0.5, 0.5), (0.95, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
}
# Shapes people doodle, the same way; a circle is left out (it is a 0).
SHAPES = {
    "star": [[(0.5, 0.0), (0.8, 1.0), (0.0, 0.38), (1.0, 0.38), (0.2, 1.0), (0.5, 0.0)]],
    "heart": [[(0.5, 1.0), (0.1, 0.55), (0.02, 0.25), (0.25, 0.02), (0.5, 0.25), (0.75, 0.02),
               (0.98, 0.25), (0.9, 0.55), (0.5, 1.0)]],
    "house": [[(0.1, 1.0), (0.1, 0.45), (0.9, 0.45), (0.9, 1.0), (0.1, 1.0)],
              [(0.0, 0.5), (0.5, 0.0), (1.0, 0.5)]],
    "arrow": [[(0.0, 0.5), (1.0, 0.5)], [(0.6, 0.15), (1.0, 0.5), (0.6, 0.85)]],
    "plus": [[(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "hash": [[(0.35, 0.0), (0.3, 1.0)], [(0.7, 0.0), (0.65, 1.0)], [(0.0, 0.33), (1.0, 0.33)],
             [(0.0, 0.67), (1.0, 0.67)]],
    "triangle": [[(0.5, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.0)]],
    "square": [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]],
}
LETTER_SIZE = {"M": 1.0, "W": 1.15, "T": 0.85, "V": 0.85, "A": 0.85}   # width / height, else 0.75


def _canvas(rng, wide=1.0):
    """A blank canvas the sizes users make: 280-640 px high, `wide` times (and up to 30% more) as wide."""
    h = int(rng.integers(280, 641))
    return np.zeros((h, int(h * wide * rng.uniform(1.0, 1.3))), np.float32)


def _brush(rng, height):
    """A thin pencil (1-3 px) half the time, else a brush of 8-20% of the drawing's height."""
    return int(rng.choice([1, 2, 3])) if rng.random() < 0.5 else max(1, int(height * rng.uniform(0.08, 0.2)))


def draw_strokes(canvas, strokes, box, rng, brush, jitter=0.025, slant=0.0):
    """Draw unit-box strokes (lists of points) into canvas (float ink in [0, 1]) within
    box = (left, top, width, height), each as a smooth jittered pen line `brush` px wide."""
    left, top, width, height = box
    ink = np.zeros(canvas.shape, np.uint8)
    for stroke in strokes:
        points = np.array(stroke, float) + rng.normal(0, jitter, (len(stroke), 2))
        curve = smooth(points) if len(stroke) > 2 else points
        x = left + (curve[:, 0] + slant * (1 - curve[:, 1])) * width
        y = top + curve[:, 1] * height
        cv2.polylines(ink, [np.round(np.column_stack([x, y]) * 16).astype(np.int32)], False, 255,
                      thickness=max(1, brush), lineType=cv2.LINE_AA, shift=4)
    np.maximum(canvas, ink.astype(np.float32) / 255, out=canvas)
    return canvas


def _place(canvas, rng, aspect, fill=(0.45, 0.85)):
    """A random box (left, top, width, height) for a drawing of width/height `aspect` on the canvas."""
    h, w = canvas.shape
    height = rng.uniform(*fill) * min(h, w / aspect)
    width = height * aspect
    return rng.uniform(0.05 * w, max(0.05 * w + 1, 0.95 * w - width)), \
        rng.uniform(0.05 * h, max(0.05 * h + 1, 0.95 * h - height)), width, height


# --- noise ---------------------------------------------------------------------------------------

def static(rng):
    """Random grey static over the whole canvas, the issue's 'image of random noise'."""
    canvas = _canvas(rng)
    canvas[:] = rng.random(canvas.shape)
    if rng.random() < 0.5:                                   # coarser grain: noise drawn small, blown up
        small = rng.random((canvas.shape[0] // 8, canvas.shape[1] // 8))
        canvas[:] = cv2.resize(small.astype(np.float32), canvas.shape[::-1], interpolation=cv2.INTER_NEAREST)
    return _finish(canvas, rng, "static")


def specks(rng):
    """Dots sprinkled at random over the canvas (covering 1-20% of it), single pixels or small dabs."""
    canvas = _canvas(rng)
    size = int(rng.choice([1, 3, 5, 9]))
    dots = rng.random(canvas.shape) < rng.uniform(0.01, 0.2) / size**2
    canvas[:] = cv2.dilate(dots.astype(np.uint8), np.ones((size, size), np.uint8)).astype(np.float32)
    return _finish(canvas, rng, f"specks {size}px")


def spray(rng):
    """Paint's airbrush: clouds of fine dots sprayed along a few random paths."""
    canvas = _canvas(rng)
    h, w = canvas.shape
    radius = rng.uniform(0.04, 0.12) * min(h, w)
    for _ in range(int(rng.integers(1, 5))):
        path = smooth(rng.uniform(0.1, 0.9, (int(rng.integers(2, 6)), 2)))
        for x, y in path:
            n = int(rng.integers(40, 200))
            r = radius * np.sqrt(rng.random(n))
            a = rng.uniform(0, 2 * np.pi, n)
            xs = np.clip(np.round(x * w + r * np.cos(a)), 0, w - 1).astype(int)
            ys = np.clip(np.round(y * h + r * np.sin(a)), 0, h - 1).astype(int)
            canvas[ys, xs] = 1
    return _finish(canvas, rng, "spray")


def blots(rng):
    """Ink blots: smooth random noise cut at a level, so blobs of any shape cover part of the canvas."""
    canvas = _canvas(rng)
    h, w = canvas.shape
    grain = int(rng.integers(4, 24))
    field = cv2.resize(rng.random((grain, max(2, grain * w // h))).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    canvas[:] = field > np.quantile(field, rng.uniform(0.6, 0.9))
    return _finish(canvas, rng, f"blots grain {grain}")


# --- scribbles -------------------------------------------------------------------------------------

def tangle(rng):
    """One pen line wandering through 8-25 random points: the scribble of someone testing the pen."""
    canvas = _canvas(rng)
    box = _place(canvas, rng, rng.uniform(0.7, 1.5))
    points = [list(map(tuple, rng.uniform(0, 1, (int(rng.integers(8, 26)), 2))))]
    brush = _brush(rng, box[3] * 0.6)
    return _finish(draw_strokes(canvas, points, box, rng, brush, jitter=0), rng, f"tangle, brush {brush}px")


def zigzag(rng):
    """Back and forth strokes, as when crossing something out."""
    canvas = _canvas(rng)
    box = _place(canvas, rng, rng.uniform(0.8, 2.0))
    n = int(rng.integers(4, 12))
    xs = np.where(np.arange(n) % 2 == 0, 0.0, 1.0)
    points = np.column_stack([xs, np.linspace(0, 1, n)]) + rng.normal(0, 0.04, (n, 2))
    if rng.random() < 0.5:
        points = points[:, ::-1]                                # up and down instead
    brush = _brush(rng, box[3] * 0.5)
    canvas = draw_strokes(canvas, [points], box, rng, brush, jitter=0)
    return _finish(canvas, rng, f"zigzag, brush {brush}px")


def loops(rng):
    """A row of loops, like cursive 'eeee' or a spring."""
    canvas = _canvas(rng)
    n = int(rng.integers(3, 8))
    box = _place(canvas, rng, n * rng.uniform(0.3, 0.5))
    t = np.linspace(0, 2 * np.pi * n, 40 * n)
    x = (t / (2 * np.pi) + 0.6 * np.cos(t + np.pi)) / (n + 0.6) + 0.3 / (n + 0.6)
    y = 0.5 - 0.45 * np.sin(t)
    brush = _brush(rng, box[3] * 0.4)
    canvas = draw_strokes(canvas, [np.column_stack([x, y])[::4]], box, rng, brush, jitter=0.005)
    return _finish(canvas, rng, f"{n} loops, brush {brush}px")


def thrown_strokes(rng):
    """Three to seven short strokes thrown at random over the canvas."""
    canvas = _canvas(rng)
    brush = _brush(rng, min(canvas.shape) * 0.5)
    for _ in range(int(rng.integers(3, 8))):
        box = _place(canvas, rng, rng.uniform(0.5, 2), fill=(0.15, 0.5))
        stroke = [tuple(p) for p in rng.uniform(0, 1, (int(rng.integers(2, 5)), 2))]
        draw_strokes(canvas, [stroke], box, rng, brush, jitter=0)
    return _finish(canvas, rng, f"thrown strokes, brush {brush}px")


# --- shapes ----------------------------------------------------------------------------------------

def smiley(rng):
    """A face: a circle (most of the time), two eyes (dots or small rings) and a smiling mouth."""
    canvas = _canvas(rng)
    box = _place(canvas, rng, rng.uniform(0.9, 1.1))
    brush = _brush(rng, box[3] * 0.5)
    circle = [(0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 13)]
    mouth = [(0.5 + 0.3 * np.cos(a), 0.5 + 0.25 * np.sin(a)) for a in np.linspace(0.2, 0.8, 6) * np.pi]
    face = rng.random() < 0.8
    strokes = ([circle] if face else []) + [mouth]
    left, top, width, height = box
    canvas = draw_strokes(canvas, strokes, box, rng, brush, jitter=0.015)
    eye = max(brush, 0.06 * height)
    for ex in (0.35, 0.65):
        centre = (round(left + ex * width), round(top + 0.35 * height))
        if rng.random() < 0.6:                                  # a filled dot
            ink = np.zeros(canvas.shape, np.uint8)
            cv2.circle(ink, centre, max(1, round(eye)), 255, -1, lineType=cv2.LINE_AA)
            np.maximum(canvas, ink / np.float32(255), out=canvas)
        else:                                                   # a small ring
            draw_strokes(canvas, [circle], (centre[0] - eye * 1.5, centre[1] - eye * 1.5, eye * 3, eye * 3),
                         rng, max(1, brush // 2), jitter=0.02)
    return _finish(canvas, rng, f"smiley{'' if face else ' without a face'}, brush {brush}px")


def letter(rng, name=None):
    """A capital letter that no digit looks like, drawn like drawings.stroke_digit draws digits."""
    name = name or str(rng.choice(sorted(LETTERS)))
    canvas = _canvas(rng)
    box = _place(canvas, rng, LETTER_SIZE.get(name, 0.75) * rng.uniform(0.85, 1.15))
    brush = _brush(rng, box[3])
    canvas = draw_strokes(canvas, LETTERS[name], box, rng, brush, slant=rng.uniform(-0.2, 0.2))
    return _finish(canvas, rng, f"letter {name}, brush {brush}px")


def shape(rng, name=None):
    """A doodled shape: star, heart, house, arrow, plus, hash, triangle or square."""
    name = name or str(rng.choice(sorted(SHAPES)))
    canvas = _canvas(rng)
    box = _place(canvas, rng, rng.uniform(0.8, 1.25))
    brush = _brush(rng, box[3])
    return _finish(draw_strokes(canvas, SHAPES[name], box, rng, brush), rng, f"{name}, brush {brush}px")


# --- numbers -------------------------------------------------------------------------------------

def _gaps(rng, k, width):
    """k-1 spaces between digits of this width: from wide (60%) down to touching or overlapping (-10%)."""
    return rng.uniform(-0.1, 0.6, k - 1) * width


def stroke_number(rng):
    """Two to four pen-stroke digits side by side, one brush, one slant: a number like 42 or 2024."""
    k = int(rng.choice([2, 2, 3, 4]))
    digits = rng.integers(0, 10, k)
    canvas = _canvas(rng, wide=1 + 0.35 * k)
    h, w = canvas.shape
    height = rng.uniform(0.4, 0.75) * h
    widths = [height * (0.45 if d == 1 else rng.uniform(0.55, 0.75)) for d in digits]
    gaps = _gaps(rng, k, height * 0.6)
    total = sum(widths) + gaps.sum()
    scale = min(1.0, 0.9 * w / total)
    height, widths, gaps = height * scale, [x * scale for x in widths], gaps * scale
    left = rng.uniform(0.03 * w, max(0.03 * w + 1, w - total * scale - 0.03 * w))
    top = rng.uniform(0.05 * h, max(0.05 * h + 1, 0.95 * h - height))
    brush, slant = _brush(rng, height), rng.uniform(-0.2, 0.2)
    for d, width, gap in zip(digits, widths, np.append(gaps, 0), strict=True):
        draw_strokes(canvas, STROKES[int(d)], (left, top + rng.normal(0, 0.03) * height, width, height), rng,
                     brush, slant=slant)
        left += width + gap
    return _finish(canvas, rng, f"pen number {''.join(map(str, digits))}, brush {brush}px")


def mnist_number(rng, digits28):
    """Two or three MNIST digits (each (28, 28) uint8) re-drawn side by side, like drawings.redraw_mnist
    re-draws one: blown up, hardened into solid strokes, on a canvas."""
    k = len(digits28)
    canvas = _canvas(rng, wide=1 + 0.35 * k)
    h, w = canvas.shape
    scale = rng.uniform(0.35, 0.7) * h / 20
    pieces = []
    for digit in digits28:
        big = cv2.resize(digit, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) > 100
        ys, xs = np.nonzero(big)
        pieces.append(big[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32))
    gaps = _gaps(rng, k, 0.6 * 20 * scale)
    total = sum(p.shape[1] for p in pieces) + gaps.sum()
    left = int(rng.uniform(0.03 * w, max(0.03 * w + 1, w - total - 0.03 * w)))
    base = int(rng.uniform(0.05 * h, max(0.05 * h + 1, 0.95 * h - 20 * scale)))
    for piece, gap in zip(pieces, np.append(gaps, 0), strict=True):
        top = base + int(rng.normal(0, 0.03) * 20 * scale)
        ph, pw = min(piece.shape[0], h - max(top, 0)), min(piece.shape[1], w - max(left, 0))
        if ph > 0 and pw > 0 and left >= 0 and top >= 0:
            region = canvas[top:top + ph, left:left + pw]
            np.maximum(region, piece[:ph, :pw], out=region)
        left += piece.shape[1] + int(gap)
    return _finish(canvas, rng, f"MNIST number, {k} digits")


def sample_photos():
    """The real photos that ship with two of the project's dependencies."""
    from pathlib import Path

    import matplotlib
    import sklearn

    images = Path(sklearn.__file__).parent / "datasets" / "images"
    return [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg",
            images / "china.jpg", images / "flower.jpg"]


def photo(rng):
    """A random crop (40-100% of each side) of a sample photo, 280-640 px on its longer side."""
    path = sample_photos()[int(rng.integers(3))]
    image = cv2.imread(str(path), cv2.IMREAD_COLOR if rng.random() < 0.5 else cv2.IMREAD_GRAYSCALE)
    h, w = image.shape[:2]
    ch, cw = int(h * rng.uniform(0.4, 1.0)), int(w * rng.uniform(0.4, 1.0))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = image[y:y + ch, x:x + cw]
    side = int(rng.integers(280, 641))
    f = side / max(ch, cw)
    return cv2.resize(crop, (max(1, round(cw * f)), max(1, round(ch * f))), interpolation=cv2.INTER_AREA), \
        f"photo {path.stem}, {cw}x{ch} crop"


KINDS = {
    "noise": [static, specks, spray, blots],
    "scribbles": [tangle, zigzag, loops, thrown_strokes],
    "smileys": [smiley],
    "letters": [letter],
    "shapes": [shape],
    "numbers": [stroke_number],        # plus mnist_number, which needs MNIST digits
    "photos": [photo],
}


def make(kind, rng, mnist=None):
    """One drawing of a kind in KINDS, by one of its makers chosen at random; (image, description).
    mnist: (m, 28, 28) uint8 digits to make half of the numbers from, or None (pen strokes only)."""
    makers = KINDS[kind]
    if kind == "numbers" and mnist is not None and rng.random() < 0.5:
        picks = rng.choice(len(mnist), int(rng.choice([2, 2, 3])), replace=False)
        return mnist_number(rng, mnist[picks])
    return makers[int(rng.integers(len(makers)))](rng)
