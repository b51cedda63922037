"""The end of ``vpo process``: a human summary on stdout, or one JSON document."""

from __future__ import annotations

from typing import Any

from vpo.batch.progress import format_duration
from vpo.batch.runner import BatchResult
from vpo.cli.render.batch_progress import display_path
from vpo.workflow.result import FileResult, FileStatus

SCHEMA = "vpo.process/1"


def summary_lines(batch: BatchResult, *, interrupted: bool) -> list[str]:
    """``10 files: 6 changed, 3 unchanged, 0 skipped, 1 failed in 0:04 (2 workers)``."""
    counts = batch.counts
    total = batch.total
    per_file = batch.seconds / total if total else 0.0
    lines = [
        f"{total} file{'s' if total != 1 else ''}: {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed "
        f"in {format_duration(batch.seconds)} ({batch.workers} worker"
        f"{'s' if batch.workers != 1 else ''}, {per_file:.2f} s per file)"
    ]
    failed = batch.failed
    if failed:
        lines.append("Failed:")
        lines.extend(f"  {display_path(r.path)}: {r.error}" for r in failed)
    if interrupted:
        lines.append("Stopped early: interrupted (Ctrl-C); files not started were left alone")
    elif batch.stopped_early:
        lines.append(f"Stopped early: {batch.stop_reason}")
    return lines


def process_document(
    batch: BatchResult,
    *,
    policy: str,
    phases: list[str],
    interrupted: bool,
    run_id: int | None,
) -> dict[str, Any]:
    """The documented ``vpo.process/1`` JSON document (docs/process.md)."""
    return {
        "schema": SCHEMA,
        "policy": policy,
        "phases": phases,
        "run_id": run_id,
        "summary": {
            "total": batch.total,
            **batch.counts,
            "stopped_early": batch.stopped_early or interrupted,
            "stop_reason": "interrupted" if interrupted else batch.stop_reason,
            "seconds": round(batch.seconds, 3),
            "workers": batch.workers,
            "bytes_written": batch.bytes_written,
            "bytes_saved": batch.bytes_saved,
        },
        "files": [file_dict(result) for result in batch.results],
    }


def file_dict(result: FileResult) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "status": result.status.value,
        "seconds": round(result.seconds, 3),
        "error": result.error if result.status is FileStatus.FAILED else None,
        "skip_reason": result.skip_reason if result.status is FileStatus.SKIPPED else None,
        "bytes_written": result.bytes_written,
        "bytes_saved": result.bytes_saved,
        "phases": [
            {
                "phase": phase.phase,
                "status": phase.status.value,
                "kind": phase.kind,
                "tool": phase.tool,
                "seconds": round(phase.seconds, 3),
                "message": phase.message,
                "changes": list(phase.changes),
                "original_size": phase.original_size,
                "bytes_saved": phase.bytes_saved,
                "encode_seconds": _rounded(phase.encode_seconds),
                "encode_speed": _rounded(phase.encode_speed),
            }
            for phase in result.phases
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
