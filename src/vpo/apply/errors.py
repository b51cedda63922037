"""The ApplyError family: per-file failures of an apply, each one line for users.

Tool failures are ``vpo.tools.runner.ToolError`` (also a VpoError); the caller
records all of them per file (FileBusyError as *skipped*, the rest as *failed*).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from vpo.errors import FileError


class ApplyError(FileError):
    """A plan could not be applied; the original file is untouched.

    ``skipped`` tells the caller to count the file as skipped, not failed.
    """

    skipped: ClassVar[bool] = False

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}")

    def without_path(self) -> str:
        return self.detail


class PreflightError(ApplyError):
    """A check before writing failed: space, permissions, a growing or changed file."""


class GrowingFileError(PreflightError):
    """Modified too recently (maybe still downloading): skip it, do not fail it."""

    skipped = True


class FileBusyError(ApplyError):
    """Another vpo process or worker is modifying the file: skip it, do not fail it."""

    skipped = True


class FileChangedError(ApplyError):
    """Another program replaced, edited, appended to or deleted the file while vpo
    worked on it: vpo's output is discarded, nothing is replaced, and the file is
    skipped (its new content is processed on the next run)."""

    skipped = True


class VerificationError(ApplyError):
    """The written output does not match the plan; names the track and field."""

    def __init__(
        self,
        path: Path,
        detail: str,
        *,
        track: int | None = None,
        field: str | None = None,
    ) -> None:
        self.track = track
        self.field = field
        super().__init__(path, detail)
