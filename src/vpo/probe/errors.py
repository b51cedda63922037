"""Distinct probe failures, each one line naming the file and the cause."""

from __future__ import annotations

from pathlib import Path

from vpo.errors import FileError


class ProbeError(FileError):
    """A file could not be probed.

    ``kind`` is a stable machine name (``vpo inspect --json`` prints it);
    ``reason`` the human one.
    """

    kind = "probe_failed"
    reason = "cannot be probed"

    def __init__(self, path: Path, detail: str | None = None) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {self.cause}")

    @property
    def cause(self) -> str:
        """The message without the path: what went wrong with the file."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason

    def without_path(self) -> str:
        return self.cause


class FileNotFoundProbeError(ProbeError):
    kind = "file_not_found"
    reason = "file not found"


class NotAFileError(ProbeError):
    kind = "not_a_file"
    reason = "not a regular file"


class UnreadableFileError(ProbeError):
    kind = "unreadable"
    reason = "permission denied"


class EmptyFileError(ProbeError):
    kind = "empty"
    reason = "empty file (0 bytes)"


class NotMediaError(ProbeError):
    kind = "not_media"
    reason = "not a media file or corrupt"


class TruncatedFileError(ProbeError):
    kind = "truncated"
    reason = "truncated Matroska file"


class ProbeTimeoutError(ProbeError):
    kind = "timeout"
    reason = "probe timed out"


class UnexpectedProbeOutputError(ProbeError):
    """The tool answered, but not in the shape vpo knows (a new tool version?)."""

    kind = "unexpected_output"
    reason = "unexpected probe output"
