"""A person's next drawings of a digit: variations of one drawing, as the same hand varies it.

Nobody draws a digit the same way twice. The next drawing is slanted or turned a little differently,
narrower or wider, the pen finer or bolder, pressed harder in places, lifted for a moment, drawn on a
smaller or larger canvas; the ends of its strokes come out a little longer or shorter. Learning from a
correction trains on such variations of the corrected drawing (and checks itself on others), so that
what it learns carries to the user's next drawing rather than to this one drawing only.

Each variation is drawn at 112 px from the 28x28 input and then framed exactly as nn.preprocess frames
a drawing (crop, strokes evened out, longer side 20 px, centred by mass), so it is what the network
would see if the user drew it.
"""

from dataclasses import dataclass

import cv2
import numpy as np

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
    pressure: float = 0.5        # ink fainter by up to this share where the pen pressed lightly
    lift: float = 0.3            # chance of a short gap where the pen left the paper
    canvas: float = 0.35         # smallest canvas, as a share of WORK: detail lost on a small canvas



def next_drawings(image, n, rng, v=Variation()):
    """n variations of a 28x28 uint8 drawing, like the same person's next drawings after preprocessing.

    The drawing is enlarged to 112 px and made crisp again (a canvas drawing is crisp); each variation
    gets its own slant, turn, width, wobble, stroke ends, pen, pressure, pen lift and canvas size, and
    goes through the last steps of
    nn.preprocess (crop, strokes evened out, longer side scaled to 20 px, centred by mass).
    Returns (n, 28, 28) uint8.
    """
    big = cv2.resize(np.asarray(image, np.float32).reshape(28, 28) / 255, (WORK, WORK),
                     interpolation=cv2.INTER_LINEAR)
    big = np.clip((big - 0.5) / 0.3 + 0.5, 0, 1)      # soft 28-px edges -> a crisp stroke, as wide
    skeleton = thin(big > 0.5)
    ends = stroke_ends(skeleton)
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        copy = _pen(_warp(big, rng, v, ends), rng, v.pen)
        copy = _canvas(_lift(_pressure(copy, rng, v.pressure), rng, v.lift), rng, v.canvas)
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
