"""The one exception type for problems a user can cause and fix.

Its message says what happened, to which file, and what to do, in one line. The command line and the
notebooks print that message instead of a traceback.
"""


class NNError(Exception):
    """A problem the user can fix; str(error) says how."""
