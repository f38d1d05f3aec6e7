"""The one exception type for problems a user can cause and fix, and the one place that turns any
expected failure into a line a person can act on.

An NNError's message says what happened, to which file, and what to do, in one line. The command line,
the notebooks and the canvas show `explain(error)` instead of a traceback: the same words everywhere.
"""

import errno


class NNError(Exception):
    """A problem the user can fix; str(error) says how."""


def explain(error):
    """One line for a person about an expected failure, or None for a real bug (show the traceback)."""
    if isinstance(error, NNError):
        return str(error)
    if isinstance(error, MemoryError):
        return ("out of memory: the input is too large for this machine. Use a smaller file, or close "
                "other programs and try again; nothing was saved.")
    if isinstance(error, OSError):
        where = f" {error.filename}" if getattr(error, "filename", None) else ""
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (f"not allowed to write{where}: the folder is read-only or belongs to another user. "
                    "Choose a folder you can write to (e.g. --model ~/my_model.npz), or fix its "
                    "permissions; nothing was changed.")
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return (f"the disk is full{' (writing' + where + ')' if where else ''}: free some space and "
                    "try again; the previous files were left as they were.")
        return f"could not read or write{where}: {error.strerror or error}. Check the path and try again."
    return None
