"""Where everything lives, and the one way the project writes a file.

The project folder (HOME) holds data/ and models/. In a clone it is the clone's folder, whatever the
current directory; installed with `pip install .` it is the folder the command is run from, so a user's
models and data never end up inside site-packages. DIGITS_HOME=/some/folder chooses another.

Model files have three roles, and a name for each:
  models/mnist_mlp.npz    ships with the project, trained on MNIST; nothing ever writes it
  models/trained_mlp.npz  what train_model.ipynb (or `python -m nn train`) writes when you retrain
  models/user_mnist_mlp.npz  the base model plus what your corrections taught it (one per base model)
The base model is the one you trained if there is one, else the shipped one; delete trained_mlp.npz to
get the shipped one back.
"""

import os
import site
import sys
import tempfile
from contextlib import contextmanager
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


def shipped_model(arch="mlp"):
    """The pretrained model file that ships with the project (in the clone, or where pip installed it)."""
    name = SHIPPED_NAMES[arch]
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


def shown(path):
    """A path as the person would type it from where they are: relative to the current folder when
    inside it, else in full."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):       # outside it, or the current folder no longer exists
        return str(path)


@contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside `path` for writing; rename it to `path` only if all went well.

    A crash, a full disk or Ctrl-C at any moment leaves either the old file or the new one, never half
    of one, and no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _permissions_for(path))
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporary_files(folder, older_than_seconds=3600):
    """Delete temporary files that an earlier, killed process left in `folder` (".NAME.*.tmp")."""
    import time

    folder = Path(folder)
    if not folder.is_dir():
        return
    for tmp in folder.glob(".*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > older_than_seconds:
                tmp.unlink()
        except OSError:
            pass  # another process removed or is using it


def _permissions_for(path):
    """Keep an existing file's permissions; a new file gets the usual ones (mkstemp's are owner-only)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
