"""A person's next drawings of a digit: variations of one drawing, as the same hand varies it.

Nobody draws a digit the same way twice. The next drawing is slanted or turned a little differently,
narrower or wider, the pen finer or bolder, pressed harder in places, lifted for a moment, drawn on a
smaller or larger canvas; the ends of its strokes come out a little longer or shorter. Learning from a
correction trains on such variations of the corrected drawing (and checks itself on others), so that
what it learns carries to the user's next drawing rather than to this one drawing only.

Two kinds, half of each by default:
- redrawn: the drawing's pen strokes are traced along its skeleton and drawn again by a hand
  (digits/hand.py, the same model of a person's drawings as the writers the project evaluates on): every
  point a little elsewhere, free ends longer or shorter, another pen, slant, canvas;
- warped: the drawing itself bent, sheared, thickened, faded and cut, at 112 px. Tracing from 28
  pixels loses what the strokes hide (a squeezed 8's loops fill in), and the warps keep it.
Each variation is then framed exactly as preprocess frames a drawing (crop, strokes evened out,
longer side 20 px, centred by mass), so it is what the network would see if the user drew it.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from .hand import Habits, any_habits, draw
from .preprocess import centre_by_mass, crop, even_strokes, fit_box, to_uint8

WORK = 112                       # variations are drawn at this size, as the preprocessing works
UPRIGHT_PEN = Habits(slant=0.0, aspect=1.0, pen=0.1, pencil=False, dark_on_light=False)


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
    pressure: float = 0.5        # ink fainter by up to this share where the pen pressed lightly
    lift: float = 0.3            # chance of a short gap where the pen left the paper
    canvas: float = 0.35         # smallest canvas, as a share of WORK: detail lost on a small canvas
    redrawn: float = 0.5         # share of the variations redrawn from the traced strokes (the rest warped)
    shape: float = 1.0           # how much a redrawing's shape varies: 1 as a person's, 0 not at all


def next_drawings(image, n, rng, v=Variation()):
    """n variations of a 28x28 uint8 drawing, like the same person's next drawings after preprocessing:
    (n, 28, 28) uint8, the first round(v.redrawn * n) redrawn from its traced strokes, the rest warped
    (all warped if the strokes could not be traced faithfully). To draw more than once from the same
    drawing, make a NextDrawings once: the tracing is done then, not at every call."""
    return NextDrawings(image).draw(n, rng, v)


class NextDrawings:
    """One drawing, traced once (its strokes, and its crisp enlargement with the stroke ends the warps
    pull on), from which any number of the person's next drawings are made."""

    def __init__(self, image):
        self.strokes, self.free, self.width = strokes_of(image)
        self.faithful = _faithful(image, self.strokes, self.free, self.width)
        big = _enlarged(image)
        self.big = np.clip((big - 0.5) / 0.3 + 0.5, 0, 1)      # soft 28-px edges -> a crisp stroke
        self.ends = stroke_ends(thin(self.big > 0.5))

    def draw(self, n, rng, v=Variation()):
        """n next drawings (n, 28, 28) uint8: see next_drawings."""
        redraws = round(v.redrawn * n) if self.faithful else 0
        out = np.zeros((n, 28, 28), np.uint8)
        for i in range(redraws):
            out[i] = framed(draw(self.strokes, self.width, any_habits(rng), rng, self.free, v.shape))
        out[redraws:] = self.warped(n - redraws, rng, v)
        return out

    def warped(self, n, rng, v=Variation()):
        """n warped variations of the drawing: (n, 28, 28) uint8. Each gets its own slant, turn, width,
        wobble, stroke ends, pen, pressure, pen lift and canvas size, at WORK px (a canvas drawing is
        crisp, so the enlargement was made crisp again)."""
        out = np.zeros((n, 28, 28), np.uint8)
        for i in range(n):
            copy = _pen(_warp(self.big, rng, v, self.ends), rng, v.pen)
            out[i] = framed(_canvas(_lift(_pressure(copy, rng, v.pressure), rng, v.lift), rng, v.canvas))
        return out


