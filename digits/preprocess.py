"""From a drawing file to the 28x28 input the network was trained on, one small step at a time.

The network only ever saw MNIST: white ink on black, the digit scaled to fit a 20x20 box (keeping its
shape), anti-aliased, and placed in a 28x28 frame so that its centre of mass sits in the middle. A
drawing from Paint looks nothing like that: a big canvas, the digit somewhere in it, any colours, thin
or thick strokes, sometimes on a dark rectangle inside a light margin or inside a box drawn around it.
Each function below undoes one of those differences, in the order `preprocess` calls them; the
notebook shows the image after every step.

A file is checked before it is decoded: its header gives its size, and a canvas larger than
MAX_PIXELS is refused before it costs any memory; a large one is decoded once, grey where possible,
and shrunk at once.

Working images are float32 arrays with values in [0, 1], 1 = ink.
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from nn.errors import NNError

BOX = 20                 # MNIST scales each digit so its longer side is 20 pixels...
FRAME = 28               # ...and centres it in a 28x28 frame
STROKE = 0.125           # MNIST strokes are about 2.5 px wide in that 20 px box: 1/8 of the longer side
STROKE_RANGE = (0.08, 0.19)   # widths MNIST digits commonly have; outside it we thicken or thin
WORK_SIDE = 112          # resolution (longer side, px) at which stroke width is measured and changed
MAX_SIDE = 1024          # larger drawings are shrunk to this first, to bound time and memory
MAX_PIXELS = 150_000_000  # larger files are refused unread: 150 megapixels is a 12000 x 12500 photo
LARGE_PIXELS = 4_000_000  # above this a file is decoded straight to grey (1 byte a pixel) when it can be
FAINT = 0.2              # ink fainter than this share of the strongest ink is background noise
SPECK = 0.01             # ink blobs smaller than this share of the largest blob are specks
AREA_SIDE = 256          # resolution (longer side, px) at which drawing areas are looked for
HUGS = 0.8               # a region or blob running along this share of its bounding box's border is box-like
PLAIN_LEVELS = 15        # a pixel this close (grey levels of 255) to its neighbourhood's median is plain
TONE_SIDE = 128          # resolution (longer side, px) at which mid-tones are counted
BLANK = (
    "no digit found in {path}: {why}. Draw a digit in white on black (or black on white), "
    "large enough to fill most of the canvas, and save it again."
)
UNREADABLE = "{path} is not an image this program can read: save it as PNG, JPEG or BMP."


@dataclass
class Drawing:
    """The network's input for one drawing, and the image after each step, for showing."""

    image: np.ndarray                     # (28, 28) uint8, ink 255 on 0, exactly like an MNIST digit
    steps: dict = field(default_factory=dict)
    inverted: bool = False                # was it black on white?
    # The ink blobs of the drawing before the strokes are changed, one row each (see ink_parts): x, y,
    # width, height, area, and 1 if the blob sits inside another blob's loop (an eye in a face).
    # one_digit reads this layout: several blobs side by side are several digits.
    parts: np.ndarray = field(default_factory=lambda: np.zeros((0, 6), np.int32))
    framed: bool = False                  # was the digit in a box or on a rectangle smaller than the canvas?
    tones: float = 0.0                    # share of the canvas in mid-tones, as in a photo (see tone_share)


def preprocess(path):
    """Read a drawing file and turn it into an MNIST-like 28x28 uint8 digit (see the module notes)."""
    return preprocess_grey(read_grey(path), name=path)


def preprocess_grey(grey, name="the drawing"):
    """The same steps for a grey image already in memory: (H, W) floats in [0, 1]; `name` for messages."""
    steps = {"read (grey)": grey}
    grey = shrink(grey)
    tones = tone_share(grey)
    area = drawing_area(grey)
    framed = grey[area].shape != grey.shape
    if framed:
        grey = grey[area]
        steps["drawing area"] = grey
    ink, inverted = white_on_black(grey)
    steps["white on black"] = ink
    ink = remove_background(ink, name)
    steps["background removed"] = ink
    ink = keep_digit(ink, name)
    steps["frame and specks removed"] = ink
    digit = crop(ink)
    steps["cropped"] = digit
    parts = ink_parts(digit)
    digit = even_strokes(digit)
    steps["strokes like MNIST's"] = digit
    digit = fit_box(digit)
    steps["scaled to 20 px"] = digit
    image = centre_by_mass(digit)
    steps["centred 28x28"] = image
    return Drawing(image=to_uint8(image), steps=steps, inverted=inverted, parts=parts, framed=framed,
                   tones=tones)


