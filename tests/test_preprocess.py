"""The drawing pipeline: a drawing anywhere, any size, any polarity or file type becomes the same
MNIST-like 28x28 input; bad files give clear messages."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from benchmarks.drawings import stroke_digit
from nn import NNError
from nn.interactive import predict_file
from nn.persist import PRETRAINED, load_model
from nn.preprocess import centre_of_mass, preprocess

from .conftest import ROOT


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


def test_huge_canvas_is_read_without_large_memory(tmp_path):
    huge = np.zeros((8000, 8000), np.uint8)
    huge[1000:7000, 1000:7000] = cv2.resize(three(), (6000, 6000), interpolation=cv2.INTER_NEAREST)
    path = save(tmp_path, "huge.png", huge)
    del huge
    code = ("import resource, sys; from nn.preprocess import preprocess; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; preprocess(sys.argv[1]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    extra_mb = int(result.stdout) / 1024
    assert extra_mb < 3 * 64, f"{extra_mb:.0f} MB for a 64-megapixel drawing"   # decoded once, not copied


def test_shipped_test_image_is_read_correctly():
    prediction = predict_file(load_model(PRETRAINED), ROOT / "test_image.png")
    assert prediction.digit == 7 and prediction.confidence > 0.9


def test_stroke_digits_of_every_kind_are_read_correctly(tmp_path):
    net = load_model(PRETRAINED)
    rng = np.random.default_rng(123)
    wrong = []
    for digit in range(10):
        for brush in (1, 3, 25, 50):
            image, description = stroke_digit(digit, rng, brush)
            prediction = predict_file(net, save(tmp_path, f"{digit}_{brush}.png", image))
            if prediction.digit != digit:
                wrong.append((digit, description, prediction.digit))
    assert len(wrong) <= 1, wrong
