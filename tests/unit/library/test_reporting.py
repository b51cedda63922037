"""Pure report helpers: --since parsing, units and flat records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.library import FileOutcome, FileResultRow, RunCounts, RunOutcome, RunRow
from vpo.library.reporting import (
    FILE_FIELDS,
    RUN_FIELDS,
    SinceError,
    file_record,
    human_bytes,
    human_seconds,
    iso_time,
    parse_since,
    run_line,
    run_record,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 1.5D ", timedelta(hours=36)),
    ],
)
def test_relative_since(text: str, ago: timedelta) -> None:
    assert parse_since(text, NOW) == (NOW - ago).timestamp()


def test_absolute_since_with_zone_and_local() -> None:
    assert (
        parse_since("2026-11-01T10:00+00:00", NOW)
        == datetime(2026, 11, 1, 10, tzinfo=timezone.utc).timestamp()
    )
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1).astimezone().timestamp()


@pytest.mark.parametrize("text", ["", "yesterday", "7x", "-3d", "2026-13-01"])
def test_bad_since_names_the_input(text: str) -> None:
    with pytest.raises(SinceError, match="is not a time"):
        parse_since(text, NOW)


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536 * 1024**2, "1.5 GiB")],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "-"), (0.84, "0.8 s"), (182, "3m02s"), (3900, "1h05m")]
)
def test_human_seconds(seconds: float | None, text: str) -> None:
    assert human_seconds(seconds) == text


@given(st.integers(min_value=0, max_value=2**60))
def test_human_bytes_never_fails(count: int) -> None:
    assert human_bytes(count).split()[-1] in {"B", "KiB", "MiB", "GiB", "TiB"}


def test_records_have_exactly_the_csv_fields() -> None:
    run = RunRow(
        run_id=3,
        batch_id="b",
        policy_name="anime",
        policy_hash="h",
        started_at=NOW.timestamp(),
        finished_at=NOW.timestamp() + 182,
        workers=2,
        outcome=RunOutcome.COMPLETED,
        counts=RunCounts(changed=2, unchanged=5, failed=1, bytes_written=3 * 1024**2),
    )
    row = FileResultRow(
        run_id=3,
        batch_id="b",
        policy_name="anime",
        recorded_at=NOW.timestamp(),
        path=Path("/lib/a.mkv"),
        outcome=FileOutcome.CHANGED,
        plan_kind="metadata",
        tool="mkvpropedit",
        phase="flags",
        before_summary="v:h264 a:aac/eng",
        after_summary="v:h264 a:aac/eng*",
        changes=("audio 1: default on", "title removed"),
        bytes_written=0,
        seconds=0.25,
        error=None,
    )

    assert tuple(run_record(run)) == RUN_FIELDS
    assert run_record(run)["files"] == 8
    assert run_record(run)["started_at"] == "2026-11-28T12:00:00+00:00"
    assert tuple(file_record(row)) == FILE_FIELDS
    assert file_record(row)["changes"] == "audio 1: default on; title removed"
    assert run_line(run).endswith(
        "anime completed: 2 changed, 5 unchanged, 1 failed (3.0 MiB written, 3m02s, 2 workers)"
    )
    assert iso_time(None) is None
