"""Random small distortions of training digits, so the network learns the shape of a digit rather than
the exact pixels of the 60,000 it is shown.

Every digit in every batch is redrawn with its own random rotation, scale, shear and shift (an
affine map) plus a smooth random warp (an "elastic" distortion, Simard et al., 2003), the kinds of
differences there are between two people's handwriting. A fully connected network has no built-in
notion that a digit moved one pixel is the same digit; seeing such copies is how it learns that, and
on a validation split it lifts the dense network from 98.70% to 99.36% (benchmarks/recipe.py).
"""

from dataclasses import dataclass

import cv2
import numpy as np

SIDE = 28
_CENTRE = (SIDE - 1) / 2


@dataclass(frozen=True)
class Distortion:
    """How strong the random distortions are; each digit draws its own values within these ranges."""

    rotate: float = 12.0      # degrees, either way
    scale: float = 0.10       # zoom factor within 1 +/- scale
    shear: float = 0.15       # horizontal shear factor, either way
    shift: float = 2.0        # pixels, in x and in y
    elastic: float = 1.0      # typical size in pixels of the smooth warp (0 turns it off)


def _smooth_basis(coarse=7, width=4.0):
    """(28, coarse) matrix that interpolates a coarse random grid into a smooth 28-pixel field.

    U @ N @ U.T turns coarse noise N (coarse, coarse) into a smooth (28, 28) displacement field:
    the same result as blurring full-size noise with a Gaussian, for a fraction of the random numbers.
    """
    fine = np.arange(SIDE, dtype=np.float32)[:, None]
    knots = np.linspace(0, SIDE - 1, coarse, dtype=np.float32)[None, :]
    U = np.exp(-0.5 * ((fine - knots) / width) ** 2)
    return (U / U.sum(axis=1, keepdims=True)).astype(np.float32)


SMOOTH = _smooth_basis()   # (28, 7): coarse random grid -> smooth 28x28 field, as U @ N @ U.T


def sampling_maps(n, rng, d=Distortion()):
    """Where each output pixel of n distorted digits reads from in its source: two (n, 28, 28) maps.

    For output pixel p (relative to the centre), the source is R^-1 (p - t) + elastic warp, where R
    rotates, scales and shears and t shifts. Working backwards from output to source is what lets
    every output pixel get exactly one interpolated value.
    """
    angle = np.deg2rad(rng.uniform(-d.rotate, d.rotate, n)).astype(np.float32)
    zoom = rng.uniform(1 - d.scale, 1 + d.scale, n).astype(np.float32)
    shear = rng.uniform(-d.shear, d.shear, n).astype(np.float32)
    tx, ty = rng.uniform(-d.shift, d.shift, (2, n, 1, 1)).astype(np.float32)
    cos, sin = (np.cos(angle) / zoom)[:, None, None], (np.sin(angle) / zoom)[:, None, None]
    axis = np.arange(SIDE, dtype=np.float32) - _CENTRE
    x = axis[None, None, :] - tx
    y = axis[None, :, None] - ty
    map_x = cos * x + (sin + shear[:, None, None]) * y + _CENTRE
    map_y = -sin * x + cos * y + _CENTRE
    if d.elastic > 0:
        coarse = rng.standard_normal((2, n, SMOOTH.shape[1], SMOOTH.shape[1]), dtype=np.float32)
        warp = SMOOTH @ coarse @ SMOOTH.T
        warp *= d.elastic / (warp.std(axis=(2, 3), keepdims=True) + 1e-6)
        map_x += warp[0]
        map_y += warp[1]
    return map_x, map_y


def distort(images, rng, d=Distortion()):
    """Randomly distorted copies of uint8 images (n, 784) or (n, 28, 28), same shape and dtype.

    Bilinear interpolation (cv2.remap) reads each output pixel from between four source pixels,
    which keeps the strokes smooth; pixels that come from outside the digit's frame are black.
    """
    shape = images.shape
    images = images.reshape(-1, SIDE, SIDE)
    map_x, map_y = sampling_maps(len(images), rng, d)
    out = np.empty_like(images)
    for i, image in enumerate(images):
        out[i] = cv2.remap(image, map_x[i], map_y[i], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape(shape)


def shifted(images, dx, dy):
    """uint8 digits (m, 784) moved dx pixels right and dy down (negative: left, up), whole pixels, the
    uncovered edge left as background (0): what "the same digit, a few pixels off" means."""
    digits = images.reshape(-1, SIDE, SIDE)
    out = np.zeros_like(digits)
    out[:, max(dy, 0):SIDE + min(dy, 0), max(dx, 0):SIDE + min(dx, 0)] = \
        digits[:, max(-dy, 0):SIDE - max(dy, 0), max(-dx, 0):SIDE - max(dx, 0)]
    return out.reshape(len(images), -1)
