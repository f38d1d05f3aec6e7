"""A network's memory: a few hundred of the digits it was trained on, per digit, with its scores for them.

A network that learns from one new example forgets what it knew, unless it keeps practising what it
knew (catastrophic forgetting; the remedy that works is replaying real examples, even a few: Chaudhry
et al. 2019). So every model file carries a small, class-balanced sample of its own training digits
and the scores Z the network gave them when it was saved. Learning a correction rehearses them (the
labels, and the scores: "answer as you did", as in Dark Experience Replay, Buzzega et al. 2020) and
checks itself against the ones it did not rehearse.

    images  (n, 784) uint8    the digits, as the network reads them before scaling
    labels  (n,)     uint8    their true digits
    logits  (n, 10)  float32  the network's scores Z for them when the memory was made

300 digits per digit class is 3,000 digits: about half a megabyte in a model file, compressed.
"""

from dataclasses import dataclass

import numpy as np

from .network import scale_pixels

PER_DIGIT = 300        # digits remembered per class
CHECK_EVERY = 3        # every third remembered digit is a check digit, never rehearsed


@dataclass(frozen=True)
class Memory:
    """Remembered training digits (see the module docstring for the shapes)."""

    images: np.ndarray
    labels: np.ndarray
    logits: np.ndarray

    def __len__(self):
        return len(self.labels)

    @property
    def check(self):
        """Which digits are kept for checking (True) rather than rehearsed: (n,) bool, a third of them.

        Digits are stored class by class, so every class gives a third of its digits to each side.
        """
        return np.arange(len(self)) % CHECK_EVERY == CHECK_EVERY - 1


def remember(net, images, labels, per_digit=PER_DIGIT, seed=0):
    """A Memory of `per_digit` digits of each class drawn at random from the training digits, scored by
    `net` as it is now. images (m, 784) uint8, labels (m,): the digits the network was trained on.

    A class with fewer digits gives all it has; the digits are stored class by class.
    """
    rng = np.random.default_rng([seed, 7])
    labels = np.asarray(labels)
    chosen = [rng.permutation(np.flatnonzero(labels == d))[:per_digit] for d in np.unique(labels)]
    index = np.concatenate(chosen) if chosen else np.zeros(0, int)
    kept = np.ascontiguousarray(np.asarray(images).reshape(len(labels), -1)[index], dtype=np.uint8)
    logits = np.concatenate([net.forward(scale_pixels(kept[i:i + 500], net.dtype))
                             for i in range(0, len(kept), 500)] or [np.zeros((0, net.classes))])
    return Memory(kept, labels[index].astype(np.uint8), logits.astype(np.float32))
