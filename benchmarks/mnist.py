"""Where the benchmarks and the tests find MNIST: ../shared/data/mnist.npz on development and CI machines,
else the CSV files the project downloaded into data/ (`python -m digits download`). Every benchmark and
the tests' fixtures ask here, so they all look in the same places and in the same order. (The project
itself never looks in ../shared: a user has only data/.)"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digits import paths  # noqa: E402
from digits.data import load_digits  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "mnist.npz"


def sources(npz=SHARED, train=paths.MNIST_TRAIN, test=paths.MNIST_TEST):
    """(train file, test file) of MNIST on this machine, or None.

    The shared mnist.npz (both are that file: whoever loads it picks the split, as the CLI and the notebook
    do with split="train" and "test"), else the two CSVs in data/.
    """
    if npz.is_file():
        return npz, npz
    if train.is_file() and test.is_file():
        return train, test
    return None


def source(split):
    """The file that holds MNIST's "train" or "test" split on this machine, or None."""
    found = sources()
    return None if found is None else found[split == "test"]


def mnist(split):
    """(images (m, 784) uint8, labels) of MNIST's "train" or "test" split, or None where it is not here."""
    path = source(split)
    return None if path is None else load_digits(path, split=split)


def mnist_or_say_why(split):
    """mnist(split), or None after printing that the benchmark is skipped for want of it."""
    data = mnist(split)
    if data is None:
        print(f"skipped: no MNIST found ({SHARED}, or data/mnist_train.csv and data/mnist_test.csv)")
    return data


def mnist_rehearsal(n=5000):
    """The first n MNIST training digits: what a user with MNIST in data/ rehearses when correcting."""
    images, labels = mnist("train")
    return images[:n], labels[:n]
