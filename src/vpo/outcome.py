"""The one outcome vocabulary of a file in a run, shared by the workflow and the library."""

from __future__ import annotations

import enum


class FileOutcome(str, enum.Enum):
    """What one run did to one file: counted in summaries, stored in the library."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # busy, still growing, filtered by skip_when, stopped before start
    FAILED = "failed"
