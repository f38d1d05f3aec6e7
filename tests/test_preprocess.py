"""The drawing pipeline: a drawing anywhere, any size, any polarity or file type becomes the same
MNIST-like 28x28 input; a digit on a rectangle or in a box is found; image bombs are refused before
they are decoded; bad files give clear messages."""

import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from benchmarks.drawings import stroke_digit
from digits.paths import shipped_model
from digits.preprocess import MAX_PIXELS, centre_of_mass, components, preprocess
from nn import NNError
from nn.network import scale_pixels
from nn.persist import load_model

from .conftest import ROOT


@pytest.fixture(scope="module")
def net():
    with threadpool_limits(limits=1, user_api="blas"):    # one drawing at a time: more threads only wait
        yield load_model(shipped_model())


def read_digit(net, path_or_image, tmp_path=None):
    """The digit the shipped network reads in a drawing file (or an image, written to tmp_path first)."""
    path = path_or_image if tmp_path is None else save(tmp_path, "drawing.png", path_or_image)
    return int(net.predict_proba(scale_pixels(preprocess(path).image[None]))[0].argmax())


def three(size=280, scale=1.0, offset=(0, 0), brush=16):
    """A white-on-black '3' of known shape, scaled and moved on its canvas."""
    canvas = np.zeros((size, size), np.uint8)
    points = np.array([(90, 60), (150, 45), (190, 80), (160, 130), (120, 140), (180, 160), (195, 200),
                       (150, 235), (90, 220)], float)
    points = (points - 140) * scale + size / 2 + np.array(offset)
    cv2.polylines(canvas, [np.round(points * 16).astype(np.int32)], False, 255,
                  thickness=max(1, round(brush * scale)), lineType=cv2.LINE_AA, shift=4)
    return canvas


def save(tmp_path, name, image, *params):
    path = tmp_path / name
    assert cv2.imwrite(str(path), image, list(params))
    return path


def reference(tmp_path):
    return preprocess(save(tmp_path, "ref.png", three())).image.astype(float)


def difference(a, b):
    """Mean absolute difference in grey levels (0-255)."""
    return float(np.mean(np.abs(a.astype(float) - b.astype(float))))


@pytest.mark.parametrize("variant", [
    dict(offset=(-60, 30)), dict(offset=(70, -20)), dict(scale=0.5), dict(scale=1.6, size=560),
])
def test_moved_or_scaled_digit_gives_the_same_input(tmp_path, variant):
    ref = reference(tmp_path)
    size = variant.pop("size", 280)
    out = preprocess(save(tmp_path, "v.png", three(size=size, **variant))).image
    assert difference(out, ref) < 6, variant


def test_inverted_digit_gives_the_same_input_and_is_reported(tmp_path):
    ref = reference(tmp_path)
    drawing = preprocess(save(tmp_path, "inv.png", 255 - three()))
    assert drawing.inverted
    assert difference(drawing.image, ref) < 1


def test_centre_of_mass_is_at_the_centre_and_ink_fits_20x20(tmp_path):
    for i, image in enumerate([three(offset=(-80, 40)), three(scale=0.4), three(brush=2)]):
        out = preprocess(save(tmp_path, f"c{i}.png", image)).image
        r, c = centre_of_mass(out.astype(float))
        assert abs(r - 14) < 0.5 and abs(c - 14) < 0.5, (r, c)
        ys, xs = np.nonzero(out > 0)
        assert np.ptp(ys) + 1 <= 22 and np.ptp(xs) + 1 <= 22  # 20 px plus bilinear spill at sub-pixel shifts


def test_thin_pencil_and_thick_brush_come_out_with_similar_strokes(tmp_path):
    ref = reference(tmp_path)
    thin = preprocess(save(tmp_path, "thin.png", three(brush=1))).image
    thick = preprocess(save(tmp_path, "thick.png", three(brush=45))).image
    for out in (thin, thick):
        ink_ratio = out.sum() / ref.sum()
        assert 0.6 < ink_ratio < 1.6, ink_ratio


def test_transparent_background_is_read_as_the_drawing(tmp_path):
    ink = three()
    rgba = np.zeros(ink.shape + (4,), np.uint8)       # black strokes, transparent, black underneath
    rgba[..., 3] = ink
    out = preprocess(save(tmp_path, "alpha.png", rgba)).image
    assert difference(out, reference(tmp_path)) < 1


def test_white_strokes_on_transparency_are_read_too(tmp_path):
    ink = three()
    rgba = np.full(ink.shape + (4,), 255, np.uint8)
    rgba[..., 3] = ink
    out = preprocess(save(tmp_path, "white_alpha.png", rgba)).image
    assert difference(out, reference(tmp_path)) < 1


