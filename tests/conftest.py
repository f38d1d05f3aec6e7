"""Shared fixtures. MNIST for tests comes from ../shared/data/mnist.npz beside the checkout (development and
CI machines have it), else from the MNIST files the project downloaded into data/
(`python -m digits download`); tests that need it skip with a message only where neither is there."""

import pytest

from benchmarks.mnist import SHARED as SHARED_NPZ
from benchmarks.mnist import sources as mnist_sources
from digits import paths

ROOT = paths.PACKAGE.parent          # the checkout whose packages are under test
SHARED = SHARED_NPZ.parent           # ../shared/data, where the official IDX files are too


def read_mnist(train, test):
    """{"x_train": (m, 784) uint8, "y_train": (m,) uint8, "x_test", "y_test"} from the two files."""
    from digits.data import load_digits

    x_train, y_train = load_digits(train, split="train")
    x_test, y_test = load_digits(test, split="test")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _mnist_sources_or_skip():
    sources = mnist_sources()
    if sources is None:
        pytest.skip(f"MNIST not found: neither {SHARED_NPZ} (development and CI machines) nor "
                    f"{paths.MNIST_TRAIN} and {paths.MNIST_TEST} "
                    "(`python -m digits download` puts them there)")
    return sources


@pytest.fixture(scope="session")
def mnist_files():
    """(train_path, test_path) that load_digits, the CLI (--data, --test-data) and the notebook
    (TRAIN_DATA, TEST_DATA) read: the shared mnist.npz twice, or data/mnist_train.csv and mnist_test.csv."""
    return _mnist_sources_or_skip()


@pytest.fixture(scope="session")
def mnist(mnist_files):
    """The whole of MNIST as uint8 arrays: x_train (60000, 784), y_train, x_test (10000, 784), y_test."""
    data = read_mnist(*mnist_files)
    assert data["x_train"].shape == (60000, 784) and data["x_test"].shape == (10000, 784), \
        {k: v.shape for k, v in data.items()}
    return data
