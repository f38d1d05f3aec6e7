"""How the weights move once we have their gradients: SGD with momentum, Adam, and the learning-rate
schedule.

Both optimisers work on the network's one flat parameter array `w` and its gradient array `g` (see
network.py) and update `w` in place, so every layer, and every array a caller holds from
`net.params`, is the current model after each step. Weight decay is decoupled from the gradient (as in
AdamW): each step shrinks the weight matrices by a factor (1 - lr * weight_decay), which keeps the
weights small and the network from memorising the training digits. Biases are not decayed.
WeightAverage keeps a moving average of the weights as they move, the model that is finally kept.
"""

import math
from contextlib import contextmanager

import numpy as np


class SGD:
    """Gradient descent with momentum.

    v <- momentum * v + g          W <- W * (1 - lr * weight_decay) - lr * v
    The velocity v averages recent gradients, so steps keep going where gradients agree and cancel
    where they zig-zag.
    """

    name = "sgd"

    def __init__(self, w, g, momentum=0.9, weight_decay=0.0, decayed=()):
        self.w, self.g, self.decayed = w, g, list(decayed)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = np.zeros_like(w)

    def step(self, lr):
        v = self.velocity
        v *= self.momentum
        v += self.g
        _decay(self.decayed, lr * self.weight_decay)
        self.w -= lr * v


class Adam:
    """Adam (Kingma and Ba, 2015): each weight gets its own step size from running averages of its
    gradient g.

    m <- beta1 m + (1 - beta1) g            the average gradient ("momentum")
    v <- beta2 v + (1 - beta2) g^2          the average squared gradient (how large g usually is)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)    undo the pull towards the zeros they start at
    W <- W - lr * m_hat / (sqrt(v_hat) + eps)
    Defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (eps only guards against dividing by zero).
    """

    name = "adam"

    def __init__(self, w, g, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decayed=()):
        self.w, self.g, self.decayed = w, g, list(decayed)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.weight_decay = weight_decay
        self.m, self.v, self.tmp = np.zeros_like(w), np.zeros_like(w), np.empty_like(w)
        self.t = 0

    def step(self, lr):
        self.t += 1
        b1, b2, g, m, v, tmp = self.beta1, self.beta2, self.g, self.m, self.v, self.tmp
        # Both bias corrections folded into scalars, which is the formula above rearranged:
        # lr m_hat / (sqrt(v_hat) + eps) = step_size * m / (sqrt(v) + eps * sqrt(1 - beta2^t)).
        correction = math.sqrt(1 - b2**self.t)
        step_size = lr * correction / (1 - b1**self.t)
        # Written with out= so that a step allocates no memory: the formula written out with new
        # arrays (self.m = b1 * m + (1 - b1) * g, ...) gives the same numbers bit for bit, but makes the
        # dense network's training step about 1.25x slower (benchmarks/speed_tricks.py).
        m *= b1
        m += np.multiply(g, 1 - b1, out=tmp)
        v *= b2
        v += np.multiply(np.multiply(g, g, out=tmp), 1 - b2, out=tmp)
        _decay(self.decayed, lr * self.weight_decay)
        denominator = np.add(np.sqrt(v, out=tmp), self.eps * correction, out=tmp)
        np.divide(m, denominator, out=tmp)
        tmp *= step_size
        self.w -= tmp


def _decay(weights, amount):
    if amount:
        for W in weights:
            W *= 1 - amount


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def make_optimizer(name, net, weight_decay=0.0):
    """An optimiser by name ("adam" or "sgd") over the network's flat parameters; decays its W's."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
    decayed = [p for k, p in net.params.items() if k.startswith("W")]
    return OPTIMIZERS[name](net.flat, net.flat_grad, weight_decay=weight_decay, decayed=decayed)


class WeightAverage:
    """A moving average of the weights over the steps of training (Polyak averaging, as an
    exponential moving average):

        w_avg <- d w_avg + (1 - d) w,    d = min(decay, (1 + t) / (10 + t)) at step t

    Late in training the weights jitter around a minimum, pushed about by each batch's noise (and by
    each batch's random distortions); their average sits nearer the middle of that minimum and reads
    unseen digits a little better than the last weights do. The smaller d of the first steps keeps
    the early average from being mostly the random starting weights.
    """

    def __init__(self, w, decay=0.999):
        self.w, self.decay, self.t = w, decay, 0
        self.average = w.copy()

    def update(self):
        d = min(self.decay, (1 + self.t) / (10 + self.t))
        self.average += (1 - d) * (self.w - self.average)
        self.t += 1

    @contextmanager
    def swapped_in(self):
        """Within the block, the network's weights are the average (to measure it); then as before."""
        current = self.w.copy()
        self.w[...] = self.average
        try:
            yield
        finally:
            self.w[...] = current


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