def _faithful(image, strokes, free, width, least=0.6, most_strokes=20):
    """Whether the traced strokes are a digit's few strokes that, drawn again as they are, have at least
    `least` times as much ink as the drawing.

    A trace that lost part of the drawing (a squeezed 8 whose loops filled in thins to a line) would
    teach that the lost shape is this digit: a line an 8, and the user's 1s would be read as 8s. A
    drawing that traces to dozens of strokes (noise, a scribble) is not a digit's hand to imitate.
    """
    if not 0 < len(strokes) <= most_strokes:
        return False
    as_traced = framed(draw(strokes, width, UPRIGHT_PEN, np.random.default_rng(0), free, shape=0.0))
    return as_traced.sum(dtype=float) >= least * np.asarray(image).sum(dtype=float)


def _enlarged(image):
    """A 28x28 uint8 drawing as floats in [0, 1] at WORK px (bilinear: its strokes as soft as they were)."""
    return cv2.resize(np.asarray(image, np.float32).reshape(28, 28) / 255, (WORK, WORK),
                      interpolation=cv2.INTER_LINEAR)


def framed(ink):
    """White-on-black ink (H, W) in [0, 1] -> the 28x28 uint8 the network reads, framed as preprocess
    frames a drawing (crop, strokes evened out, longer side 20 px, centred by mass); blank if no ink."""
    if ink.max() <= 0.1:
        return np.zeros((28, 28), np.uint8)
    return to_uint8(centre_by_mass(fit_box(even_strokes(crop(ink)))))


def strokes_of(image, shortest=6):
    """The pen strokes of a 28x28 uint8 drawing, traced along its skeleton at 112 px.

    Returns (strokes, free, width): each stroke an array (k, 2) of points in a box of unit height
    (a few points where the stroke bends: cv2.approxPolyDP), for each stroke whether its first and
    last points are free ends (not junctions with another stroke), and the digit's width as a share
    of its height; ([], [], 0) if nothing can be traced. Pieces shorter than `shortest` pixels with a
    free end are the spurs thinning leaves, not strokes.
    """
    big = _enlarged(image)
    skeleton = thin(_ink(big))
    paths = [(p, f) for p, f in trace(skeleton) if len(p) >= shortest or not any(f)]
    if not paths:
        return [], [], 0.0
    points = [_bends(p) for p, _ in paths]
    lo, hi = np.vstack(points).min(axis=0), np.vstack(points).max(axis=0)
    # A 1 drawn straight has no width to divide by, a dash no height.
    height = max(hi[1] - lo[1], 0.15 * (hi[0] - lo[0]), 1.0)
    width = max(hi[0] - lo[0], 0.15 * height)
    strokes = [np.column_stack([(q[:, 0] - lo[0]) / width, (q[:, 1] - lo[1]) / height]) for q in points]
    return strokes, [f for _, f in paths], float(width / height)


def _bends(path, tolerance=1.5):
    """The few points of a pixel path (k, 2) where it bends (Douglas-Peucker: cv2.approxPolyDP). A
    loop is simplified as two halves: the algorithm measures from the line between the two ends,
    which for a loop are one point, and would drop the way back to the start."""
    if len(path) > 4 and np.abs(path[0] - path[-1]).max() <= 1.5:
        middle = len(path) // 2
        return np.vstack([_bends(path[:middle + 1]), _bends(path[middle:])[1:]])
    return cv2.approxPolyDP(path.reshape(-1, 1, 2), tolerance, False).reshape(-1, 2)


def _ink(big):
    """Which pixels of an enlarged drawing are ink: those at least half as bright as the brightest ink
    around them (a faint pencil stroke counts), or, if that leaves fewer loops open, 70% as bright.

    A loop must stay open: the grey between a squeezed 8's strokes would fill it, a filled loop thins
    to a line, and the 8 would be redrawn as a 1.
    """
    around = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11)))
    masks = [(big > share * around) & (big > 0.1) for share in (0.5, 0.7)]
    return max(masks, key=_loops)


def _loops(mask):
    """How many holes the ink encloses: background regions not connected to the border."""
    regions, _ = cv2.connectedComponents(np.pad(~mask, 1, constant_values=True).astype(np.uint8),
                                         connectivity=4)
    return regions - 2          # minus the label of the ink and that of the background round it


