"""Distinct probe failures, each one line naming the file and the cause."""

from __future__ import annotations

from pathlib import Path

from vpo.errors import FileError


class ProbeError(FileError):
    """A file could not be probed."""

    reason = "cannot be probed"

    def __init__(self, path: Path, detail: str | None = None) -> None:
        self.path = path
        self.detail = detail
        text = f"{self.reason}: {detail}" if detail else self.reason
        super().__init__(f"{path}: {text}")


class FileNotFoundProbeError(ProbeError):
    reason = "file not found"


class NotAFileError(ProbeError):
    reason = "not a regular file"


class UnreadableFileError(ProbeError):
    reason = "permission denied"


class EmptyFileError(ProbeError):
    reason = "empty file (0 bytes)"


class NotMediaError(ProbeError):
    reason = "not a media file or corrupt"


class TruncatedFileError(ProbeError):
    reason = "truncated Matroska file"


class ProbeTimeoutError(ProbeError):
    reason = "probe timed out"


class UnexpectedProbeOutputError(ProbeError):
    """The tool answered, but not in the shape vpo knows (a new tool version?)."""

    reason = "unexpected probe output"
