"""What `vpo scan` prints: progress line, summary, JSON, and the display's routing."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from vpo.cli.scan_cmd import ScanDisplay, progress_line, summary_json, summary_text
from vpo.library.scan import ScanCounts, ScanProblem, ScanProgress, ScanSummary
from vpo.text import one_line


def test_progress_line_mentions_only_what_happened() -> None:
    counts = ScanCounts(found=12, new=3, changed=1, unchanged=8)
    assert progress_line(counts, 2.04) == (
        "Scanning: 12 found, 3 new, 1 changed, 8 unchanged, 2.0 s"
    )
    busy = ScanCounts(found=5, new=1, moved=2, errors=1, probing=2)
    assert progress_line(busy, 0.5) == (
        "Scanning: 5 found, 1 new, 0 changed, 0 unchanged, 2 moved, 1 error, 2 probing, 0.5 s"
    )


def test_summary_text_suggests_prune_only_when_useful() -> None:
    summary = ScanSummary(ScanCounts(found=3, unchanged=3, missing=2), seconds=1.25)
    assert summary_text(summary) == (
        "Scanned: 3 found, 0 new, 0 changed, 3 unchanged, 0 moved, 2 missing, 0 errors in 1.2 s"
        " (run with --prune to forget missing files)"
    )
    pruned = ScanSummary(ScanCounts(found=3, missing=2, pruned=2), seconds=1.0, interrupted=True)
    assert summary_text(pruned).startswith("Scan interrupted: 3 found")
    assert summary_text(pruned).endswith("(2 pruned from the library)")


def test_summary_json_lists_problems() -> None:
    problem = ScanProblem(Path("/lib/x.mkv"), "/lib/x.mkv: empty file (0 bytes)")
    summary = ScanSummary(ScanCounts(found=1, errors=1), seconds=0.1234, problems=(problem,))
    document = summary_json(summary, Path("/db/library.db"))
    assert document["errors"] == 1
    assert document["seconds"] == 0.123
    assert document["problems"] == [
        {"path": "/lib/x.mkv", "message": "/lib/x.mkv: empty file (0 bytes)"}
    ]


def test_one_line_escapes_control_characters() -> None:
    assert one_line("a\nb\tc ü") == "a\\nb\\tc ü"
    assert one_line("plain") == "plain"


def test_display_without_terminal_prints_problems_and_no_redraws() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    with ScanDisplay(console, live=False, quiet=False) as display:
        display(ScanProgress(ScanCounts(found=1), 0.1))  # too soon for a plain line
        display(ScanProblem(Path("/l/a\nb.mkv"), "/l/a\nb.mkv: not a media file"))
    assert stream.getvalue() == "vpo: /l/a\\nb.mkv: not a media file\n"


def test_quiet_display_still_reports_problems() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    with ScanDisplay(console, live=False, quiet=True) as display:
        display(ScanProgress(ScanCounts(found=1), 10.0))
        display(ScanProblem(Path("/l/a.mkv"), "/l/a.mkv: permission denied"))
    assert stream.getvalue() == "vpo: /l/a.mkv: permission denied\n"
