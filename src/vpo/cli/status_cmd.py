"""``vpo status``: what the library holds and what recent runs did."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from vpo.cli.common import load_config_or_exit
from vpo.library import Library, LibraryTotals
from vpo.library.reporting import human_bytes, run_line, run_record
from vpo.text import json_text

TOP = 8  # values shown per breakdown line; the rest are summed as "N more"


def breakdown(counts: Mapping[str, int], top: int = TOP, show: Callable[[int], str] = str) -> str:
    """``eng 120, jpn 30, fre 4, … 3 more`` (largest first, as the query orders them)."""
    if not counts:
        return "-"
    items = list(counts.items())
    shown = ", ".join(f"{value} {show(count)}" for value, count in items[:top])
    rest = len(items) - top
    return f"{shown}, … {rest} more" if rest > 0 else shown


def saved_breakdown(saved_by_policy: Mapping[str, int], top: int = TOP) -> str:
    """``anime 1.2 GiB, movies 300.0 MiB`` (largest first); a run without a policy is ``-``."""
    return breakdown(
        {policy or "-": saved for policy, saved in saved_by_policy.items()}, top, human_bytes
    )


def status_text(totals: LibraryTotals, database: Path) -> list[str]:
    missing = totals.by_status.get("missing", 0)
    errors = totals.by_status.get("error", 0)
    lines = [
        f"Library: {database}",
        f"Files: {totals.files} ({human_bytes(totals.total_bytes)}); "
        f"{errors} that could not be probed, {missing} missing",
        f"Containers: {breakdown(totals.by_container)}",
        f"Video codecs: {breakdown(totals.by_video_codec)}",
        f"Audio languages: {breakdown(totals.by_audio_language)}",
        f"Subtitle languages: {breakdown(totals.by_subtitle_language)}",
        f"Never processed: {totals.never_processed}",
        f"Space saved: {human_bytes(totals.bytes_saved)}"
        + (f" ({saved_breakdown(totals.saved_by_policy)})" if totals.saved_by_policy else ""),
    ]
    if totals.recent_runs:
        lines.append("Last runs:")
        lines.extend(f"  {run_line(run)}" for run in totals.recent_runs)
    else:
        lines.append("Last runs: none yet (vpo process records them)")
    return lines


def status_json(totals: LibraryTotals, database: Path) -> dict[str, Any]:
    return {
        "database": str(database),
        "files": totals.files,
        "bytes": totals.total_bytes,
        "by_status": dict(totals.by_status),
        "by_container": dict(totals.by_container),
        "by_video_codec": dict(totals.by_video_codec),
        "by_audio_language": dict(totals.by_audio_language),
        "by_subtitle_language": dict(totals.by_subtitle_language),
        "never_processed": totals.never_processed,
        "bytes_saved": totals.bytes_saved,
        "bytes_saved_by_policy": dict(totals.saved_by_policy),
        "recent_runs": [run_record(run) for run in totals.recent_runs],
    }


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON on stdout.")
@click.option(
    "--runs",
    "recent",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="How many recent runs to show.",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Library database (default: [library] database).",
)
def status(as_json: bool, recent: int, db: Path | None) -> None:
    """Library totals: files by container, codec and language, files never
    processed, and the last processing runs."""
    loaded = load_config_or_exit({"library.database": db}, cli_flags={"library.database": "--db"})
    database = loaded.config.library.database
    with Library.open(database) as library:
        totals = library.totals(recent_runs=recent)
    if as_json:
        click.echo(json_text(status_json(totals, database)))
    else:
        for line in status_text(totals, database):
            click.echo(line)
