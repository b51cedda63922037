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
    "ProbeFailure",
    "RunCounts",
    "RunOutcome",
    "RunRow",
    "StatKey",
]
