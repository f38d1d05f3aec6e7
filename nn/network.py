"""The network: a list of layers, run forwards to predict and backwards to learn.

Everything a learner needs to follow one training step is here and in layers.py, written out by hand
in numpy: the forward pass, the loss, and backpropagation. Training loops, optimisers and data live
in their own modules. Rows are examples: a batch X is (m, 784), and the network reshapes it to the
first layer's input shape (a convolution wants (m, 28, 28, 1)).

All parameters live in one flat float32 array, `flat`; each layer's W and b are views into it, and
their gradients views into `flat_grad`. An optimiser updates `flat` in place, so every layer (and any
array a caller holds from `net.params`) sees the new values at once.
"""

import copy

import numpy as np

from .conv import Conv2D, Flatten, MaxPool2D
from .layers import Dense, Dropout, ReLU, SoftmaxCrossEntropy, cross_entropy, softmax


def scale_pixels(images, dtype=np.float32):
    """uint8 images (m, 28, 28) or (m, 784), ink 255 on 0 -> X (m, 784) in [0, 1], what the network reads.

    Training, evaluation and the drawing pipeline all call this one function, so a drawing reaches
    the network on exactly the scale the training digits did.
    """
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(dtype) / np.dtype(dtype).type(255)


def mlp(sizes, dropout=0.0):
    """The layers of a fully connected ReLU network, e.g. sizes [784, 512, 512, 10]:
    Dense(784, 512), ReLU, Dense(512, 512), ReLU, Dense(512, 10) (+ Dropout after each ReLU if asked)."""
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer sizes must be two or more positive numbers, got {sizes}")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Dense(n_in, n_out), ReLU()] + ([Dropout(dropout)] if dropout else [])
    return layers[:-2] if dropout else layers[:-1]


