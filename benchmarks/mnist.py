"""Where the benchmarks find MNIST: ../shared/data/mnist.npz on development and CI machines, else the CSV
files the project downloaded into data/ (`python -m digits download`). Every benchmark asks here, so they
all look in the same places and in the same order."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digits.data import load_digits  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "mnist.npz"


def source(split):
    """The file that holds MNIST's "train" or "test" split on this machine, or None."""
    for path in (SHARED, ROOT / "data" / f"mnist_{split}.csv"):
        if path.exists():
            return path
    return None


def mnist(split):
    """(images (m, 784) uint8, labels) of MNIST's "train" or "test" split, or None where it is not here."""
    path = source(split)
    return None if path is None else load_digits(path, split=split)


def mnist_rehearsal(n=5000):
    """The first n MNIST training digits: what a user with MNIST in data/ rehearses when correcting."""
    images, labels = mnist("train")
    return images[:n], labels[:n]
