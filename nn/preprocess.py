"""From a drawing file to the 28x28 input the network was trained on, one small step at a time.

The network only ever saw MNIST: white ink on black, the digit scaled to fit a 20x20 box (keeping its
shape), anti-aliased, and placed in a 28x28 frame so that its centre of mass sits in the middle. A
drawing from Paint looks nothing like that: a big canvas, the digit somewhere in it, any colours, thin
or thick strokes. Each function below undoes one of those differences, in the order `preprocess` calls
them; the notebook shows the image after every step.

Working images are float32 arrays with values in [0, 1], 1 = ink.
"""

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import NNError

BOX = 20                 # MNIST scales each digit so its longer side is 20 pixels...
FRAME = 28               # ...and centres it in a 28x28 frame
STROKE = 0.125           # MNIST strokes are about 2.5 px wide in that 20 px box: 1/8 of the longer side
STROKE_RANGE = (0.08, 0.19)   # widths MNIST digits commonly have; outside it we thicken or thin
WORK_SIDE = 112          # resolution (longer side, px) at which stroke width is measured and changed
MAX_SIDE = 1024          # larger drawings are shrunk to this first, to bound time and memory
FAINT = 0.2              # ink fainter than this share of the strongest ink is background noise
SPECK = 0.01             # ink blobs smaller than this share of the largest blob are specks
BLANK = (
    "no digit found in {path}: {why}. Draw a digit in white on black (or black on white), "
    "large enough to fill most of the canvas, and save it again."
)


@dataclass
class Drawing:
    """The network's input for one drawing, and the image after each step, for showing."""

    image: np.ndarray                     # (28, 28) uint8, ink 255 on 0, exactly like an MNIST digit
    steps: dict = field(default_factory=dict)
    inverted: bool = False                # was it black on white?


def preprocess(path):
    """Read a drawing file and turn it into an MNIST-like 28x28 uint8 digit (see the module notes)."""
    return preprocess_grey(read_grey(path), name=path)


def preprocess_grey(grey, name="the drawing"):
    """The same steps for a grey image already in memory: (H, W) floats in [0, 1]; `name` for messages."""
    steps = {"read (grey)": grey}
    ink, inverted = white_on_black(shrink(grey))
    steps["white on black"] = ink
    ink = remove_background(ink, name)
    steps["background removed"] = ink
    ink = keep_digit(ink, name)
    steps["frame and specks removed"] = ink
    digit = crop(ink)
    steps["cropped"] = digit
    digit = even_strokes(digit)
    steps["strokes like MNIST's"] = digit
    digit = fit_box(digit)
    steps["scaled to 20 px"] = digit
    image = centre_by_mass(digit)
    steps["centred 28x28"] = image
    return Drawing(image=to_uint8(image), steps=steps, inverted=inverted)


def read_grey(path):
    """Any PNG/JPEG/BMP/... file -> a grey image in [0, 1], at most MAX_SIDE pixels on its longer side.

    Grey, colour, 16-bit and palette images are all read; transparency is flattened onto whichever
    background contrasts with the strokes (see composite_alpha).
    """
    path = Path(path)
    if not path.is_file():
        raise NNError(f"{path} not found: save your drawing there, or give the right path.")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0:
        raise NNError(f"{path} is empty (0 bytes): save the drawing again as PNG.")
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise NNError(f"{path} is not an image this program can read: save it as PNG, JPEG or BMP.")
    full_scale = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0   # 255, 65535, ...
    image = shrink(image).astype(np.float32) / np.float32(full_scale)
    if image.ndim == 2:
        return image
    alpha = image[..., 3] if image.shape[2] == 4 else None
    grey = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY) if image.shape[2] >= 3 else image[..., 0]
    return grey if alpha is None else composite_alpha(grey, alpha)