class Network:
    """A list of layers with a softmax + cross-entropy output.

    layers:      e.g. mlp([784, 128, 64, 10]), or the convolution layers of conv.py.
    input_shape: the shape of one example as the first layer wants it ((784,) for a dense network).
    params:      {"W1": view, "b1": view, "W2": ...}: layer l's parameters, numbered like the notebook.
    record:      how this network was made (settings, data, accuracy); saved with it.
    memory:      a few thousand of its training digits and its scores for them (nn/memory.py), or None;
                 saved with it, rehearsed when it learns from a correction.
    """

    def __init__(self, layers, input_shape=(784,), seed=0, dtype=np.float32, initialise=True):
        """The starting weights come from `seed`; initialise=False leaves them unset, for a network whose
        weights are about to be read from a file or copied from another."""
        self.layers = list(layers)
        self.input_shape = tuple(int(n) for n in input_shape)
        self.dtype = np.dtype(dtype)
        self.output = SoftmaxCrossEntropy()
        self.record = {}
        self.memory = None
        self._allocate(np.random.default_rng(seed) if initialise else None)
        self.layers[0].needs_input_grad = False

    def _allocate(self, rng):
        """One flat buffer for all parameters (and one for gradients); each layer gets views of both."""
        shapes, shape = [], self.input_shape
        for layer in self.layers:
            shapes.append(layer.param_shapes())
            shape = layer.output_shape(shape)
        self.classes = int(np.prod(shape))
        total = sum(int(np.prod(s)) for layer_shapes in shapes for s in layer_shapes.values())
        self.flat = np.empty(total, self.dtype)
        self.flat_grad = np.zeros(total, self.dtype)
        self.params, self.grads = {}, {}
        offset, number = 0, 0
        for layer, layer_shapes in zip(self.layers, shapes, strict=True):
            if layer_shapes:
                number += 1
            start = layer.init_params(rng, self.dtype) if rng is not None else {}
            for name, s in layer_shapes.items():
                size = int(np.prod(s))
                layer.params[name] = self.flat[offset:offset + size].reshape(s)
                layer.grads[name] = self.flat_grad[offset:offset + size].reshape(s)
                if name in start:
                    layer.params[name][...] = start[name]
                self.params[f"{name}{number}"] = layer.params[name]
                self.grads[f"{name}{number}"] = layer.grads[name]
                offset += size

    # --- the two passes ---------------------------------------------------------------------------

    def forward(self, X, training=False):
        """Scores Z (m, 10) for inputs X (m, 784): each layer's output is the next one's input."""
        A = X.reshape(len(X), *self.input_shape).astype(self.dtype, copy=False)
        for layer in self.layers:
            A = layer.forward(A, training)
        return A

    def backward(self, dZ):
        """Backpropagation: hand dL/dZ of the scores down through the layers in reverse order.

        Each layer turns the gradient of its output into the gradient of its input (the chain rule)
        and fills its parameter gradients on the way. Returns {"W1": dW1, ...} (views of flat_grad).
        """
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)
        return self.grads

    def hidden_and_scores(self, X):
        """(H, Z) for inputs X (m, 784): H (m, n) the last hidden layer's activity, what the output layer
        reads, and Z (m, 10) the scores. For looking inside the network (how alike two inputs look to it,
        how squarely it points at its guess), never for training."""
        H = X.reshape(len(X), *self.input_shape).astype(self.dtype, copy=False)
        for layer in self.layers[:-1]:
            H = layer.forward(H)
        return H, self.layers[-1].forward(H)

    def gradients(self, X, Y, training=False):
        """(loss, gradients) for one batch: forward, softmax + cross-entropy, backward."""
        loss = self.output.forward(self.forward(X, training), Y)
        return loss, self.backward(self.output.backward())

    def loss(self, X, Y):
        """The average cross-entropy on X against targets Y, with no backward pass."""
        return cross_entropy(self.predict_proba(X), Y)

    # --- using it --------------------------------------------------------------------------------

    def predict_proba(self, X, batch_size=512):
        """Probabilities (m, 10) for images X (m, 784) scaled to [0, 1]; batched to bound memory (and
        to keep a convolution's patch matrix in cache)."""
        X = np.atleast_2d(X)
        parts = [softmax(self.forward(X[i:i + batch_size])) for i in range(0, len(X), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.classes), self.dtype)

    def predict(self, X):
        """The most probable digit for each row of X: (m, 784) -> (m,) integers."""
        return self.predict_proba(X).argmax(axis=1)

    # --- describing and copying ------------------------------------------------------------------

    @property
    def input_size(self):
        return int(np.prod(self.input_shape))

    def spec(self):
        """What a model file records to rebuild this network: its input shape and its layers."""
        return {"input_shape": list(self.input_shape), "layers": [layer.spec() for layer in self.layers]}

    @classmethod
    def from_spec(cls, spec, dtype=np.float32, seed=0, initialise=True):
        return cls([layer_from_spec(s) for s in spec["layers"]], spec["input_shape"], seed, dtype, initialise)

    def describe(self):
        """One line, e.g. 'Dense(784->512) ReLU Dense(512->10)'."""
        return " ".join(_short(layer) for layer in self.layers)

    def copy(self):
        """An independent copy: same layers, same weights, its own buffers."""
        twin = Network.from_spec(self.spec(), self.dtype, initialise=False)
        twin.flat[...] = self.flat
        twin.record = copy.deepcopy(self.record)
        twin.memory = self.memory          # read-only: shared, not copied
        return twin

    def use_rng(self, rng):
        """Hand a seeded generator to the layers that draw random numbers while training (dropout)."""
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = rng


def _short(layer):
    if isinstance(layer, Dense):
        return f"Dense({layer.n_in}->{layer.n_out})"
    return "ReLU" if isinstance(layer, ReLU) else repr(layer)


LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, Dropout, Conv2D, MaxPool2D, Flatten)}


def layer_from_spec(spec):
    """A layer from its spec() dict, e.g. {"type": "Dense", "n_in": 784, "n_out": 512}."""
    args = {k: v for k, v in spec.items() if k != "type"}
    return LAYER_TYPES[spec["type"]](**args)
