"""The network itself: a stack of fully connected layers, ReLU between them, softmax at the end.

Everything a learner needs to follow one training step is here, written out by hand in numpy:
the forward pass, the loss, and backpropagation. Training loops, optimisers and data live in
their own modules. Shapes follow the notebook: rows are examples, so a batch X is (m, 784) and
every layer computes Z = A_prev @ W + b.

Left out on purpose: convolutions, batch norm, autograd. The point is that each gradient below is
one line a learner can check against the notebook's derivation (and the tests check it numerically).
"""

import numpy as np


def relu(Z):
    """ReLU(z) = max(0, z), elementwise. Z: any shape -> same shape."""
    return np.maximum(Z, 0)


def softmax(Z):
    """Turn scores into probabilities, row by row.

    softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z)
    Subtracting the row maximum changes nothing mathematically and keeps exp() from overflowing.
    Z: (m, 10) -> (m, 10), each row sums to 1.
    """
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def cross_entropy(P, Y):
    """Average loss of predicted probabilities P against one-hot (or soft) targets Y.

    L = -(1/m) * sum_i sum_k Y_ik * log(P_ik)
    P is clipped away from 0 so that a confident wrong answer costs a large number, not infinity.
    P, Y: (m, 10) -> a float.
    """
    m = P.shape[0]
    return float(-np.sum(Y * np.log(np.clip(P, 1e-12, 1.0))) / m)


def one_hot(labels, classes=10, dtype=np.float32):
    """Labels (m,) of integers 0..classes-1 -> Y (m, classes), a 1 in each row's label column."""
    labels = np.asarray(labels)
    Y = np.zeros((labels.size, classes), dtype=dtype)
    Y[np.arange(labels.size), labels] = 1
    return Y


def scale_pixels(images, dtype=np.float32):
    """uint8 images (m, 28, 28) or (m, 784), ink 255 on 0 -> X (m, 784) in [0, 1], what the network reads.

    Training, evaluation and the drawing pipeline all call this one function, so a drawing reaches
    the network on exactly the scale the training digits did.
    """
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(dtype) / np.dtype(dtype).type(255)


def he_init(n_in, n_out, rng, dtype=np.float32):
    """Random weights (n_in, n_out) with variance 2/n_in.

    With ReLU about half the units are zero, so this variance keeps the size of the activations
    roughly the same from layer to layer (He et al., 2015) instead of shrinking or exploding.
    """
    return (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)


class Network:
    """A fully connected ReLU network with a softmax output.

    sizes: layer widths from input to output, e.g. [784, 128, 64, 10].
    params: {"W1": (784, 128), "b1": (128,), "W2": ..., ...}, the arrays the optimiser updates.
    record: how this network was made (settings, data, accuracy); saved with it.
    """

    def __init__(self, sizes, seed=0, dtype=np.float32):
        if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
            raise ValueError(f"layer sizes must be two or more positive numbers, got {sizes}")
        self.sizes = [int(n) for n in sizes]
        self.record = {}
        rng = np.random.default_rng(seed)
        self.params = {}
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True), start=1):
            self.params[f"W{l}"] = he_init(n_in, n_out, rng, dtype)
            self.params[f"b{l}"] = np.zeros(n_out, dtype)

    @property
    def layers(self):
        """How many weight layers (3 for [784, 128, 64, 10])."""
        return len(self.sizes) - 1

    @property
    def dtype(self):
        return self.params["W1"].dtype

    def forward(self, X, dropout=0.0, rng=None):
        """Run X (m, 784) through the network; return the output P (m, 10) and what backward needs.

        For each layer l:  Z_l = A_{l-1} @ W_l + b_l,  A_l = ReLU(Z_l)  (softmax on the last layer).
        With dropout > 0 (training only) each hidden unit is zeroed with that probability and the
        survivors are scaled by 1/(1 - dropout), so the expected activation is unchanged and nothing
        needs rescaling at prediction time.
        """
        A = X.astype(self.dtype, copy=False)
        cache = {"A0": A}
        for l in range(1, self.layers + 1):
            Z = A @ self.params[f"W{l}"]
            Z += self.params[f"b{l}"]           # Z_l = A_{l-1} W_l + b_l, adding b in place
            if l == self.layers:
                cache["logits"] = Z
                A = softmax(Z)
            else:
                A = np.maximum(Z, 0, out=Z)     # ReLU, in place: backward needs only A_l
                if dropout > 0:
                    keep = rng.random(A.shape, dtype=np.float32) >= dropout
                    cache[f"D{l}"] = keep / self.dtype.type(1.0 - dropout)
                    A *= cache[f"D{l}"]
            cache[f"A{l}"] = A
        return A, cache

    def backward(self, cache, Y, dZ=None):
        """Gradients of the average cross-entropy with respect to every W and b.

        Output layer (softmax + cross-entropy, derived in the notebook):  dZ_L = (P - Y) / m
        Every layer:         dW_l = A_{l-1}.T @ dZ_l      db_l = sum of dZ_l over the batch
        Going down a layer:  dZ_{l-1} = (dZ_l @ W_l.T) * [A_{l-1} > 0]
        The last factor is ReLU's derivative: gradient flows only through units that were active.
        With dropout, a unit's gradient is also scaled by the same mask D_l that scaled its output.
        dZ: the output layer's gradient, when the loss is not plain cross-entropy against Y (learning
        from a correction mixes in another loss); Y is then unused.
        """
        grads = {}
        if dZ is None:
            dZ = (cache[f"A{self.layers}"] - Y) / self.dtype.type(Y.shape[0])
        for l in range(self.layers, 0, -1):
            A_prev = cache[f"A{l - 1}"]
            grads[f"W{l}"] = A_prev.T @ dZ                  # (n_in, m) @ (m, n_out) -> like W_l
            grads[f"b{l}"] = dZ.sum(axis=0)                 # one number per unit of layer l
            if l > 1:
                dZ = dZ @ self.params[f"W{l}"].T
                dZ *= A_prev > 0
                if f"D{l - 1}" in cache:
                    dZ *= cache[f"D{l - 1}"]
        return grads

    def gradients(self, X, Y):
        """Loss and gradients for one batch, without dropout: what the gradient check verifies."""
        P, cache = self.forward(X)
        return cross_entropy(P, Y), self.backward(cache, Y)

    def predict_proba(self, X, batch_size=4096):
        """Probabilities (m, 10) for images X (m, 784) scaled to [0, 1]; batched to bound memory."""
        X = np.atleast_2d(X)
        parts = [self.forward(X[i:i + batch_size])[0] for i in range(0, len(X), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.sizes[-1]), self.dtype)

    def predict(self, X):
        """The most probable digit for each row of X: (m, 784) -> (m,) integers."""
        return self.predict_proba(X).argmax(axis=1)

    def accuracy(self, X, labels):
        """Share of rows of X whose predicted digit equals the label."""
        return float(np.mean(self.predict(X) == np.asarray(labels)))
