"""Convolution layers: Conv2D, MaxPool2D and Flatten, and `cnn()`, the convolutional network we ship.

A dense layer connects every pixel to every unit, so it must learn the same stroke detector again at
every position. A convolution slides one small set of weights (a k x k "kernel" per output channel)
over the whole image: a stroke is found wherever it is, with k*k*c_in*c_out weights instead of
784*n_out. Pooling then keeps the strongest response in each 2x2 patch, so the next layer sees a
smaller map that no longer cares exactly where, within two pixels, the stroke was.

Layout: a batch of images is X (m, H, W, C), "NHWC": example, row, column, channel. Channels last
means one pixel's channels sit next to each other in memory, which is what lets the convolution
below become a single large matrix multiply.

The convolution (strictly a cross-correlation, as in every deep-learning library):
    Z[n, y, x, o] = b[o] + sum over i < k, j < k, c < c_in of  Xp[n, y+i, x+j, c] * W[i, j, c, o]
where Xp is X with `padding` rows and columns of zeros around it. Written as im2col ("image to
columns"): copy each k x k x c_in patch of Xp into one row of a matrix `cols`, and the whole layer is
    Z = cols @ W.reshape(k*k*c_in, c_out) + b        (m*Ho*Wo, k*k*c_in) @ (k*k*c_in, c_out)
one big matrix multiply, which is where numpy (its BLAS library) is fast.

Left out on purpose: strides other than 1, dilation, groups and batch normalisation. MNIST does not
need them, and each backward pass below stays short enough to check by hand and by the tests.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Dense, Dropout, Layer, ReLU

INPUT_SHAPE = (28, 28, 1)        # what cnn() reads: one 28x28 grey digit, one channel

CHUNK = 256                      # examples per im2col matrix: caps its memory when predicting
                                 # thousands at once (256 x 8x8 patches x 5x5x32 floats x 4 bytes = 52 MB)


def im2col(Xp, k, out=None):
    """Every k x k patch of Xp as one row: (m, Hp, Wp, C) -> cols (m*Ho*Wo, k*k*C), Ho = Hp - k + 1.

    Row (n, y, x) of cols holds Xp[n, y:y+k, x:x+k, :] flattened in (i, j, c) order, the same order as
    W.reshape(k*k*C, c_out), so that cols @ W2 is the convolution. sliding_window_view makes all the
    patches as a view without copying (a patch is just other strides into the same memory); the one
    copy into cols is done in C by numpy, with no Python loop over pixels.
    out: an array of cols' shape to copy into (reusing one saves the operating system handing out,
    and zeroing, tens of megabytes of fresh memory at every step).
    """
    windows = sliding_window_view(Xp, (k, k), axis=(1, 2))      # (m, Ho, Wo, C, k, k), a view
    windows = windows.transpose(0, 1, 2, 4, 5, 3)                # (m, Ho, Wo, k, k, C), still a view
    if out is None:
        return windows.reshape(-1, k * k * Xp.shape[3])
    np.copyto(out.reshape(windows.shape), windows)
    return out


class Conv2D(Layer):
    """A 2-D convolution, stride 1: Z = im2col(pad(X)) @ W + b  (see the module docstring).

    X (m, H, W, c_in) -> Z (m, Ho, Wo, c_out), Ho = H + 2*padding - kernel + 1 (padding = kernel // 2
    keeps the size: "same" padding). Parameters W (kernel, kernel, c_in, c_out) and b (c_out,).
    Backward, from dZ (m, Ho, Wo, c_out) seen as a matrix (m*Ho*Wo, c_out):
      dW = cols.T @ dZ            (k*k*c_in, m*Ho*Wo) @ (m*Ho*Wo, c_out), each weight summed over every
                                  position it was used at
      db = sum of dZ over examples and positions
      dX: each input pixel fed up to k*k outputs, once per kernel offset (i, j), so its gradient is the
          sum of those k*k contributions, the "col2im" scatter-add (see _input_gradient).
    """

    def __init__(self, c_in, c_out, kernel, padding=0):
        super().__init__()
        self.c_in, self.c_out, self.kernel, self.padding = int(c_in), int(c_out), int(kernel), int(padding)
        if min(self.c_in, self.c_out, self.kernel) < 1 or self.padding < 0:
            raise ValueError(f"Conv2D needs positive channels and kernel and padding >= 0, got {self!r}")
        self._cols = np.empty((0, 0))

    def param_shapes(self):
        k = self.kernel
        return {"W": (k, k, self.c_in, self.c_out), "b": (self.c_out,)}

    def init_params(self, rng, dtype):
        """He initialisation: each output sums k*k*c_in inputs, so variance 2/(k*k*c_in) keeps the
        activations the same size from layer to layer through ReLUs."""
        fan_in = self.kernel * self.kernel * self.c_in
        W = rng.standard_normal(self.param_shapes()["W"]) * np.sqrt(2.0 / fan_in)
        return {"W": W.astype(dtype), "b": np.zeros(self.c_out, dtype)}

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[2] != self.c_in or min(shape[:2]) + 2 * self.padding < self.kernel:
            raise ValueError(f"{self!r} cannot take inputs of shape {shape}: it needs (height, width, "
                             f"{self.c_in}) with height and width at least {self.kernel - 2 * self.padding}")
        H, W, _ = shape
        grow = 2 * self.padding - self.kernel + 1
        return (H + grow, W + grow, self.c_out)

    def forward(self, X, training=False):
        p, k, c_out = self.padding, self.kernel, self.c_out
        self.Xp = np.pad(X, ((0, 0), (p, p), (p, p), (0, 0))) if p else X
        m, Hp, Wp, _ = self.Xp.shape
        Z = np.empty((m, Hp - k + 1, Wp - k + 1, c_out), X.dtype)
        W2 = self.params["W"].reshape(-1, c_out)                   # (k*k*c_in, c_out), a view
        for s in range(0, m, CHUNK):                                # one pass for a training batch
            self.cols = self._im2col(self.Xp[s:s + CHUNK])
            np.matmul(self.cols, W2, out=Z[s:s + CHUNK].reshape(-1, c_out))
        if m > CHUNK:
            self.cols = None                                        # backward rebuilds them chunk by chunk
        Z += self.params["b"]
        return Z

    def _im2col(self, Xp):
        """im2col(Xp) into this layer's own buffer, kept from call to call (only this layer reads it)."""
        m, Hp, Wp, c_in = Xp.shape
        k = self.kernel
        shape = (m * (Hp - k + 1) * (Wp - k + 1), k * k * c_in)
        if self._cols.shape != shape or self._cols.dtype != Xp.dtype:
            self._cols = np.empty(shape, Xp.dtype)
        return im2col(Xp, k, out=self._cols)

    def backward(self, dZ):
        m, c_out = len(dZ), self.c_out
        dW = self.grads["W"].reshape(-1, c_out)                    # a view: we write into the buffer
        np.sum(dZ.reshape(-1, c_out), axis=0, out=self.grads["b"])
        dXp = np.zeros_like(self.Xp) if self.needs_input_grad else None
        dW[...] = 0
        for s in range(0, m, CHUNK):
            cols = self.cols if self.cols is not None else self._im2col(self.Xp[s:s + CHUNK])
            dW += cols.T @ dZ[s:s + CHUNK].reshape(-1, c_out)      # (k*k*c_in, c_out), summed over chunks
            if dXp is not None:
                self._input_gradient(dZ[s:s + CHUNK], dXp[s:s + CHUNK])
        if dXp is None:
            return None
        p = self.padding
        return dXp[:, p:dXp.shape[1] - p, p:dXp.shape[2] - p] if p else dXp

    def _input_gradient(self, dZ, dXp):
        """col2im: add into dXp (m, Hp, Wp, c_in) every input pixel's gradient, from dZ (m, Ho, Wo, c_out).

        Output (y, x) read input pixel (y+i, x+j) through weight W[i, j], so the input pixel's gradient
        is the sum over offsets (i, j) of dZ[y, x] @ W[i, j].T. The textbook way forms
        dcols = dZ @ W2.T (every patch's gradient, the shape of cols) and then scatter-adds each
        patch back onto the pixels it came from. Doing it one kernel offset at a time gives the same
        sum: for offset (i, j), the matrix multiply dZ @ W[i, j].T is the gradient of the whole window
        Xp[:, i:i+Ho, j:j+Wo] at once, and the scatter-add becomes one shifted slice +=. Measured on
        this project's second conv layer it takes about half the time of dcols + scatter, because the
        (m, Ho, Wo, c_in) buffer stays in cache and every add runs over long contiguous rows.
        """
        m, Ho, Wo, c_out = dZ.shape
        dZ2 = dZ.reshape(-1, c_out)                                 # (m*Ho*Wo, c_out)
        window = np.empty((m, Ho, Wo, self.c_in), dZ.dtype)         # the gradient of one shifted window
        W = self.params["W"]
        for i in range(self.kernel):
            for j in range(self.kernel):
                np.matmul(dZ2, W[i, j].T, out=window.reshape(-1, self.c_in))
                dXp[:, i:i + Ho, j:j + Wo] += window

    def spec(self):
        return {"type": "Conv2D", "c_in": self.c_in, "c_out": self.c_out, "kernel": self.kernel,
                "padding": self.padding}


