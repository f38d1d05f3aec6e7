"""Where everything lives (a file is written with nn.files.atomic_write, shown with nn.files.shown).

The project folder (HOME) holds data/ and models/. In a clone it is the clone's folder, whatever the
current directory; installed with `pip install .` it is the folder the command is run from, so a user's
models and data never end up inside site-packages. DIGITS_HOME=/some/folder chooses another.

Model files have three roles, and a name for each:
  models/mnist_mlp.npz    ships with the project, trained on MNIST (and written digits); nothing writes it
  models/trained_mlp.npz  what train_model.ipynb (or `python -m digits train`) writes when you retrain
  models/user_mnist_mlp.npz  the base model plus what your corrections taught it (one per base model)
The base model is the one you trained if there is one, else the shipped one; delete trained_mlp.npz to
get the shipped one back.
"""

import os
import site
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _home():
    if os.environ.get("DIGITS_HOME"):
        return Path(os.environ["DIGITS_HOME"]).expanduser().resolve()
    checkout = PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "models").is_dir():
        return checkout
    return Path.cwd()


HOME = _home()
DATA = HOME / "data"
MODELS = HOME / "models"

MNIST_TRAIN = DATA / "mnist_train.csv"
MNIST_TEST = DATA / "mnist_test.csv"
USER_SAMPLES = DATA / "user_samples.csv"    # the drawings a user corrected, MNIST CSV layout

SHIPPED_NAMES = {"mlp": "mnist_mlp.npz", "cnn": "mnist_cnn.npz"}
TRAINED_NAMES = {"mlp": "trained_mlp.npz", "cnn": "trained_cnn.npz"}
NOT_A_DIGIT = "not_a_digit.npz"      # the network that tells digits from other drawings (not_digit.py)


def shipped_model(arch="mlp"):
    """The pretrained model file that ships with the project (in the clone, or where pip installed it)."""
    return shipped_file(SHIPPED_NAMES[arch])


def not_a_digit_model():
    """The shipped not-a-digit network (`python -m digits train-gate` makes it anew)."""
    return shipped_file(NOT_A_DIGIT)


def shipped_file(name):
    """A file that ships in models/: in the clone, or where pip installed it."""
    candidates = [MODELS / name, PACKAGE.parent / "models" / name]
    for prefix in (sys.prefix, site.getuserbase()):
        candidates.append(Path(prefix) / "share" / "digit-recognizer" / "models" / name)
    return next((path for path in candidates if path.is_file()), candidates[0])


def trained_model(arch="mlp"):
    """Where training writes a model you trained yourself."""
    return MODELS / TRAINED_NAMES[arch]


def base_model(arch="mlp"):
    """The one rule for the base model: the one you trained if there is one, else the shipped one."""
    trained = trained_model(arch)
    return trained if trained.is_file() else shipped_model(arch)


def user_model(base):
    """Where the user's own model for a base model lives: one per base (models/user_mnist_mlp.npz,
    models/user_mnist_cnn.npz, ...), so that switching between networks re-learns nothing."""
    return MODELS / f"user_{Path(base).stem}.npz"
