"""``file_timestamp``: the modification time a phase wants the file to end with (pure).

As the original VPO: ``release_date`` takes Radarr's digital release, else its
physical release, else its cinema release, and Sonarr's episode air date, else
the series' first air date; ``date_source: auto`` asks Radarr before Sonarr.
A date before 1900 counts as none (Sonarr/Radarr's placeholder is 0001-01-01).
The time is midnight UTC of that day. Without a date, ``fallback`` decides:
``preserve`` (the file's time before vpo wrote it), ``now`` or ``skip`` (the
time writing the file gives). ``preserve`` and ``now`` act only on a file that
is written anyway; only a release date changes an otherwise untouched file,
once: the next run finds the time already set.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from vpo.media.metadata import FileMetadata
from vpo.plan import FileTime, TimeSource
from vpo.policy.plugin_metadata import release_day
from vpo.policy.schema import FileTimestamp

EARLIEST_YEAR = 1900  # earlier dates are placeholders (.NET's 0001-01-01), not releases

RELEASE_ORDER = {
    "radarr": ("digital_release", "physical_release", "in_cinemas"),
    "sonarr": ("air_date", "first_aired"),
}


def plan_file_time(rule: FileTimestamp, metadata: FileMetadata) -> tuple[FileTime | None, str]:
    """The phase's FileTime (None: leave the time to the write) and a note saying why."""
    if rule.mode == "preserve":
        return FileTime(TimeSource.ORIGINAL, reason="file_timestamp: preserve"), (
            "file_timestamp: the file keeps its time when it is written"
        )
    if rule.mode == "now":
        return FileTime(TimeSource.NOW, reason="file_timestamp: now"), (
            "file_timestamp: now (the time of writing, when the file is written)"
        )
    found = release_date(metadata, rule.date_source)
    if found is not None:
        day, source, kind = found
        stamp = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        reason = f"release date {day.isoformat()} ({source} {kind})"
        mtime_ns = int(stamp.timestamp()) * 1_000_000_000
        return FileTime(TimeSource.RELEASE, mtime_ns, reason), f"file_timestamp: {reason}"
    sources = "radarr or sonarr" if rule.date_source == "auto" else rule.date_source
    missing = f"file_timestamp: no release date from {sources}"
    if rule.fallback == "preserve":
        return FileTime(TimeSource.ORIGINAL, reason="file_timestamp fallback: preserve"), (
            f"{missing}; fallback preserve (kept when the file is written)"
        )
    if rule.fallback == "now":
        return FileTime(TimeSource.NOW, reason="file_timestamp fallback: now"), (
            f"{missing}; fallback now (the time of writing)"
        )
    return None, f"{missing}; fallback skip (the time writing gives)"


def release_date(metadata: FileMetadata, date_source: str) -> tuple[date, str, str] | None:
    """(day, source, kind) of the release date ``file_timestamp`` uses, or None."""
    sources = ("radarr", "sonarr") if date_source == "auto" else (date_source,)
    for source in sources:
        title = metadata.of(source)
        if title is None:
            continue
        for kind in RELEASE_ORDER[source]:
            day = release_day(title.release_date(kind))
            if day is not None and day.year >= EARLIEST_YEAR:
                return day, source, kind
    return None
