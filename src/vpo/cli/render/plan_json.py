"""The documented JSON form of dry-run plans (docs/process.md), as plain dicts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from vpo.media.model import TrackFlags
from vpo.plan import Plan, PlannedTrack
from vpo.policy.phases import FileEvaluation, PhaseResult

FORMAT_VERSION = 1


def flags_dict(flags: TrackFlags) -> dict[str, bool]:
    return {name: bool(getattr(flags, name)) for name in TrackFlags.__slots__}


def _track(position: int, planned: PlannedTrack) -> dict[str, Any]:
    return {
        "position": position,
        "source_index": planned.source_index,
        "type": planned.type.value,
        "codec": planned.codec,
        "language": planned.language,
        "title": planned.title,
        "flags": flags_dict(planned.flags),
        "encode": None
        if planned.encode is None
        else {"codec": planned.encode.codec, "parameters": dict(planned.encode.parameters)},
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "phase": plan.phase,
        "kind": plan.kind.value,
        "container": {"before": plan.source.container.value, "after": plan.container.value},
        "tracks": [_track(position, planned) for position, planned in enumerate(plan.tracks)],
        "removed": [{"source_index": r.source_index, "reason": r.reason} for r in plan.removed],
        "removed_attachments": list(plan.removed_attachments),
        "changes": [
            {
                "position": change.position,
                "source_index": change.source_index,
                "fields": {
                    name: {"before": before, "after": after}
                    for name, before, after in change.fields
                },
            }
            for change in plan.metadata_changes()
        ],
        "file_time": _file_time(plan),
        "warnings": list(plan.warnings),
        "notes": list(plan.notes),
    }


def _file_time(plan: Plan) -> dict[str, str] | None:
    """The modification time the plan sets by itself (file_timestamp), as UTC ISO 8601."""
    change = plan.time_change()
    if change is None or plan.file_time is None:
        return None
    return {
        "before": _iso(plan.source.mtime_ns),
        "after": _iso(change),
        "reason": plan.file_time.reason,
    }


def _iso(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc).isoformat()


def _phase(result: PhaseResult) -> dict[str, Any]:
    return {
        "name": result.phase,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "plan": None if result.plan is None else plan_dict(result.plan),
    }


def file_dict(evaluation: FileEvaluation) -> dict[str, Any]:
    media = evaluation.media
    return {
        "path": str(media.path),
        "status": "failed" if evaluation.failed else "planned",
        "kind": evaluation.kind.value,
        "error": None,
        "phases": [_phase(result) for result in evaluation.phases],
    }


def error_dict(path: str, message: str) -> dict[str, Any]:
    """A file that could not be probed or read."""
    return {"path": path, "status": "error", "kind": None, "error": message, "phases": []}


def document(
    policy: str, phases: list[str], files: list[dict[str, Any]], summary: dict[str, int]
) -> dict[str, Any]:
    return {
        "format": "vpo.dry-run",
        "version": FORMAT_VERSION,
        "policy": policy,
        "phases": phases,
        "files": files,
        "summary": summary,
    }
