"""User-facing errors: the CLI prints them as one line, with no traceback."""


class SaltbenchError(Exception):
    """Bad input or a refused action; the message names the file and what is wrong."""


class DataError(SaltbenchError):
    """A dataset file is missing, unreadable or inconsistent."""