class MaxPool2D(Layer):
    """The largest value in each size x size patch, per channel: X (m, H, W, C) -> (m, H//size, W//size, C).

    Patches do not overlap. When H or W is not a multiple of size, the last rows or columns that do
    not fill a patch are dropped (rounding down, as PyTorch does by default).
    Backward: only the largest value in a patch affected the output, so the patch's gradient goes
    entirely to that one position and the others get 0. When several values tie for the largest, the
    first in reading order (row by row) gets it, as in PyTorch, so the gradient is not counted twice.
    """

    def __init__(self, size=2):
        super().__init__()
        self.size = int(size)
        if self.size < 1:
            raise ValueError(f"MaxPool2D needs a size of at least 1, got {size}")

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3 or min(shape[:2]) < self.size:
            raise ValueError(f"{self!r} cannot take inputs of shape {shape}: it needs (height, width, "
                             f"channels) with height and width at least {self.size}")
        return (shape[0] // self.size, shape[1] // self.size, shape[2])

    def _offsets(self):
        return [(i, j) for i in range(self.size) for j in range(self.size)]    # reading order

    def forward(self, X, training=False):
        s = self.size
        m, H, W, C = X.shape
        self.X_shape, Ho, Wo = X.shape, H // s, W // s
        # X[:, i::s, j::s] (cut to Ho x Wo) is the value at offset (i, j) of every patch at once.
        A = X[:, :Ho * s:s, :Wo * s:s].copy()
        self.which = np.zeros(A.shape, np.uint8)                    # offset number of each patch's max
        for number, (i, j) in enumerate(self._offsets()[1:], start=1):
            candidate = X[:, i:Ho * s:s, j:Wo * s:s]
            larger = candidate > A                                  # strictly: the first of equals stays
            # which = number where larger, else unchanged. Numbers only grow, so that is a maximum:
            # much faster in numpy than a masked assignment such as which[larger] = number.
            np.maximum(self.which, larger * np.uint8(number), out=self.which)
            np.maximum(A, candidate, out=A)
        return A

    def backward(self, dA):
        s = self.size
        m, Ho, Wo, C = dA.shape
        dX = np.zeros(self.X_shape, dA.dtype)                       # rows and columns dropped get 0
        for number, (i, j) in enumerate(self._offsets()):
            np.multiply(dA, self.which == number, out=dX[:, i:Ho * s:s, j:Wo * s:s])
        return dX

    def spec(self):
        return {"type": "MaxPool2D", "size": self.size}


class Flatten(Layer):
    """Each example's feature maps as one row, for a Dense layer: (m, H, W, C) -> (m, H*W*C).

    Nothing is computed, so backward only gives the gradient back its original shape.
    """

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, X, training=False):
        self.X_shape = X.shape
        return X.reshape(len(X), -1)

    def backward(self, dA):
        return dA.reshape(self.X_shape)