def read_grey(path):
    """Any PNG/JPEG/BMP/... file -> a grey image in [0, 1], at most MAX_SIDE pixels on its longer side.

    Grey, colour, 16-bit and palette images are all read; transparency is flattened onto whichever
    background contrasts with the strokes (see composite_alpha). The size is checked from the file's
    header before anything is decoded (see image_size).
    """
    path = Path(path)
    if path.is_dir():
        raise NNError(f"{path} is a folder, not a drawing: give an image file (PNG, JPEG, BMP, ...).")
    if not path.is_file():
        raise NNError(f"{path} not found: save your drawing there, or give the right path.")
    if path.stat().st_size == 0:
        raise NNError(f"{path} is empty (0 bytes): save the drawing again as PNG.")
    width, height, transparent = image_size(path)
    if width * height > MAX_PIXELS:
        raise NNError(too_large(path, f"{width} x {height} pixels"))
    image = decode(path, width, height, transparent)
    full_scale = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0   # 255, 65535, ...
    image = shrink(image).astype(np.float32) / np.float32(full_scale)
    if image.ndim == 2:
        return image
    channels = image.shape[2]                          # grey + alpha, BGR or BGR + alpha
    grey = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY) if channels >= 3 else image[..., 0]
    return composite_alpha(grey, image[..., -1]) if channels in (2, 4) else grey


def too_large(path, size):
    return (f"{path} is too large to read ({size}; at most {MAX_PIXELS // 1_000_000} megapixels): "
            "save a smaller copy (1000 x 1000 pixels is plenty for a digit) and try again.")