@pytest.mark.parametrize("name, convert", [
    ("colour.png", lambda g: cv2.merge([g // 2, g, g])),                      # coloured ink
    ("sixteen.png", lambda g: g.astype(np.uint16) * 257),                     # 16-bit grey
    ("photo.jpg", lambda g: g),
    ("paint.bmp", lambda g: cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)),
    ("grey_bg.png", lambda g: (60 + g.astype(np.uint16) * 150 // 255).astype(np.uint8)),
])
def test_file_types_and_colours_give_the_same_input(tmp_path, name, convert):
    out = preprocess(save(tmp_path, name, convert(three()))).image
    assert difference(out, reference(tmp_path)) < 3


def test_palette_png_is_read(tmp_path):
    from PIL import Image

    path = tmp_path / "palette.png"
    Image.fromarray(three()).convert("P", palette=Image.ADAPTIVE, colors=16).save(path)
    assert difference(preprocess(path).image, reference(tmp_path)) < 3


def test_frame_and_specks_are_ignored(tmp_path):
    image = three()
    cv2.rectangle(image, (3, 3), (276, 276), 255, 3)        # a frame around the canvas
    image[20:23, 250:253] = 255                             # a stray click
    assert difference(preprocess(save(tmp_path, "framed.png", image)).image, reference(tmp_path)) < 2


def stroke_ink(digit, brush):
    """A pen-stroke digit as white ink on black, (H, W) uint8, the same for the same arguments."""
    image, _ = stroke_digit(digit, np.random.default_rng(100 + digit), brush)
    if image.ndim == 3:
        return image[..., 3]                                  # strokes on transparency: the alpha
    return 255 - image if image[0, 0] > 127 else image


def on_dark_rectangle(ink):
    """The drawing on a black rectangle inside a wide white margin."""
    canvas = np.full((ink.shape[0] + 160, ink.shape[1] + 260), 255, np.uint8)
    canvas[60:60 + ink.shape[0], 140:140 + ink.shape[1]] = ink
    return canvas


def on_dark_rectangle_in_transparency(ink):
    """The same rectangle, opaque, on a transparent canvas (transparent pixels black underneath)."""
    canvas = np.zeros((ink.shape[0] + 160, ink.shape[1] + 260, 4), np.uint8)
    canvas[60:60 + ink.shape[0], 140:140 + ink.shape[1]] = cv2.merge([ink, ink, ink, np.full_like(ink, 255)])
    return canvas


def in_a_drawn_box(ink, line=3):
    """Black on white, with a rectangle drawn around the digit at some distance."""
    canvas = np.full((ink.shape[0] + 100, ink.shape[1] + 160), 255, np.uint8)
    canvas[50:50 + ink.shape[0], 80:80 + ink.shape[1]] = 255 - ink
    cv2.rectangle(canvas, (40, 20), (ink.shape[1] + 120, ink.shape[0] + 80), 0, line)
    return canvas


def in_an_open_box(ink):
    """A box drawn by hand around the digit that does not quite close (a gap at its top left)."""
    canvas = in_a_drawn_box(ink, line=2)
    canvas[15:26, 40:90] = 255
    return canvas


def touching_the_edge(ink):
    """The digit moved until it touches the canvas's top and left edges."""
    ys, xs = np.nonzero(ink)
    return np.roll(ink, (-ys.min(), -xs.min()), axis=(0, 1))


FRAMINGS = [on_dark_rectangle, on_dark_rectangle_in_transparency, in_a_drawn_box, in_an_open_box,
            touching_the_edge]


@pytest.mark.parametrize("framing", FRAMINGS, ids=lambda f: f.__name__)
def test_a_digit_in_a_frame_is_read_like_the_digit_alone(tmp_path, net, framing):
    for digit in range(10):
        ink = stroke_ink(digit, brush=(2, 12, 25)[digit % 3])
        assert read_digit(net, ink, tmp_path) == digit        # the model reads it without the frame...
        assert read_digit(net, framing(ink), tmp_path) == digit, digit      # ...and with it


@pytest.mark.parametrize("brush", [3, 20, 40])
def test_a_digit_running_from_edge_to_edge_is_read(tmp_path, net, brush):
    one = np.zeros((300, 300), np.uint8)                      # a 1 from the top edge to the bottom edge
    cv2.polylines(one, [np.array([(110, 40), (140, 0), (160, 299)])], False, 255, brush)
    seven = np.zeros((300, 300), np.uint8)                    # a 7 whose bar runs across the whole canvas
    cv2.polylines(seven, [np.array([(0, 150), (250, 150), (120, 299)])], False, 255, brush)
    assert read_digit(net, one, tmp_path) == 1 and read_digit(net, 255 - one, tmp_path) == 1
    assert read_digit(net, seven, tmp_path) == 7 and read_digit(net, 255 - seven, tmp_path) == 7


@pytest.mark.parametrize("framing", [on_dark_rectangle, on_dark_rectangle_in_transparency, in_a_drawn_box],
                         ids=lambda f: f.__name__)
def test_the_drawing_area_is_found_before_polarity_and_cropping(tmp_path, framing):
    ink = stroke_ink(3, brush=12)
    drawing = preprocess(save(tmp_path, "framed.png", framing(ink)))
    alone = preprocess(save(tmp_path, "alone.png", ink))
    assert drawing.framed and "drawing area" in drawing.steps
    assert drawing.inverted == (framing is in_a_drawn_box)    # black on white inside the box
    assert drawing.steps["drawing area"].shape[0] < ink.shape[0] + 60     # the margin is gone
    assert difference(drawing.image, alone.image) < 4


def test_a_large_zero_is_not_taken_for_a_frame(tmp_path):
    for brush in (3, 25, 40):
        ink = stroke_ink(0, brush)
        drawing = preprocess(save(tmp_path, "zero.png", ink))
        assert not drawing.framed and "drawing area" not in drawing.steps, brush


def test_parts_give_the_layout_of_the_ink_before_cropping(tmp_path):
    one, two = stroke_ink(1, brush=12), stroke_ink(2, brush=12)
    h = max(one.shape[0], two.shape[0])
    number = np.hstack([np.pad(ink, ((0, h - ink.shape[0]), (0, 0))) for ink in (one, two)])
    parts = preprocess(save(tmp_path, "twelve.png", number)).parts
    assert len(parts) == 2 and parts[:, 5].sum() == 0
    (xa, ya, wa, ha, *_), (xb, yb, wb, hb, *_) = parts[np.argsort(parts[:, 0])]
    assert xa + wa < xb                                       # side by side, not overlapping
    assert min(ha, hb) > 0.5 * max(ha, hb)

    face = np.zeros((300, 300), np.uint8)
    cv2.circle(face, (150, 150), 120, 255, 6)
    for x in (110, 190):
        cv2.circle(face, (x, 120), 12, 255, -1)
    cv2.ellipse(face, (150, 170), (60, 40), 0, 20, 160, 255, 6)
    parts = preprocess(save(tmp_path, "face.png", face)).parts
    assert len(parts) == 4 and parts[:, 5].sum() == 3         # eyes and mouth inside the face's loop
    assert parts[0, 5] == 0                                   # the face itself, the largest, is not


@pytest.mark.parametrize("make, message", [
    (lambda p: cv2.imwrite(str(p), np.zeros((280, 280), np.uint8)), "no digit found.*blank"),
    (lambda p: cv2.imwrite(str(p), np.full((280, 280), 255, np.uint8)), "no digit found.*blank"),
    (lambda p: cv2.imwrite(str(p), (np.random.default_rng(0).random((280, 280)) * 20).astype(np.uint8)),
     "no digit found"),
    (lambda p: cv2.imwrite(str(p), np.pad(np.full((2, 2), 255, np.uint8), 139)), "no digit found.*dot"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(b"this is not an image"), "not an image"),
    (lambda p: None, "not found"),
])
def test_bad_drawings_give_a_clear_message(tmp_path, make, message):
    path = tmp_path / "test_image.png"
    make(path)
    with pytest.raises(NNError, match=message) as error:
        preprocess(path)
    assert "test_image.png" in str(error.value)


def test_truncated_png_gives_a_clear_message(tmp_path):
    path = save(tmp_path, "cut.png", three())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(NNError, match="not an image this program can read"):
        preprocess(path)


def png_bomb(path, width, height):
    """A valid grey PNG of width x height black pixels in very few bytes: a 'decompression bomb'.

    Its compressed rows are one deflate block repeated (a full flush makes each copy stand alone), so
    a 30000 x 30000 image (900 MB decoded) takes under 1 MB and a fraction of a second to write.
    """
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = bytes(width + 1)                                   # filter byte 0, then black pixels
    packer = zlib.compressobj(9)
    block = packer.compress(row * 100) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeats, rest = divmod(height, 100)
    data = block[:2] + block[2:] * repeats + tail.compress(row * rest) + tail.flush()
    data += struct.pack(">I", (((width + 1) * height % 65521) << 16) | 1)   # adler-32 of all zeros
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


MEASURE = r"""
import re, sys, time
from nn.errors import NNError
from digits.preprocess import preprocess

def peak_mb():  # this process's own peak (ru_maxrss would include the parent's, kept across exec)
    return int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) // 1024

before = peak_mb()
start = time.perf_counter()
try:
    preprocess(sys.argv[1])
    outcome = "read"
except NNError as e:
    outcome = str(e)
seconds = time.perf_counter() - start
print(peak_mb(), peak_mb() - before, round(seconds, 3), outcome, sep="\n")
"""


def measured(path):
    """Read a drawing in a fresh Python: (peak MB, MB beyond what the imports took, seconds, outcome)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the peak memory is read from /proc/self/status")
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    peak, extra, seconds, outcome = result.stdout.split("\n", 3)
    return int(peak), int(extra), float(seconds), outcome.strip()


def test_image_bomb_is_refused_from_its_header_quickly_and_without_memory(tmp_path):
    path = png_bomb(tmp_path / "bomb.png", 30000, 30000)
    assert path.stat().st_size < 1_000_000
    small = cv2.imread(str(png_bomb(tmp_path / "small.png", 300, 201)), cv2.IMREAD_UNCHANGED)
    assert small.shape == (201, 300) and small.max() == 0          # the same recipe makes a valid PNG
    peak, extra, seconds, outcome = measured(path)
    assert "bomb.png is too large to read" in outcome and "save a smaller copy" in outcome
    assert extra < 20 and peak < 300, (peak, extra)     # 900 MB if it were decoded
    assert seconds < 1


def test_a_canvas_over_the_pixel_limit_is_refused_with_its_size(tmp_path):
    side = int(MAX_PIXELS ** 0.5) + 100
    limit = f"{side} x {side} pixels; at most {MAX_PIXELS // 1_000_000} megapixels"
    with pytest.raises(NNError, match=limit) as error:
        preprocess(png_bomb(tmp_path / "big.png", side, side))
    assert "big.png" in str(error.value)


def huge_three(side):
    """A black-on-white 3 filling most of a side x side canvas."""
    ink = np.zeros((side, side), np.uint8)
    inner = side * 6 // 7
    start = (side - inner) // 2
    ink[start:start + inner, start:start + inner] = cv2.resize(three(), (inner, inner))
    return ink


@pytest.mark.parametrize("kind, side, limit_mb", [
    ("grey.png", 6000, 2.2), ("grey.png", 8000, 2.2), ("colour.jpg", 4000, 0.5),
    ("transparent.png", 4000, 5.2),
])
def test_huge_canvas_is_read_right_in_bounded_memory(tmp_path, net, kind, side, limit_mb):
    ink = huge_three(side)
    if kind == "grey.png":
        image = 255 - ink
    elif kind == "colour.jpg":
        image = cv2.merge([255 - ink, 255 - ink // 2, 255 - ink])
    else:
        image = np.zeros((side, side, 4), np.uint8)           # black strokes on transparency
        image[..., 3] = ink
    path = save(tmp_path, kind, image)
    del ink, image
    peak, extra, seconds, outcome = measured(path)
    assert outcome == "read"
    # About 40 MB for the steps at 1024 x 1024 (floats), plus the decoded file, in bytes per pixel: a grey
    # decode is held twice inside OpenCV; a JPEG is decoded at half size or less; a transparent image is
    # 4 bytes a pixel plus its grey and alpha planes. Never a float copy of the full canvas (4 bytes a pixel).
    assert extra < 40 + limit_mb * side * side / 1e6, (extra, peak)
    assert read_digit(net, path) == 3
    print(f"{kind}: {side} x {side}, peak {peak} MB, {extra} MB beyond the imports, {seconds} s")


def test_shipped_test_image_is_read_correctly(net):
    P = net.predict_proba(scale_pixels(preprocess(ROOT / "test_image.png").image[None]))[0]
    assert P.argmax() == 7 and P.max() > 0.9


def test_stroke_digits_of_every_kind_are_read_correctly(tmp_path, net):
    rng = np.random.default_rng(123)
    wrong = []
    for digit in range(10):
        for brush in (1, 3, 25, 50):
            image, description = stroke_digit(digit, rng, brush)
            read = read_digit(net, save(tmp_path, f"{digit}_{brush}.png", image))
            if read != digit:
                wrong.append((digit, description, read))
    assert len(wrong) <= 1, wrong


@pytest.mark.parametrize("connectivity", [4, 8])
def test_pieces_are_labelled_as_opencv_labels_them_even_on_a_checkerboard(connectivity):
    # 362 x 362 is the largest square that takes 16-bit labels; a checkerboard has the most pieces.
    board = (np.indices((362, 362)).sum(axis=0) % 2).astype(np.uint8)
    count, labels, stats, _ = components(board, connectivity)
    ref_count, ref_labels, ref_stats, _ = cv2.connectedComponentsWithStats(board, connectivity=connectivity,
                                                                           ltype=cv2.CV_32S)
    assert count == ref_count == (65523 if connectivity == 4 else 2)
    assert np.array_equal(labels, ref_labels) and np.array_equal(stats, ref_stats)
    assert labels.dtype == np.uint16                      # the fast labels; one pixel more takes 32 bits
    assert components(np.zeros((363, 362), np.uint8), connectivity)[1].dtype == np.int32
