"""``vpo report runs|files|changes``: what past runs did, as text, JSON or CSV.

Rows are streamed from the database page by page and written as they come, so
a report over a million records needs no more memory than one page.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click

from vpo.cli.common import load_config_or_exit
from vpo.library import FileOutcome, FileResultRow, Library, RunRow
from vpo.library.reporting import (
    FILE_FIELDS,
    RUN_FIELDS,
    SinceError,
    codecs_of,
    file_record,
    human_bytes,
    human_seconds,
    local_time,
    parse_since,
    run_line,
    run_record,
    saved_text,
)
from vpo.text import json_text

REPORT_KINDS = ("runs", "files", "changes")


def one_line(text: str) -> str:
    """Control characters (a newline in a file name) escaped, so one field is one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def file_lines(row: FileResultRow) -> list[str]:
    """A per-file record for people: a headline, then before → after, the codecs and
    size of an encode, and each change."""
    how = "/".join(part for part in (row.plan_kind, row.tool) if part)
    head = (
        f"{local_time(row.recorded_at)} {row.policy_name or '(no policy)'} "
        f"{row.outcome.value}{f' [{how}]' if how else ''} {one_line(str(row.path))}"
    )
    encode = encode_line(row)
    if row.outcome is FileOutcome.CHANGED:
        saved = f", {saved_text(row.bytes_saved)}" if row.bytes_saved and not encode else ""
        head += f" ({human_bytes(row.bytes_written)}, {human_seconds(row.seconds)}{saved})"
    lines = [head]
    if row.before_summary and row.after_summary and row.before_summary != row.after_summary:
        lines.append(f"    {row.before_summary} → {row.after_summary}")
    if encode:
        lines.append(f"    {encode}")
    lines.extend(f"    {one_line(change)}" for change in row.changes)
    if row.error:
        lines.append(f"    {one_line(row.error)}")
    return lines


def encode_line(row: FileResultRow) -> str | None:
    """``encode: v:h264 a:aac → v:hevc a:aac, 45.1 MiB → 20.3 MiB (24.8 MiB saved)
    in 2m10s, 3.1× real time``; None for records without an encode."""
    before, after = codecs_of(row.before_summary), codecs_of(row.after_summary)
    if row.encode_seconds is None and before == after:
        return None
    line = f"encode: {before or '?'} → {after or '?'}"
    if row.original_size is not None and row.bytes_saved is not None:
        final = row.original_size - row.bytes_saved
        line += (
            f", {human_bytes(row.original_size)} → {human_bytes(final)} "
            f"({saved_text(row.bytes_saved)})"
        )
    if row.encode_seconds is not None:
        line += f" in {human_seconds(row.encode_seconds)}"
        if row.encode_speed:
            line += f", {row.encode_speed:.1f}× real time"
    return line


def write_json_array(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Stream a JSON array; returns how many records were written."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n  " if count else "\n  ")
        out.write(json_text(record, indent=None))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(records: Iterable[dict[str, Any]], fields: tuple[str, ...], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(record)
        count += 1
    return count


def _since_option(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_since(value, datetime.now().astimezone())
    except SinceError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.command("report")
@click.argument("kind", type=click.Choice(REPORT_KINDS))
@click.option(
    "--since",
    callback=_since_option,
    default=None,
    metavar="WHEN",
    help="Only records from WHEN on: 7d, 12h, 30m, or a date/time like 2026-11-01.",
)
@click.option("--policy", default=None, help="Only runs of this policy (its name).")
@click.option("--json", "as_json", is_flag=True, help="JSON array on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row on stdout.")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Library database (default: [library] database).",
)
def report(
    kind: str,
    since: float | None,
    policy: str | None,
    as_json: bool,
    as_csv: bool,
    db: Path | None,
) -> None:
    """Show past processing: RUNS (one line per run), FILES (every file of every
    run) or CHANGES (only files that were changed: what, where, when, by which
    policy, bytes, time, space saved and, for encodes, codecs and speed)."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    loaded = load_config_or_exit({"library.database": db}, cli_flags={"library.database": "--db"})
    out = sys.stdout
    with Library.open(loaded.config.library.database) as library:
        if kind == "runs":
            runs = library.runs(since=since, policy=policy)
            if as_json:
                write_json_array((run_record(r) for r in runs), out)
            elif as_csv:
                write_csv((run_record(r) for r in runs), RUN_FIELDS, out)
            else:
                _write_text((run_line(r) for r in runs), out, "no processing runs recorded")
                if len(runs) > 1:
                    click.echo(runs_total_line(runs), file=out)
            return
        outcomes = (FileOutcome.CHANGED,) if kind == "changes" else None
        rows = library.iter_file_results(since=since, policy=policy, outcomes=outcomes)
        if as_json:
            write_json_array((file_record(r) for r in rows), out)
        elif as_csv:
            write_csv((file_record(r) for r in rows), FILE_FIELDS, out)
        else:
            empty = "no changes recorded" if kind == "changes" else "no file results recorded"
            _write_text((line for r in rows for line in file_lines(r)), out, empty)


def runs_total_line(runs: list[RunRow]) -> str:
    """``Total: 3 runs, 12 changed, 1.2 GiB written, 300.0 MiB saved`` (runs recorded
    before schema 2 add nothing to the saved figure)."""
    changed = sum(run.counts.changed for run in runs)
    written = sum(run.counts.bytes_written for run in runs)
    saved = sum(run.bytes_saved or 0 for run in runs)
    return (
        f"Total: {len(runs)} runs, {changed} changed, {human_bytes(written)} written, "
        f"{saved_text(saved)}"
    )


def _write_text(lines: Iterable[str], out: TextIO, empty: str) -> None:
    wrote = False
    for line in lines:
        click.echo(line, file=out)
        wrote = True
    if not wrote:
        click.echo(empty, err=True)
