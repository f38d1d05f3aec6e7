"""The layers a network is built from, each a small class that reads in one breath.

Every layer has
  forward(X, training=False)  computes its output and keeps what its backward pass will need;
  backward(dOut)              takes dL/d(output), fills self.grads (one array per parameter, same
                              shapes as self.params) and returns dL/d(input);
  params / grads              dicts of arrays by name ("W", "b"): views into the network's one flat
                              buffer, so an optimiser that updates the buffer updates every layer;
  spec()                      what the model file records to rebuild the layer.
Shapes follow the notebook: rows are examples, so a batch X is (m, n_in).

Left out on purpose: autograd. Each backward below is the derivative written out by hand, as the
notebook derives it, and the tests check every one against a numerical estimate.
"""

import numpy as np


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


def relu(Z):
    """ReLU(z) = max(0, z), elementwise. Z: any shape -> same shape."""
    return np.maximum(Z, 0)


class Layer:
    """What every layer shares: no parameters unless it declares some."""

    params: dict
    grads: dict

    def __init__(self):
        self.params, self.grads = {}, {}
        self.needs_input_grad = True   # the first layer's input is the image: nobody wants its gradient

    def param_shapes(self):
        """{name: shape} of the parameters this layer will hold (before they exist)."""
        return {}

    def init_params(self, rng, dtype):
        """Starting values for param_shapes(), drawn from rng."""
        return {}

    def output_shape(self, input_shape):
        return input_shape

    def spec(self):
        return {"type": type(self).__name__}

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.spec().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Every input connected to every unit: Z = X @ W + b.

    X (m, n_in), W (n_in, n_out), b (n_out,) added to every row (broadcasting) -> Z (m, n_out).
    Backward, from dZ (m, n_out):
      dW = X.T @ dZ       (n_in, m) @ (m, n_out): each weight's gradient, summed over the batch
      db = sum of dZ over the batch (axis 0)
      dX = dZ @ W.T       (m, n_out) @ (n_out, n_in): what the layer below receives
    """

    def __init__(self, n_in, n_out):
        super().__init__()
        self.n_in, self.n_out = int(n_in), int(n_out)
        if min(self.n_in, self.n_out) < 1:
            raise ValueError(f"Dense({n_in}, {n_out}): a layer needs at least one input and one unit")

    def param_shapes(self):
        return {"W": (self.n_in, self.n_out), "b": (self.n_out,)}

    def init_params(self, rng, dtype):
        """He initialisation: variance 2/n_in keeps activations the same size through ReLU layers."""
        W = rng.standard_normal((self.n_in, self.n_out)) * np.sqrt(2.0 / self.n_in)
        return {"W": W.astype(dtype), "b": np.zeros(self.n_out, dtype)}

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.n_in,):
            raise ValueError(f"Dense({self.n_in}, {self.n_out}) cannot take inputs of shape "
                             f"{tuple(input_shape)}")
        return (self.n_out,)

    def forward(self, X, training=False):
        self.X = X
        Z = X @ self.params["W"]
        Z += self.params["b"]                     # in place: no second (m, n_out) array
        return Z

    def backward(self, dZ):
        np.matmul(self.X.T, dZ, out=self.grads["W"])
        np.sum(dZ, axis=0, out=self.grads["b"])
        return dZ @ self.params["W"].T if self.needs_input_grad else None

    def spec(self):
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out}


class ReLU(Layer):
    """A = max(0, Z). Its slope is 1 where Z > 0 and 0 elsewhere, so backward passes dA only there.

    A unit whose Z is negative for every input never passes a gradient, so it never learns again (a
    "dead" unit); He initialisation and small learning rates keep that rare.
    """

    def forward(self, Z, training=False):
        self.A = np.maximum(Z, 0)
        return self.A

    def backward(self, dA):
        return dA * (self.A > 0)                  # dZ = dA * [Z > 0]: A > 0 exactly where Z > 0


class Dropout(Layer):
    """While training, zero each unit with probability `rate` and scale the survivors by 1/(1 - rate).

    The scaling keeps every unit's expected output unchanged, so nothing changes at prediction time,
    when dropout does nothing. Backward scales the gradient by the same mask D.
    """

    def __init__(self, rate):
        super().__init__()
        self.rate = float(rate)
        self.rng = np.random.default_rng(0)       # the trainer hands in its own seeded generator

    def forward(self, A, training=False):
        if not training or self.rate == 0:
            self.D = None
            return A
        keep = self.rng.random(A.shape, dtype=np.float32) >= self.rate
        self.D = keep.astype(A.dtype) / A.dtype.type(1.0 - self.rate)
        return A * self.D

    def backward(self, dA):
        return dA if self.D is None else dA * self.D

    def spec(self):
        return {"type": "Dropout", "rate": self.rate}


class SoftmaxCrossEntropy:
    """The output and the loss together: P = softmax(Z), L = cross_entropy(P, Y).

    Their combined gradient is remarkably simple (the notebook derives it): dL/dZ = (P - Y) / m.
    """

    def forward(self, Z, Y):
        self.P, self.Y = softmax(Z), Y
        return cross_entropy(self.P, Y)

    def backward(self):
        return (self.P - self.Y) / self.P.dtype.type(len(self.Y))
