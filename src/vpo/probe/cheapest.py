"""The cheapest probe per container, for scans and batches over many files.

Matroska/WebM (most of a typical library) is described from its EBML headers
in-process: no process start, well under a millisecond from page cache.
Everything else goes to ``probe_file`` (ffprobe). A Matroska file whose headers
the in-process reader cannot make sense of gets a second opinion from
``probe_file`` (mkvmerge), so an unusual layout is not reported as corrupt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vpo.media.model import MediaFile
from vpo.probe.errors import NotMediaError, UnreadableFileError
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.probe import EBML_MAGIC, probe_file, unsupported_reason
from vpo.tools.locate import ToolPaths

Prober = Callable[[Path], MediaFile]


@dataclass(frozen=True, slots=True)
class CheapestProber:
    """A thread-safe, picklable ``path → MediaFile`` that raises ProbeError or ToolError.

    Plain data (tool paths and a timeout), so it can travel to a worker process.
    """

    tools: ToolPaths
    timeout: float

    def __call__(self, path: Path) -> MediaFile:
        if not _starts_with_ebml(path):
            return probe_file(path, self.tools, timeout=self.timeout)
        try:
            media = probe_matroska_headers(path)
        except NotMediaError:
            return probe_file(path, self.tools, timeout=self.timeout)
        reason = unsupported_reason(media)
        if reason is not None:
            raise NotMediaError(path, reason)
        return media


def cheapest_prober(tools: ToolPaths, *, timeout: float) -> Prober:
    """A thread-safe ``path → MediaFile`` that raises ProbeError or ToolError."""
    return CheapestProber(tools, timeout)


def _starts_with_ebml(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(len(EBML_MAGIC)) == EBML_MAGIC
    except PermissionError as error:
        raise UnreadableFileError(path) from error
    except OSError:
        return False  # probe_file reports missing, directory, unreadable … precisely