def shrink(image):
    """Shrink so the longer side is at most MAX_SIDE, averaging pixels (thin lines fade, not vanish).

    Done first and in the file's own pixel type, so a huge canvas never exists as floats.
    """
    longer = max(image.shape[:2])
    if longer <= MAX_SIDE:
        return image
    f = MAX_SIDE / longer
    size = (max(1, round(image.shape[1] * f)), max(1, round(image.shape[0] * f)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def composite_alpha(grey, alpha):
    """Flatten a transparent image onto a background that contrasts with its strokes.

    Drawing apps often save strokes on a transparent background, and the colour hidden under the
    transparent pixels is arbitrary (often black, the same as black strokes). So the visible pixels
    decide: dark strokes go onto white, light strokes onto black.
    """
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(grey)
    background = 1.0 if np.median(grey[opaque]) < 0.5 else 0.0
    return grey * alpha + np.float32(background) * (1 - alpha)


def white_on_black(grey):
    """Make ink white and background black; returns (image, whether it was inverted).

    The background is whatever colour dominates the edges of the canvas: a digit rarely covers them.
    """
    h, w = grey.shape
    band = max(1, round(0.05 * min(h, w)))
    edges = np.concatenate([grey[:band].ravel(), grey[-band:].ravel(),
                            grey[:, :band].ravel(), grey[:, -band:].ravel()])
    inverted = bool(np.median(edges) > 0.5)
    return (1 - grey if inverted else grey), inverted


def remove_background(ink, path):
    """Stretch so the background is 0 and the ink 1, then zero anything fainter than FAINT.

    The ink level is the brightest 3x3 average, so a single hot pixel cannot set it. Paper texture,
    JPEG ripples and a grey background all end up as exact zeros.
    """
    background = float(np.median(ink[::3, ::3]))   # every 9th pixel is plenty for the background
    peak = float(cv2.blur(ink, (3, 3)).max())
    if peak - background < 0.1:
        raise NNError(BLANK.format(path=path, why="the image is blank (no contrast)"))
    ink = np.clip((ink - background) / (peak - background), 0, 1)
    ink[ink < FAINT] = 0
    return ink


def keep_digit(ink, path):
    """Drop specks, frames and lines along the edge; keep the strokes of the digit.

    Blobs much smaller than the largest one are specks: dust, a stray click. A blob whose box spans
    nearly the whole canvas, or that runs along the canvas edge for more than half its length, is a
    frame or a border line (a digit touches the edge only with the width of a stroke); it is dropped
    unless it is all there is.
    """
    h, w = ink.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > 0).astype(np.uint8), connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(float)
    areas[0] = 0                                            # label 0 is the background
    keep = areas >= SPECK * areas.max()
    on_edge = np.bincount(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]),
                          minlength=count)
    spans = (stats[:, cv2.CC_STAT_WIDTH] >= 0.9 * w) & (stats[:, cv2.CC_STAT_HEIGHT] >= 0.9 * h)
    frame = spans | (on_edge >= 0.6 * min(h, w))
    if (keep & ~frame).any():
        keep &= ~frame
    ink = np.where(keep[labels], ink, np.float32(0))
    rows, cols = ink_box(ink)
    if max(rows.stop - rows.start, cols.stop - cols.start) < max(3, 0.03 * max(h, w)):
        raise NNError(BLANK.format(path=path, why="only a dot, too small to be a digit"))
    return ink


def ink_box(ink):
    """(row slice, column slice) of the smallest rectangle holding all the ink."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def crop(ink):
    """The smallest rectangle holding all the ink."""
    return ink[ink_box(ink)]


def stroke_width(ink):
    """Average stroke width in pixels: 2 x ink area / ink boundary length (a stroke of length L and
    width w has area L*w and a boundary about 2L long)."""
    solid = (ink > 0.5).astype(np.uint8)
    inner = cv2.erode(solid, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)
    boundary = int(solid.sum()) - int(inner.sum())
    return 2.0 * solid.sum() / max(boundary, 1)


def even_strokes(digit):
    """Rescale to WORK_SIDE and thicken thin strokes or thin thick ones towards MNIST's width.

    A 1-pixel pencil line on a big canvas would shrink to a faint hairline at 20 px, and a wide brush
    to a blob; the network has seen neither. Widening uses a round max filter (dilation), thinning a
    round min filter (erosion); both work on the grey image, so edges stay soft.
    """
    digit = resize_longer_side(digit, WORK_SIDE)
    digit = np.clip(digit / max(float(digit.max()), 1e-6), 0, 1)
    width = stroke_width(digit) / WORK_SIDE
    low, high = STROKE_RANGE
    if width < low:
        digit = cv2.dilate(digit, _disc(round((STROKE - width) * WORK_SIDE)))
    elif width > high:
        # Thin by at most 40% of the width, so that thin parts of the digit are not erased.
        digit = cv2.erode(digit, _disc(round(min(width - STROKE, 0.4 * width) * WORK_SIDE)))
    return crop(digit) if digit.any() else digit


def _disc(diameter):
    d = max(1, int(diameter))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))


def resize_longer_side(image, side):
    """Resize so the longer side is `side` pixels, keeping the shape; averaging when shrinking."""
    h, w = image.shape
    f = side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    interpolation = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def fit_box(digit):
    """Scale the digit so its longer side is 20 px (MNIST's box), anti-aliased by pixel averaging."""
    return resize_longer_side(digit, BOX)


def centre_of_mass(image):
    """(row, column) of the ink's centre of mass: the ink-weighted average pixel position."""
    rows, cols = np.indices(image.shape)
    total = image.sum()
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def centre_by_mass(digit):
    """Place the digit in a 28x28 frame with its centre of mass at pixel (14, 14), where MNIST's are.

    MNIST centres by mass, not by the box: a 7's heavy top bar sits a little above the middle. Sub-pixel
    shifts use bilinear interpolation.
    """
    r, c = centre_of_mass(digit)
    centre = FRAME / 2
    shift = np.float32([[1, 0, centre - c], [0, 1, centre - r]])
    return cv2.warpAffine(digit, shift, (FRAME, FRAME), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_uint8(image):
    """[0, 1] floats -> 0-255 integers, the form MNIST digits are stored in."""
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