def cnn(dropout=0.0, classes=10):
    """The layers of the convolutional network we ship, for Network(cnn(), input_shape=INPUT_SHAPE).

    (28, 28, 1) -conv 5x5-> (24, 24, 32) -pool-> (12, 12, 32) -conv 5x5-> (8, 8, 64) -pool-> (4, 4, 64)
    = 1024 -dense-> 256 -dense-> 10: LeNet's shape (LeCun et al., 1998) with more channels, 317,066
    parameters.
    No padding: MNIST digits sit in the middle 20x20 of their 28x28 frame, so the border positions a
    padded convolution would add see mostly blank paper, and they would cost 2.9 times the work per
    training step (28x28 and 14x14 outputs instead of 24x24 and 8x8). Within a 10-minute training
    budget, more passes over distorted digits buy more accuracy than those border positions.
    Pooling comes before ReLU: max(ReLU(a), ReLU(b)) = ReLU(max(a, b)), so the network computes
    exactly the same function as conv-ReLU-pool, with ReLU run on a map 4 times smaller.
    dropout: share of the 256 dense units switched off in each training step (0: no Dropout layer).
    classes: how many outputs (10 digits; 2 for digits/not_digit.py's "digit or not").
    """
    dropped = [Dropout(dropout)] if dropout else []
    return [
        Conv2D(1, 32, 5), MaxPool2D(2), ReLU(),
        Conv2D(32, 64, 5), MaxPool2D(2), ReLU(),
        Flatten(),
        Dense(4 * 4 * 64, 256), ReLU(), *dropped,
        Dense(256, classes),
    ]
