"""The library database: probe cache, processing history and reports."""

from vpo.library.database import Library
from vpo.library.records import (
    FileOutcome,
    FileRecord,
    FileResultRow,
    FileState,
    FileStatus,
    LibraryError,
    LibraryTotals,
    MovedFile,
    ProbedFile,
    ProbeFailure,
    RunCounts,
    RunOutcome,
    RunRow,
    StatKey,
)

__all__ = [
    "FileOutcome",
    "FileRecord",
    "FileResultRow",
    "FileState",
    "FileStatus",
    "Library",
    "LibraryError",
    "LibraryTotals",
    "MovedFile",
    "ProbeFailure",
    "ProbedFile",
    "RunCounts",
    "RunOutcome",
    "RunRow",
    "StatKey",
]
