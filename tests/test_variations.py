"""A person's next drawings (digits/variations.py): the strokes traced from a 28x28 drawing are the strokes
it was drawn with, and their redrawings read as the same digit."""

import cv2
import numpy as np
import pytest

from benchmarks.styles import STYLES, Writer
from digits.paths import shipped_model
from digits.variations import Variation, _faithful, _loops, next_drawings, strokes_of, trace
from nn.network import scale_pixels
from nn.persist import load_model


def skeleton_of(draw):
    """A 1-pixel-wide figure on a 60x60 grid, drawn by draw(image)."""
    image = np.zeros((60, 60), np.uint8)
    draw(image)
    return image


def test_a_ring_traces_to_one_closed_stroke_with_no_free_end():
    paths = trace(skeleton_of(lambda im: cv2.circle(im, (30, 30), 20, 1, 1)))
    assert len(paths) == 1
    points, free = paths[0]
    assert free == (False, False)
    assert np.array_equal(points[0], points[-1])                # it comes back to where it started
    assert len(points) >= 0.7 * 2 * np.pi * 20              # 8-connected: diagonal steps


def test_a_cross_traces_to_four_strokes_each_from_a_free_end_to_the_fork():
    def cross(im):
        cv2.line(im, (30, 5), (30, 55), 1)
        cv2.line(im, (5, 30), (55, 30), 1)

    paths = trace(skeleton_of(cross))
    assert len(paths) == 4
    for points, free in paths:
        assert free == (True, False)
        assert np.abs(points[-1] - (30, 30)).max() <= 1 and 23 <= len(points) <= 27


def test_loops_are_the_holes_the_ink_encloses_and_nothing_else():
    ring = skeleton_of(lambda im: cv2.circle(im, (30, 30), 20, 1, 3)).astype(bool)
    eight = skeleton_of(lambda im: [cv2.circle(im, (30, 18), 10, 1, 2), cv2.circle(im, (30, 40), 11, 1, 2)])
    edge_to_edge = skeleton_of(lambda im: cv2.line(im, (30, 0), (30, 59), 1, 3)).astype(bool)
    assert (_loops(ring), _loops(eight.astype(bool)), _loops(edge_to_edge)) == (1, 2, 0)
    assert _loops(np.ones((9, 9), bool)) == 0 and _loops(np.zeros((9, 9), bool)) == 0


def test_tracing_reads_any_ink_value_as_ink():
    line = skeleton_of(lambda im: cv2.line(im, (10, 10), (50, 50), 1))
    assert len(trace(line)) == len(trace(line * 255)) == 1


def test_a_drawn_seven_is_traced_as_one_stroke_with_its_corner():
    writer = Writer(STYLES["long-flag 1"], seed=0)
    sevens, _ = writer.normal_images([7], per_digit=3)
    for seven in sevens:
        strokes, free, width = strokes_of(seven)
        assert len(strokes) == 1 and free == [(True, True)]
        assert 3 <= len(strokes[0]) <= 8                        # a few points where the stroke bends
        assert 0.25 <= width <= 1.2


@pytest.fixture(scope="module")
def net():
    return load_model(shipped_model("mlp"))


def test_redrawings_of_ordinary_digits_read_as_those_digits(net):
    """Traced and drawn again by another hand, a digit is still that digit (the hand varies it as a
    person does, so now and then one is ambiguous, as the person's own drawings are)."""
    writer = Writer(STYLES["long-flag 1"], seed=3)
    drawings, labels = writer.normal_images(range(10), per_digit=3)
    right = net.predict(scale_pixels(drawings.reshape(-1, 784))) == labels
    assert right.mean() >= 0.9
    shares = {}
    for drawing, label in zip(drawings[right], labels[right], strict=True):
        redrawn = next_drawings(drawing, 24, np.random.default_rng(int(label)), Variation(redrawn=1.0))
        read = net.predict(scale_pixels(redrawn.reshape(-1, 784)))
        shares.setdefault(int(label), []).append(np.mean(read == label))
    assert len(shares) == 10
    assert np.mean([np.mean(v) for v in shares.values()]) >= 0.9, shares
    assert min(min(v) for v in shares.values()) >= 0.6, shares


def test_a_drawing_whose_trace_loses_ink_is_only_warped():
    blob = np.zeros((28, 28), np.uint8)
    cv2.ellipse(blob, (14, 14), (4, 10), 0, 0, 360, 255, -1)       # a filled 8: it thins to a line
    strokes, free, width = strokes_of(blob)
    assert len(strokes) == 1 and not _faithful(blob, strokes, free, width)
    rng = np.random.default_rng(0)
    assert np.array_equal(next_drawings(blob, 8, rng, Variation(redrawn=1.0)),
                          next_drawings(blob, 8, np.random.default_rng(0), Variation(redrawn=0.0)))
