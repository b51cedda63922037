"""Error tiers and the exit codes they map to (documented in the README).

Per-file errors are recorded and the batch goes on as ``on_error`` says; fatal
errors stop the run before any file is touched.
"""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit codes; the one place that defines them."""

    OK = 0
    FILES_FAILED = 1  # at least one file could not be inspected or processed
    USAGE = 2  # bad arguments, invalid policy or configuration
    TOOL_MISSING = 3  # a required external tool is missing or too old
    INTERNAL = 4  # a bug in vpo: please report it
    HANGUP = 129  # SIGHUP (a closed terminal): 128 + 1
    INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2
    TERMINATED = 143  # SIGTERM (systemd, Docker, kill): 128 + 15


class VpoError(Exception):
    """Base of every error vpo reports to users as one line.

    ``path`` is the file the error is about (None: not about one file). The text
    without it comes from ``without_path()``: commands and result lines render
    ``<display-safe path>: <that text>`` at the edge, so no caller ever strips a
    path off a message.
    """

    exit_code: ExitCode = ExitCode.INTERNAL
    path: Path | None = None

    def without_path(self) -> str:
        """What went wrong, without the file name (``str()`` adds it when known)."""
        return str(self)


class FatalError(VpoError):
    """Stops the whole run before (or instead of) touching files."""

    exit_code = ExitCode.USAGE


class ConfigError(FatalError):
    """Invalid configuration file, environment variable or option."""


class FileError(VpoError):
    """Something wrong with one file; the batch goes on."""

    exit_code = ExitCode.FILES_FAILED