def image_size(path):
    """(width, height, whether it has transparency), from the file's header alone: nothing is decoded.

    A PNG of under 1 MB can declare 30000 x 30000 pixels (a 'decompression bomb'), 900 MB once
    decoded: the header is the only safe thing to read first.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as header:
                mode, info, (width, height) = header.mode, header.info, header.size
    except Image.DecompressionBombError:               # Pillow's own limit, far above ours
        raise NNError(too_large(path, f"over {2 * Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NNError(UNREADABLE.format(path=path)) from None
    return width, height, ("A" in mode or "transparency" in info)


def decode(path, width, height, transparent):
    """The file's pixels: (H, W) or (H, W, channels), BGR order, in the file's own type.

    A small file is decoded as it is. A large one (over LARGE_PIXELS) is decoded only once at full size,
    in the smallest form that keeps what matters: grey, one byte a pixel (a JPEG even at 1/2, 1/4 or
    1/8 size, which its format can do while decoding); with transparency, grey + alpha, shrunk by
    whole-pixel averaging straight away.
    """
    try:
        if width * height <= LARGE_PIXELS:
            image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        elif transparent:
            image = _decode_transparent(path)
        else:
            flag = _grey_flag(path, width, height) | cv2.IMREAD_IGNORE_ORIENTATION   # as a small file
            image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), flag)
    except (cv2.error, OSError, ValueError, SyntaxError):
        image = None
    if image is None or image.size == 0:
        raise NNError(UNREADABLE.format(path=path))
    return image


def _grey_flag(path, width, height):
    """cv2.imdecode's flag for a grey decode; a JPEG is decoded at the smallest of 1/2, 1/4, 1/8 size
    that keeps at least MAX_SIDE pixels (the JPEG decoder averages, so thin lines fade, not vanish)."""
    with open(path, "rb") as f:
        is_jpeg = f.read(3) == b"\xff\xd8\xff"
    reduced = {8: cv2.IMREAD_REDUCED_GRAYSCALE_8, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
               2: cv2.IMREAD_REDUCED_GRAYSCALE_2}
    for factor, flag in reduced.items():
        if is_jpeg and max(width, height) // factor >= MAX_SIDE:
            return flag
    return cv2.IMREAD_GRAYSCALE


def _decode_transparent(path):
    """A large image with transparency -> (H, W, 2) grey + alpha uint8, already shrunk to near MAX_SIDE.

    Pillow decodes it once (4 bytes a pixel), takes its grey and then its alpha plane (1 byte a pixel,
    one at a time) and averages whole blocks of pixels in each (averaging the colour image itself would
    make a second full-size copy with the colours weighted by alpha).
    """
    with Image.open(path) as image:
        colour = image if image.mode == "RGBA" else image.convert("RGBA")   # palette, grey + alpha, ...
        factor = max(1, max(image.size) // MAX_SIDE)
        grey = np.asarray(colour.convert("L").reduce(factor))
        return np.dstack([grey, np.asarray(colour.getchannel("A").reduce(factor))])


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


def drawing_area(grey):
    """The part of the canvas the digit is drawn in, as (row slice, column slice); usually all of it.

    Some drawings sit on a dark rectangle inside a light (or transparent) margin, or inside a box drawn
    around them. Seen in two colours (light and dark), a canvas is a few uniform regions with the
    strokes inside them. A region is a drawing area when it is shaped like a rectangle (it runs along
    nearly all of its bounding box's border, see hugs), and surrounds strokes of the other colour. The
    innermost one is where the digit is: the dark rectangle, or the inside of the drawn box (the box
    itself is a thin ring, mostly empty inside). Regions are looked at AREA_SIDE pixels wide, where
    a block counts as a region's colour only if all of it is, so a thin stroke still divides regions.
    """
    whole = (slice(0, grey.shape[0]), slice(0, grey.shape[1]))
    levels = np.rint(np.clip(grey, 0, 1) * 255).astype(np.uint8)
    if int(levels.max()) - int(levels.min()) < 26:            # no contrast: nothing to find
        return whole
    _, light = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    f = min(1.0, AREA_SIDE / max(grey.shape))                  # the scale regions are looked at
    small = (max(1, round(grey.shape[1] * f)), max(1, round(grey.shape[0] * f)))
    light = cv2.resize(light, small, interpolation=cv2.INTER_AREA)   # 255: all light, 0: all dark
    best = None
    for mask in ((light == 0).astype(np.uint8), (light == 255).astype(np.uint8)):
        # The commoner colour is the background: 4-connected, so a diagonal stroke of the other
        # colour (8-connected) closes a loop, as it does to the eye.
        connectivity = 4 if 2 * mask.sum() >= mask.size else 8
        count, labels, stats, _ = components(mask, connectivity)
        for i in range(1, count):
            x, y, w, h, _ = stats[i]
            if w * h < 0.04 * mask.size or min(w, h) < 0.15 * min(mask.shape) or w * h > 0.95 * mask.size:
                continue                                       # too small to hold a digit, or everything
            inside = x > 0 and y > 0 and x + w < mask.shape[1] and y + h < mask.shape[0]
            box = labels[y:y + h, x:x + w] == i
            if (best is None or w * h < best[4]) and surrounds_strokes(box, 12 - connectivity, inside):
                best = (x, y, x + w, y + h, w * h)
    if best is None:
        return whole
    x0, y0, x1, y1, _ = best
    inset = 1 + 0.01 * max(x1 - x0, y1 - y0)                   # the region's soft border
    return (slice(round((y0 + inset) / f), round((y1 - inset) / f)),
            slice(round((x0 + inset) / f), round((x1 - inset) / f)))


def tone_share(grey):
    """The share of the canvas in mid-tones: pixels between the background and the ink (a fifth to four
    fifths of the way), that also differ from the median of their neighbourhood by more than
    PLAIN_LEVELS (looked at TONE_SIDE pixels wide, in a window an eighth of that).

    A drawing is strokes on a plain background: only the soft edges of its strokes are mid-tones, and
    on a photographed page whose light fades from one side to the other the neighbourhood's median
    follows the fade. Drawings of digits, numbers, letters and scribbles have at most 7% in mid-tones;
    a photo of a face, a scene or a flower has tones everywhere: most have 11-22%.
    """
    small = resize_longer_side(grey, TONE_SIDE) if max(grey.shape) > TONE_SIDE else grey
    levels = np.rint(np.clip(small, 0, 1) * 255).astype(np.uint8)
    background = float(np.median(levels))
    ink = float(np.percentile(levels, 99.5 if background < 128 else 0.5))
    if abs(ink - background) < 26:                             # no contrast: no mid-tones either
        return 0.0
    way = (levels - background) / (ink - background)           # 0 at the background, 1 at the ink
    local = cv2.medianBlur(levels, 2 * (TONE_SIDE // 16) + 1)
    far = np.abs(levels.astype(np.int16) - local) > PLAIN_LEVELS
    return float(np.mean((way > 0.2) & (way < 0.8) & far))


def surrounds_strokes(region, connectivity, inside):
    """Whether a region (a boolean mask in its bounding box) is an area a digit is drawn in: box-shaped,
    mostly itself, with more than a speck of strokes (the other colour) in it.

    Strokes must be in holes of the region, not touching its box's border, so that a stroke running
    out of the canvas is not taken for an area's edge; if the region lies inside the canvas (`inside`),
    strokes may also touch its border (a white digit drawn up to the edge of a black rectangle joins
    the white margin). connectivity: 4 or 8, how the strokes connect.
    """
    h, w = region.shape
    if region.mean() < 0.4 or hugs(region) < HUGS:
        return False
    band = max(1, round(0.02 * max(h, w)))
    if inside:
        strokes = ~region[band:h - band, band:w - band]
    else:
        count, labels, stats, _ = components((~region).astype(np.uint8), connectivity)
        x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        held = (x0 > 0) & (y0 > 0) & (x0 + stats[:, cv2.CC_STAT_WIDTH] < w) \
            & (y0 + stats[:, cv2.CC_STAT_HEIGHT] < h)
        held[0] = False                                        # label 0 is the region itself
        strokes = held[labels]
    if strokes.sum() < 0.002 * h * w:
        return False
    ys, xs = np.nonzero(strokes)
    return max(np.ptp(ys), np.ptp(xs)) + 1 >= 0.15 * min(h, w)


def hugs(mask):
    """The share of a bounding box's border along which the mask runs (within 2% of the box's side).

    1 for a filled rectangle or a rectangular frame; a quarter or less for a round loop such as a 0,
    which touches its box only at four short stretches.
    """
    h, w = mask.shape
    t = max(1, round(0.02 * max(h, w)))
    covered = [mask[:t].any(axis=0), mask[-t:].any(axis=0), mask[:, :t].any(axis=1), mask[:, -t:].any(axis=1)]
    return float(sum(c.sum() for c in covered) / (2 * (h + w)))


def white_on_black(grey):
    """Make ink white and background black; returns (image, whether it was inverted).

    The background is whatever colour dominates the edges of the canvas: a digit rarely covers them.
    """
    inverted = bool(np.median(edges(grey)) > 0.5)
    return (1 - grey if inverted else grey), inverted


def edges(image):
    """The pixels of a band around the canvas (5% of its shorter side): mostly background."""
    h, w = image.shape
    band = max(1, round(0.05 * min(h, w)))
    return np.concatenate([image[:band].ravel(), image[-band:].ravel(),
                           image[:, :band].ravel(), image[:, -band:].ravel()])


def remove_background(ink, path):
    """Stretch so the background is 0 and the ink 1, then zero anything fainter than FAINT.

    The ink level is the brightest 3x3 average, so a single hot pixel cannot set it. Paper texture,
    JPEG ripples and a grey background all end up as exact zeros.
    """
    # Every 9th pixel is plenty for the background; where ink covers more than half of the canvas (a
    # scribble over all of it), the band around the edge still shows the background.
    background = min(float(np.median(ink[::3, ::3])), float(np.median(edges(ink))))
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
    frame or a border line (a digit touches the edge only with the width of a stroke); so is a box
    drawn around the other blobs (it runs along its own bounding box's border and holds them all).
    Frames are dropped unless they are all there is.
    """
    h, w = ink.shape
    count, labels, stats, _ = components((ink > 0).astype(np.uint8), 8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(float)
    areas[0] = 0                                            # label 0 is the background
    keep = areas >= SPECK * areas.max()
    on_edge = np.bincount(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]),
                          minlength=count)
    spans = (stats[:, cv2.CC_STAT_WIDTH] >= 0.9 * w) & (stats[:, cv2.CC_STAT_HEIGHT] >= 0.9 * h)
    frame = spans | (on_edge >= 0.6 * min(h, w)) | _boxes_around(labels, stats, keep)
    if (keep & ~frame).any():
        keep &= ~frame
    if not keep[1:].all():                                  # most drawings: nothing to drop
        ink = np.where(keep[labels], ink, np.float32(0))
    rows, cols = ink_box(ink)
    if max(rows.stop - rows.start, cols.stop - cols.start) < max(3, 0.03 * max(h, w)):
        raise NNError(BLANK.format(path=path, why="only a dot, too small to be a digit"))
    return ink


