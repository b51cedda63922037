"""Plain (non-terminal) batch progress: one whole line per finished file, nothing redrawn."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from vpo.batch.progress import ProgressTracker
from vpo.cli.render.batch_progress import BatchProgressDisplay, describe_result, display_path
from vpo.workflow.result import FileResult, FileStatus, PhaseResult, PhaseStatus


def test_describe_changed_file_lists_changes_and_tools() -> None:
    result = FileResult(
        Path("/m/a.mkv"),
        FileStatus.CHANGED,
        phases=(
            PhaseResult(
                "normalize",
                PhaseStatus.CHANGED,
                tool="mkvpropedit",
                changes=("audio 2: default on", "audio 1: default off"),
            ),
        ),
        seconds=0.046,
    )
    assert describe_result(result) == (
        "changed   /m/a.mkv: audio 2: default on; audio 1: default off [mkvpropedit] (0.05 s)"
    )


def test_describe_failed_and_skipped() -> None:
    failed = FileResult(Path("b.mkv"), FileStatus.FAILED, error="mkvmerge failed (exit 2): x")
    skipped = FileResult(Path("c.mkv"), FileStatus.SKIPPED, skip_reason="busy: locked")
    assert describe_result(failed).startswith("failed    b.mkv: mkvmerge failed (exit 2): x")
    assert describe_result(skipped).startswith("skipped   c.mkv: busy: locked")


def test_newline_in_a_name_stays_on_one_line() -> None:
    assert display_path(Path("a\nb.mkv")) == "a\\nb.mkv"


def test_plain_mode_prints_one_line_per_changed_file_and_only_counts_unchanged_ones() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    tracker = ProgressTracker(3)
    with BatchProgressDisplay(tracker, console, live=False) as display:
        for name, status in (
            ("a.mkv", FileStatus.UNCHANGED),
            ("b.mkv", FileStatus.CHANGED),
            ("c.mkv", FileStatus.UNCHANGED),
        ):
            display.file_started(Path(name))
            display.file_finished(FileResult(Path(name), status))
    lines = stream.getvalue().splitlines()
    assert lines == ["[2/3] changed   b.mkv: already conforms (0.00 s)"]
    assert tracker.snapshot().completed == 3
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_quiet_prints_nothing_but_still_counts() -> None:
    stream = io.StringIO()
    tracker = ProgressTracker(1)
    display = BatchProgressDisplay(tracker, Console(file=stream), live=False, quiet=True)
    with display:
        display.file_started(Path("a.mkv"))
        display.file_finished(FileResult(Path("a.mkv"), FileStatus.FAILED, error="x"))
    assert stream.getvalue() == ""
    assert tracker.snapshot().failed == 1


def test_encode_progress_shows_beside_the_active_file_and_goes_with_it() -> None:
    from vpo.cli.render.batch_progress import describe_encode
    from vpo.tools.progress import EncodeProgress

    tracker = ProgressTracker(1)
    display = BatchProgressDisplay(tracker, Console(file=io.StringIO()), live=False)
    display.file_started(Path("a.mkv"))
    display.encode_progress(EncodeProgress(Path("a.mkv"), 43.2, 120.0, 2.06, 35.0, 12.0))
    display.encode_progress(EncodeProgress(Path("other.mkv"), 10.0, None, None, None, 1.0))
    assert tracker.snapshot().details == {Path("a.mkv"): "encoding 43% 120 fps 2.1× ETA 0:35"}
    display.file_finished(FileResult(Path("a.mkv"), FileStatus.CHANGED))
    assert tracker.snapshot().details == {}
    empty = EncodeProgress(Path("a.mkv"), None, None, None, None, None)
    assert describe_encode(empty) == "encoding"
