"""Checking backpropagation against the definition of a derivative.

dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps), one weight at a time: slow (two forward passes per
weight) but independent of every formula in backward(), so agreement means the formulas are right.
Use float64 and a tiny network: float32 rounding would swamp the differences being measured.
"""

import numpy as np


def numerical_gradients(loss_of, params, eps=1e-6):
    """Central-difference estimate of d loss_of() / d params[name], for every array in params.

    loss_of: a function of no arguments that reads the (nudged) arrays in params and returns the loss.
    The arrays are nudged in place (so views, like a network's parameters, see the nudge) and restored.
    """
    grads = {}
    for name, W in params.items():
        g = np.zeros_like(W)
        for i in np.ndindex(W.shape):
            saved = W[i]
            W[i] = saved + eps
            up = loss_of()
            W[i] = saved - eps
            down = loss_of()
            W[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def relative_error(a, b):
    """max |a - b| / (|a| + |b|), elementwise; about 1e-7 or less when two gradients agree."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def check_gradients(net, X, Y, eps=1e-6, training=False, seed=0):
    """{parameter name: relative error between backprop's gradient and the numerical estimate}.

    training=True checks the training-time network (dropout on): every pass, analytic and numerical,
    draws its dropout mask from a generator seeded with `seed`, so all of them drop the same units.
    """
    def same_mask():
        if training:
            net.use_rng(np.random.default_rng(seed))

    def loss():
        same_mask()
        if not training:
            return net.loss(X, Y)
        return net.output.forward(net.forward(X, training=True), Y)

    same_mask()
    _, grads = net.gradients(X, Y, training)
    analytic = {name: g.copy() for name, g in grads.items()}   # views that the next backward overwrites
    numeric = numerical_gradients(loss, net.params, eps)
    return {name: relative_error(analytic[name], numeric[name]) for name in net.params}
