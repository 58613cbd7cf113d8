"""User-facing errors: the CLI prints them as one line, with no traceback."""


class SaltbenchError(Exception):
    """Bad input or a refused action; the message names the file and what is wrong."""

    exit_code = 2


class DataError(SaltbenchError):
    """A dataset file is missing, unreadable or inconsistent."""


class OutputError(SaltbenchError):
    """A results file or folder cannot be written (read-only, disk full, ...)."""


class CorruptFileError(SaltbenchError):
    """A saved file cannot be read back (truncated, damaged or missing); the message names it."""

    def __init__(self, path: object, reason: object) -> None:
        text = str(reason).strip()
        reason = text.splitlines()[0][:120] if text else type(reason).__name__
        super().__init__(f"{path}: unreadable ({reason})")
        self.path = path


class DamagedTableError(SaltbenchError):
    """A CSV that saltbench appends to (the leaderboard) cannot be parsed; names file and line."""

    def __init__(self, path: object, line: int | None, reason: str, text: str = "") -> None:
        where = f"line {line}" if line else "somewhere"
        quoted = f": {text[:80]!r}" if text else ""
        super().__init__(f"{path}: damaged at {where} ({reason}){quoted}")
        self.path, self.line = path, line


class BusyError(SaltbenchError):
    """A run folder is held by another live process; a second writer is refused."""


class DivergedError(SaltbenchError):
    """Training produced a non-finite loss or weights: that framework x fold failed."""

    exit_code = 3


class WorkerCrashError(SaltbenchError):
    """A worker process died (killed, out of memory, crashed): not a user error, and the run
    can be resumed from its last checkpoint."""

    exit_code = 4


def warn(message: str) -> None:
    """A recoverable problem, in one line on stderr (the orchestrator relays workers' warnings)."""
    import sys

    print(f"saltbench: warning: {message}", file=sys.stderr, flush=True)


def exit_code_of(action) -> int:
    """Run `action()` as a process's body: its result as the exit code, a user error as one
    line and its own code, an interrupt as 130 (the CLI and every worker process end this way)."""
    import sys

    try:
        return int(action() or 0)
    except SaltbenchError as err:
        print(f"saltbench: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("saltbench: interrupted", file=sys.stderr)
        return 130
