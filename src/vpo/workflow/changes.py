"""Short human descriptions of what a plan changes, for result lines and records."""

from __future__ import annotations

from datetime import datetime, timezone

from vpo.plan import Plan, TrackDiff


def describe_plan(plan: Plan) -> tuple[str, ...]:
    """``("audio #2 (jpn): default on", "subtitle #4 (ger): removed (language not kept)")``."""
    lines: list[str] = []
    if plan.container is not plan.source.container:
        lines.append(f"container {plan.source.container.value} → {plan.container.value}")
    for row in plan.diff():
        text = _describe_row(row)
        if text:
            lines.append(text)
    if plan.removed_attachments:
        lines.append(f"{len(plan.removed_attachments)} attachment(s) removed")
    time = describe_time(plan)
    if time is not None:
        lines.append(time)
    return tuple(lines)


def describe_time(plan: Plan) -> str | None:
    """``file time → 2001-07-20 00:00 UTC (release date 2001-07-20 (radarr in_cinemas))``
    when the plan sets the file's time by itself."""
    change = plan.time_change()
    if change is None or plan.file_time is None:
        return None
    when = datetime.fromtimestamp(change / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"file time → {when} ({plan.file_time.reason})"


def _describe_row(row: TrackDiff) -> str | None:
    if row.before is None and row.after is not None:
        return f"{row.after.type.value} added ({row.after.language}, {row.after.codec})"
    if row.before is None:
        return None
    label = f"{row.before.type.value} #{row.before.index} ({row.before.language})"
    if row.after is None:
        return f"{label}: removed ({row.removal_reason})"
    parts = [_field_change(name, before, after) for name, before, after in row.changes]
    if row.moved:
        parts.append(f"moved to #{row.new_position}")
    return f"{label}: {', '.join(parts)}" if parts else None


def _field_change(name: str, before: object, after: object) -> str:
    if isinstance(after, bool):
        return f"{name} {'on' if after else 'off'}"
    return f"{name} {before or '∅'} → {after or '∅'}"
