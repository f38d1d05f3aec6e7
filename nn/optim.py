"""How the weights move once we have their gradients: SGD with momentum, Adam, and the learning-rate
schedule.

Each optimiser updates the network's arrays in place, W <- W - (a step), so the network object the
notebook holds is always the current model. Weight decay is decoupled from the gradient (as in AdamW):
it shrinks each weight matrix a little every step, which keeps the weights small and the network
from memorising the training digits. Biases are not decayed.
"""

import math

import numpy as np


class SGD:
    """Gradient descent with momentum.

    v <- momentum * v + g          W <- W - lr * v - lr * weight_decay * W
    The velocity v averages recent gradients, so steps keep going where gradients agree and cancel
    where they zig-zag.
    """

    name = "sgd"

    def __init__(self, params, momentum=0.9, weight_decay=0.0):
        self.params = params
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads, lr):
        for k, W in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += grads[k]
            if self.weight_decay and k.startswith("W"):
                W *= 1 - lr * self.weight_decay
            W -= lr * v

    def settings(self):
        return {"optimizer": self.name, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Adam:
    """Adam: each weight gets its own step size from running averages of its gradient.

    m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
    W <- W - lr * m_hat / (sqrt(v_hat) + eps),  with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
    The hats undo the bias towards zero of averages that start at zero.
    """

    name = "adam"

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.weight_decay = weight_decay
        # All weights in one array: each line of step() is then one numpy call over every parameter
        # instead of one per W and b, which is most of the cost for small networks.
        self.flat = _into_one_array(params)
        self.m, self.v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.g, self.tmp = np.empty_like(self.flat), np.empty_like(self.flat)
        self.t = 0

    def step(self, grads, lr):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into one scalar step size instead of two array divisions.
        step_size = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        g, m, v, tmp = self.g, self.m, self.v, self.tmp
        np.concatenate([grads[k].ravel() for k in self.params], out=g)
        # m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  W -= step_size m / (sqrt(v) + eps),
        # written with out= so that no step allocates memory.
        m *= b1
        m += np.multiply(g, 1 - b1, out=tmp)
        v *= b2
        v += np.multiply(np.multiply(g, g, out=tmp), 1 - b2, out=tmp)
        if self.weight_decay:
            for k, W in self.params.items():
                if k.startswith("W"):
                    W *= 1 - lr * self.weight_decay
        denominator = np.add(np.sqrt(v, out=tmp), self.eps, out=tmp)
        self.flat -= np.divide(np.multiply(m, step_size, out=g), denominator, out=g)

    def settings(self):
        return {"optimizer": self.name, "beta1": self.beta1, "beta2": self.beta2,
                "weight_decay": self.weight_decay}


def _into_one_array(params):
    """Copy every array of params into one contiguous array; params' entries become views of it."""
    flat = np.concatenate([p.ravel() for p in params.values()])
    offset = 0
    for k, p in params.items():
        params[k] = flat[offset:offset + p.size].reshape(p.shape)
        offset += p.size
    return flat


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def make_optimizer(name, params, weight_decay=0.0):
    """An optimiser by name ("adam" or "sgd") over the network's params."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, weight_decay=weight_decay)


def learning_rate(step, total_steps, peak, schedule="cosine", warmup=0.03):
    """The learning rate at a given step (0-based) of training.

    "constant": peak all the way.
    "cosine":   a short linear warm-up to peak over the first `warmup` share of steps (large early
                steps on random weights can blow up), then lr = peak * (1 + cos(pi * progress)) / 2,
                which spends most of the time at useful rates and ends near zero, where the final
                small steps settle into a good minimum.
    """
    if schedule == "constant":
        return peak
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}: choose 'cosine' or 'constant'")
    warmup_steps = max(1, int(warmup * total_steps))
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
