"""Writing a file so that it is never half-written, and naming a file to a person.

Every file the project writes (a model, a digits file, a drawing) goes through atomic_write: a crash,
a full disk or Ctrl-C at any moment leaves either the old file or the new one.
"""

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


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
