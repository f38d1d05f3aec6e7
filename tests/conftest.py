"""Shared fixtures. MNIST for tests comes from ../shared/data/ beside the checkout (development and CI
machines have it); tests that need it skip with a message where it is absent."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SHARED_NPZ = SHARED / "mnist.npz"


@pytest.fixture(scope="session")
def mnist():
    """The whole of MNIST as uint8 arrays: x_train (60000, 784), y_train, x_test (10000, 784), y_test."""
    if not SHARED_NPZ.exists():
        pytest.skip(f"MNIST not found at {SHARED_NPZ} (only development and CI machines have it)")
    with np.load(SHARED_NPZ, allow_pickle=False) as f:
        return {k: (f[k].reshape(len(f[k]), -1) if k.startswith("x") else f[k]) for k in f.files}


@pytest.fixture(scope="session")
def shared_dir():
    if not SHARED.exists():
        pytest.skip(f"{SHARED} not found (only development and CI machines have it)")
    return SHARED
