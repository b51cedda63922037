"""Pure helpers for ``vpo status`` and ``vpo report``: parsing ``--since``,
turning rows into flat records (one shape for JSON and CSV) and human units."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from vpo.library.records import FileResultRow, RunRow

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

RUN_FIELDS = (
    "run_id",
    "batch_id",
    "policy",
    "policy_hash",
    "started_at",
    "finished_at",
    "seconds",
    "outcome",
    "workers",
    "files",
    "changed",
    "unchanged",
    "skipped",
    "failed",
    "bytes_written",
    "bytes_saved",
)
FILE_FIELDS = (
    "recorded_at",
    "run_id",
    "policy",
    "path",
    "outcome",
    "plan_kind",
    "tool",
    "phase",
    "before",
    "after",
    "changes",
    "bytes_written",
    "seconds",
    "error",
    "original_size",
    "bytes_saved",
    "codecs_before",
    "codecs_after",
    "encode_seconds",
    "encode_speed",
)


class SinceError(ValueError):
    """``--since`` text that is neither a duration nor a date."""


def parse_since(text: str, now: datetime) -> float:
    """``7d``, ``12h``, ``30m``, ``2w``, ``90s`` (ago) or an ISO date/time → epoch seconds.

    A date/time without a zone is local time, as users type it; ``now`` must be aware.
    """
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        return (now - timedelta(seconds=amount * _UNIT_SECONDS[unit])).timestamp()
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(
            f"'{text}' is not a time: use a duration like 7d, 12h, 30m or a date like 2026-11-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # interpret as local time
    return moment.timestamp()


def iso_time(epoch: float | None) -> str | None:
    """UTC ISO 8601 with seconds, for JSON and CSV (unambiguous, sortable)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def local_time(epoch: float | None) -> str:
    """``2026-11-28 15:04`` in local time, for people."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def human_bytes(count: int) -> str:
    """``1.5 GiB``; binary units, one decimal above bytes."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def saved_text(saved: int) -> str:
    """``1.5 GiB saved``, or ``2.0 KiB larger`` when the file grew."""
    return f"{human_bytes(saved)} saved" if saved >= 0 else f"{human_bytes(-saved)} larger"


def codecs_of(summary: str | None) -> str | None:
    """The codecs of a stored track summary, per type, each once, in track order:
    ``v:h264* a:aac/jpn* a:aac/eng s:subrip/eng`` → ``v:h264 a:aac s:subrip``."""
    if summary is None:
        return None
    tokens = (token.split("/", 1)[0].rstrip("*!") for token in summary.split())
    return " ".join(dict.fromkeys(tokens))


def human_seconds(seconds: float | None) -> str:
    """``0.8 s``, ``3m02s``, ``1h05m``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def run_record(run: RunRow) -> dict[str, Any]:
    """One run as a flat record (keys: RUN_FIELDS)."""
    return {
        "run_id": run.run_id,
        "batch_id": run.batch_id,
        "policy": run.policy_name,
        "policy_hash": run.policy_hash,
        "started_at": iso_time(run.started_at),
        "finished_at": iso_time(run.finished_at),
        "seconds": None if run.seconds is None else round(run.seconds, 3),
        "outcome": run.outcome.value,
        "workers": run.workers,
        "files": run.counts.total,
        "changed": run.counts.changed,
        "unchanged": run.counts.unchanged,
        "skipped": run.counts.skipped,
        "failed": run.counts.failed,
        "bytes_written": run.counts.bytes_written,
        "bytes_saved": run.bytes_saved,
    }


def file_record(row: FileResultRow) -> dict[str, Any]:
    """One per-file result as a flat record (keys: FILE_FIELDS); changes joined by '; '."""
    return {
        "recorded_at": iso_time(row.recorded_at),
        "run_id": row.run_id,
        "policy": row.policy_name,
        "path": str(row.path),
        "outcome": row.outcome.value,
        "plan_kind": row.plan_kind,
        "tool": row.tool,
        "phase": row.phase,
        "before": row.before_summary,
        "after": row.after_summary,
        "changes": "; ".join(row.changes),
        "bytes_written": row.bytes_written,
        "seconds": round(row.seconds, 3),
        "error": row.error,
        "original_size": row.original_size,
        "bytes_saved": row.bytes_saved,
        "codecs_before": codecs_of(row.before_summary),
        "codecs_after": codecs_of(row.after_summary),
        "encode_seconds": _rounded(row.encode_seconds),
        "encode_speed": _rounded(row.encode_speed),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_line(run: RunRow) -> str:
    """``#12 2026-11-28 15:00 anime completed: 10 changed, 100 unchanged, …
    (1.2 GiB written, 300.0 MiB saved, 3m02s, 2 workers)``; runs recorded before
    schema 2 do not know what they saved and say nothing about it."""
    c = run.counts
    parts = [f"{c.changed} changed", f"{c.unchanged} unchanged"]
    if c.skipped:
        parts.append(f"{c.skipped} skipped")
    if c.failed:
        parts.append(f"{c.failed} failed")
    saved = "" if run.bytes_saved is None else f"{saved_text(run.bytes_saved)}, "
    return (
        f"#{run.run_id} {local_time(run.started_at)} {run.policy_name or '(no policy)'} "
        f"{run.outcome.value}: {', '.join(parts)} "
        f"({human_bytes(c.bytes_written)} written, {saved}{human_seconds(run.seconds)}, "
        f"{run.workers} worker{'s' if run.workers != 1 else ''})"
    )