def _boxes_around(labels, stats, keep):
    """Which blobs are boxes drawn around all the other kept blobs (an open box is missed by
    drawing_area, which needs a closed one): box-shaped (see hugs), and holding the others well inside.
    Only the kept blob with the largest bounding box can hold all the others."""
    boxes = np.zeros(len(stats), bool)
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[:, cv2.CC_STAT_WIDTH], y0 + stats[:, cv2.CC_STAT_HEIGHT]
    i = int(np.argmax(np.where(keep, (x1 - x0) * (y1 - y0), -1)))
    others = keep.copy()
    others[i] = False
    if not others.any():
        return boxes
    margin = 0.02 * max(x1[i] - x0[i], y1[i] - y0[i])
    left, top, right, bottom = x0[others].min(), y0[others].min(), x1[others].max(), y1[others].max()
    inside = (left > x0[i] + margin and right < x1[i] - margin
              and top > y0[i] + margin and bottom < y1[i] - margin)
    if inside and max(right - left, bottom - top) >= 0.25 * min(x1[i] - x0[i], y1[i] - y0[i]):
        boxes[i] = hugs(labels[y0[i]:y1[i], x0[i]:x1[i]] == i) >= HUGS
    return boxes


def ink_parts(ink):
    """The blobs of ink, one row each: x, y, width, height, area, and 1 if the blob sits inside a loop of
    another blob (a hole in it), else 0. (k, 6) int32, largest first; in pixels of the ink shrunk to at
    most AREA_SIDE pixels on its longer side (a pixel there is ink if any of it was)."""
    if max(ink.shape) > AREA_SIDE:
        ink = resize_longer_side(ink, AREA_SIDE)
    solid = (ink > 0).astype(np.uint8)
    count, labels, stats, _ = components(solid, 8)
    # Holes: background pieces (4-connected) that do not reach the edge. A blob touching a hole's
    # outside, not its own, sits in a loop: its top-left pixel's left neighbour is a hole.
    _, gaps, gap_stats, _ = components(1 - solid, 4)
    h, w = solid.shape
    gx0, gy0 = gap_stats[:, cv2.CC_STAT_LEFT], gap_stats[:, cv2.CC_STAT_TOP]
    is_hole = (gx0 > 0) & (gy0 > 0) & (gx0 + gap_stats[:, cv2.CC_STAT_WIDTH] < w) \
        & (gy0 + gap_stats[:, cv2.CC_STAT_HEIGHT] < h)
    # np.nonzero scans row by row, so each blob's first pixel is the leftmost of its top row.
    ys, xs = np.nonzero(labels)
    _, first = np.unique(labels[ys, xs], return_index=True)
    ys, xs = ys[first], xs[first]
    enclosed = (xs > 0) & is_hole[gaps[ys, np.maximum(xs - 1, 0)]]
    parts = np.column_stack([stats[1:], enclosed]).astype(np.int32)
    return parts[np.argsort(-parts[:, 4], kind="stable")]


def components(mask, connectivity):
    """cv2.connectedComponentsWithStats of a 0/1 uint8 mask: (count, labels, stats, centroids).

    A speed trick, kept here: labels are 16-bit where they cannot overflow, which halves the time OpenCV
    takes on a canvas-sized mask (the same labels either way). No mask has more pieces than half its
    pixels (a checkerboard, 4-connected), so up to 131,068 pixels every label fits under 65,536.
    """
    ltype = cv2.CV_16U if mask.size <= 131_068 else cv2.CV_32S
    return cv2.connectedComponentsWithStats(mask, connectivity=connectivity, ltype=ltype)


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