def trace(skeleton):
    """The skeleton's strokes as pixel paths: [(points (k, 2) float32 as (x, y), (free, free))].

    A path runs from a stroke end or a fork to the next end or fork; a loop with neither (an O) is
    walked round from anywhere on it, back to where it started. An end has one run of neighbours, a
    fork three or more (see _crossings); free tells which of a path's two ends are stroke ends.
    """
    on = skeleton.astype(bool)
    runs = _crossings(_neighbours(on.astype(np.uint8)))
    pixels = [(int(x), int(y)) for y, x in np.argwhere(on)]
    nodes = {p for p in pixels if runs[p[1], p[0]] != 2}
    seen, paths = set(), []
    for node in sorted(nodes, key=lambda p: runs[p[1], p[0]] != 1):        # stroke ends first
        paths += [_walk(on, node, q, nodes, seen) for q in _on_around(on, node)
                  if q not in seen and q not in nodes]
    for p in pixels:                                                     # loops with no end or fork
        ahead = [q for q in _on_around(on, p) if q not in seen]
        if p not in seen and p not in nodes and ahead:
            paths.append(_walk(on, p, ahead[0], nodes, seen))
            seen.add(p)
    return [(np.array(path, np.float32), (_is_end(runs, path[0]), _is_end(runs, path[-1])))
            for path in paths]


_STEPS = [(1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (-1, -1), (1, -1)]   # straight steps first


def _on_around(on, p):
    """The skeleton pixels next to p = (x, y), straight neighbours first."""
    (h, w), (x, y) = on.shape, p
    return [(x + dx, y + dy) for dx, dy in _STEPS
            if 0 <= x + dx < w and 0 <= y + dy < h and on[y + dy, x + dx]]


def _walk(on, start, p, nodes, seen):
    """The pixels from `start` through its neighbour p onwards, to the next end or fork (or back to
    start, round a loop); the pixels passed are added to `seen`, so no stroke is walked twice."""
    path, previous = [start], start
    while True:
        path.append(p)
        if p == start or p in nodes:
            return path
        seen.add(p)
        ahead = [q for q in _on_around(on, p) if q != previous and q not in seen
                 and not (q == start and len(path) < 4)]
        if not ahead:
            return path
        stops = [q for q in ahead if q in nodes or q == start]
        previous, p = p, (stops or ahead)[0]


def _is_end(runs, p):
    return bool(runs[p[1], p[0]] <= 1)


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




def _smooth_field(rng, grid=4):
    """A smooth random field over the working image, values about N(0, 1)."""
    field = cv2.resize(rng.standard_normal((grid, grid)).astype(np.float32), (WORK, WORK),
                       interpolation=cv2.INTER_CUBIC)
    return field / (field.std() + 1e-6)


def _pressure(big, rng, most):
    """A pen pressed harder in some places than others: the ink fainter by up to `most` where it was
    pressed lightly (a pencil's grey strokes; the preprocessing rescales the darkest ink to 1)."""
    if not most:
        return big
    light = np.clip(0.5 + 0.5 * _smooth_field(rng), 0, 1) * rng.uniform(0, most)
    return big * (1 - light)


def _lift(big, rng, chance):
    """Sometimes a short gap: the pen left the paper for a moment (never at a stroke's end)."""
    if rng.random() >= chance:
        return big
    inked = np.argwhere(big > 0.5)
    if not len(inked):
        return big
    y, x = inked[rng.integers(len(inked))]
    gap = big.copy()
    cv2.circle(gap, (int(x), int(y)), int(rng.integers(3, 7)), 0.0, -1)
    return gap if gap.sum() > 0.85 * big.sum() else big


def _canvas(big, rng, smallest):
    """Drawn on a smaller canvas: the digit had fewer pixels, so its fine detail is averaged away."""
    side = int(rng.uniform(smallest, 1) * WORK)
    if side >= WORK - 4:
        return big
    small = cv2.resize(big, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (WORK, WORK), interpolation=cv2.INTER_LINEAR)
