"""Pure report helpers: --since parsing, units, flat records and the text lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.cli.report_cmd import encode_line, file_lines, runs_total_line
from vpo.library import FileOutcome, FileResultRow, RunCounts, RunOutcome, RunRow
from vpo.library.reporting import (
    FILE_FIELDS,
    RUN_FIELDS,
    SinceError,
    codecs_of,
    file_record,
    human_bytes,
    human_seconds,
    iso_time,
    parse_since,
    run_line,
    run_record,
    saved_text,
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
        path=Path("/media-lib/a.mkv"),
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


@pytest.mark.parametrize(
    ("summary", "codecs"),
    [
        (None, None),
        ("", ""),
        ("v:h264* a:aac/jpn* a:aac/eng s:subrip/eng!", "v:h264 a:aac s:subrip"),
        ("v:hevc a:truehd/eng* a:ac3/eng", "v:hevc a:truehd a:ac3"),
        ("a:pcm_s16le/und", "a:pcm_s16le"),
    ],
)
def test_codecs_of_a_track_summary(summary: str | None, codecs: str | None) -> None:
    assert codecs_of(summary) == codecs


@pytest.mark.parametrize(
    ("saved", "text"), [(0, "0 B saved"), (1536, "1.5 KiB saved"), (-2048, "2.0 KiB larger")]
)
def test_saved_text(saved: int, text: str) -> None:
    assert saved_text(saved) == text


def _run(bytes_saved: int | None) -> RunRow:
    return RunRow(
        run_id=1,
        batch_id="b",
        policy_name="p",
        policy_hash=None,
        started_at=NOW.timestamp(),
        finished_at=NOW.timestamp() + 2,
        workers=1,
        outcome=RunOutcome.COMPLETED,
        counts=RunCounts(changed=1, bytes_written=1024),
        bytes_saved=bytes_saved,
    )


def test_run_line_says_what_was_saved_only_when_known() -> None:
    assert run_line(_run(3 * 1024**2)).endswith("(1.0 KiB written, 3.0 MiB saved, 2.0 s, 1 worker)")
    assert run_line(_run(None)).endswith("(1.0 KiB written, 2.0 s, 1 worker)")  # schema 1
    assert run_record(_run(None))["bytes_saved"] is None


def _encoded(**figures: Any) -> FileResultRow:
    return FileResultRow(
        run_id=1,
        batch_id="b",
        policy_name="p",
        recorded_at=NOW.timestamp(),
        path=Path("/media-lib/a.mkv"),
        outcome=FileOutcome.CHANGED,
        plan_kind="encode",
        tool="ffmpeg",
        phase="shrink",
        before_summary="v:h264* a:dts/eng*",
        after_summary="v:hevc* a:aac/eng*",
        changes=(),
        bytes_written=600 * 1024,
        seconds=5.0,
        error=None,
        **figures,
    )


def test_encode_line_and_flat_record_of_an_encode() -> None:
    row = _encoded(
        original_size=1000 * 1024, bytes_saved=400 * 1024, encode_seconds=4.0, encode_speed=2.25
    )
    assert encode_line(row) == (
        "encode: v:h264 a:dts → v:hevc a:aac, 1000.0 KiB → 600.0 KiB (400.0 KiB saved) "
        "in 4.0 s, 2.2× real time"
    )
    record = file_record(row)
    assert (record["codecs_before"], record["codecs_after"]) == ("v:h264 a:dts", "v:hevc a:aac")
    assert (record["original_size"], record["bytes_saved"]) == (1000 * 1024, 400 * 1024)
    assert (record["encode_seconds"], record["encode_speed"]) == (4.0, 2.25)
    lines = file_lines(row)
    assert lines[0].endswith("(600.0 KiB, 5.0 s)")  # the encode line says what was saved
    assert lines[2] == f"    {encode_line(row)}"


def test_encode_line_of_a_record_from_schema_1_shows_only_the_codecs() -> None:
    assert encode_line(_encoded()) == "encode: v:h264 a:dts → v:hevc a:aac"
    same_codecs = replace(_encoded(), after_summary="v:h264 a:dts/eng")
    assert encode_line(same_codecs) is None


def test_runs_total_line_counts_unknown_savings_as_nothing() -> None:
    assert runs_total_line([_run(2048), _run(None), _run(-1024)]) == (
        "Total: 3 runs, 3 changed, 3.0 KiB written, 1.0 KiB saved"
    )
