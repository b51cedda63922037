"""Sizes and encode figures from an apply outcome to the phase, the file result, the
library record and the vpo.process/1 document (the tools are replaced by a fake
apply here; tests/integration/test_library_v2.py runs a real encode)."""

from __future__ import annotations

import contextlib
import os
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.choose import Tool
from vpo.apply.encode import EncodeResult
from vpo.apply.execute import ApplyOutcome
from vpo.apply.settings import ApplySettings
from vpo.batch.recording import record_of as _record_of
from vpo.batch.runner import BatchTally
from vpo.cli.render.process_summary import file_dict, process_document
from vpo.library import FileOutcome
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.plan import Plan
from vpo.policy.loader import parse_policy
from vpo.tools.locate import ToolPaths
from vpo.workflow import transaction as transaction_module
from vpo.workflow.process_file import WorkflowContext, process_file
from vpo.workflow.result import FileResult, FileStatus, PhaseResult, PhaseStatus
from vpo.workflow.transaction import ctime_if_unchanged

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: shrink
    transcode:
      video: {target_codec: hevc}
  - name: defaults
    default_flags: {set_preferred_audio_default: true}
"""


def source(path: Path) -> MediaFile:
    video = Track(index=0, track_id=0, type=TrackType.VIDEO, codec="h264", width=64, height=48)
    audio = Track(
        index=1, track_id=1, type=TrackType.AUDIO, codec="aac", language="eng", channels=2
    )
    return MediaFile(
        path=path,
        container=Container.MATROSKA,
        size=1000,
        mtime_ns=1,
        tracks=(video, audio),
        duration=8.0,
    )


def fake_apply(plan: Plan, *, final: bool) -> ApplyOutcome:
    """What a transaction step reports: an encode shrinks 1000 → 600 bytes in 4 s; a
    header edit keeps the size."""
    result = plan.expected_result()
    if plan.kind.value == "encode":
        media = replace(result, size=600)
        encode = EncodeResult(
            media=media, bytes_written=600, original_size=1000, encode_seconds=4.0
        )
        return ApplyOutcome(Tool.FFMPEG, "", 4.2, 600, media, encode=encode)
    return ApplyOutcome(Tool.MKVPROPEDIT, "", 0.1, 40, result, in_place=True)


class FakeSession:
    def apply(self, plan: Plan, *, final: bool) -> ApplyOutcome:
        return fake_apply(plan, final=final)


class FakeExecutor:
    """Stands in for ApplyExecutor: every step reports what fake_apply says."""

    def __init__(self, *args: object) -> None:
        pass

    def session(self, path: Path, on_progress: object) -> contextlib.nullcontext[FakeSession]:
        return contextlib.nullcontext(FakeSession())


def run_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> FileResult:
    monkeypatch.setattr(transaction_module, "ApplyExecutor", FakeExecutor)  # imported per file
    policy = parse_policy(textwrap.dedent(POLICY), "p.yaml")
    context = WorkflowContext(
        policy=policy,
        phases=policy.phases,
        tools=ToolPaths(),
        settings=ApplySettings(stable_seconds=0.0),
        probe=lambda probed: source(probed),
    )
    return process_file(path, context)


def test_an_encode_phase_carries_sizes_time_and_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_file(monkeypatch, Path("/lib/movie.mkv"))

    assert result.status is FileStatus.CHANGED
    shrink, defaults = result.phases
    assert (shrink.kind, shrink.original_size, shrink.bytes_saved) == ("encode", 1000, 400)
    assert (shrink.encode_seconds, shrink.encode_speed) == (4.0, 2.0)  # 8 s of media in 4 s
    assert (defaults.kind, defaults.original_size, defaults.bytes_saved) == ("metadata", 600, 0)
    assert (defaults.encode_seconds, defaults.encode_speed) == (None, None)
    assert (result.original_size, result.bytes_saved) == (1000, 400)
    assert (result.encode_seconds, result.encode_speed) == (4.0, 2.0)


def test_the_library_record_and_the_json_carry_the_figures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "movie.mkv"
    path.write_bytes(b"x" * 600)
    info = path.stat()
    result = run_file(monkeypatch, path)
    assert result.after is not None
    on_disk = replace(result.after, size=600, mtime_ns=info.st_mtime_ns, inode=info.st_ino)
    result = replace(result, after=on_disk, after_ctime_ns=info.st_ctime_ns)

    record = _record_of(result)
    assert record.outcome is FileOutcome.CHANGED
    assert (record.original_size, record.bytes_saved) == (1000, 400)
    assert (record.encode_seconds, record.encode_speed) == (4.0, 2.0)
    assert record.after_ctime_ns == info.st_ctime_ns

    entry = file_dict(result)
    assert entry["bytes_saved"] == 400
    assert [(p["original_size"], p["bytes_saved"]) for p in entry["phases"]] == [
        (1000, 400),
        (600, 0),
    ]
    assert entry["phases"][0]["encode_speed"] == 2.0
    tally = BatchTally()
    tally.add(result)
    tally.add(FileResult(path=path, status=FileStatus.UNCHANGED))
    batch = tally.result(workers=1, seconds=1.0)
    summary = process_document(batch, policy="p.yaml", phases=[], interrupted=False, run_id=1)
    assert summary["summary"]["bytes_saved"] == 400


def test_no_ctime_is_taken_when_the_file_changed_after_the_result(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The cache may only be refreshed for the file the result describes."""
    path = tmp_path / "movie.mkv"
    path.write_bytes(b"x" * 600)
    info = path.stat()
    result = run_file(monkeypatch, path)
    assert result.after is not None
    described = replace(result.after, size=600, mtime_ns=info.st_mtime_ns, inode=info.st_ino)
    assert ctime_if_unchanged(described) == info.st_ctime_ns

    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    assert ctime_if_unchanged(described) is None
    path.unlink()
    assert ctime_if_unchanged(described) is None
    assert _record_of(replace(result, after=None)).after_ctime_ns is None


def test_a_file_without_changes_saved_nothing_and_encoded_nothing() -> None:
    result = FileResult(
        path=Path("/x.mkv"),
        status=FileStatus.UNCHANGED,
        phases=(PhaseResult("p", PhaseStatus.UNCHANGED, kind="noop"),),
    )
    assert (result.original_size, result.bytes_saved) == (None, 0)
    assert (result.encode_seconds, result.encode_speed) == (None, None)


_encode_phase = st.builds(
    lambda saved, seconds, speed: PhaseResult(
        "p",
        PhaseStatus.CHANGED,
        original_size=10**9,
        bytes_saved=saved,
        encode_seconds=seconds,
        encode_speed=speed,
    ),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(min_value=0.01, max_value=1e5),
    st.floats(min_value=0.01, max_value=100.0),
)


@given(st.lists(_encode_phase, min_size=1, max_size=5))
def test_file_totals_sum_the_phases_and_the_speed_is_a_weighted_mean(
    phases: list[PhaseResult],
) -> None:
    result = FileResult(path=Path("/x.mkv"), status=FileStatus.CHANGED, phases=tuple(phases))
    speeds = [p.encode_speed for p in phases if p.encode_speed is not None]

    assert result.bytes_saved == sum(p.bytes_saved or 0 for p in phases)
    assert result.encode_seconds == pytest.approx(sum(p.encode_seconds or 0 for p in phases))
    assert result.encode_speed is not None
    assert min(speeds) * (1 - 1e-9) <= result.encode_speed <= max(speeds) * (1 + 1e-9)


def test_an_unchanged_file_records_the_ctime_of_the_stat_taken_before_its_probe(
    tmp_path: Path,
) -> None:
    """A change made while the file is probed must never be cached as the probed state."""
    path = tmp_path / "movie.mkv"
    path.write_bytes(b"x" * 600)
    before = path.stat()
    policy = parse_policy("schema_version: 12\nphases:\n  - name: nothing\n", "p.yaml")

    def probe_while_someone_edits(probed: Path) -> MediaFile:
        media = replace(source(probed), size=600, mtime_ns=before.st_mtime_ns, inode=before.st_ino)
        time.sleep(0.05)  # past the kernel's coarse timestamp tick
        probed.chmod(0o600)  # changes the ctime, not size/mtime/inode
        return media

    context = WorkflowContext(
        policy=policy,
        phases=policy.phases,
        tools=ToolPaths(),
        settings=ApplySettings(stable_seconds=0.0),
        probe=probe_while_someone_edits,
    )
    result = process_file(path, context)
    assert result.status is FileStatus.UNCHANGED
    assert path.stat().st_ctime_ns != before.st_ctime_ns  # the edit really happened
    assert result.after_ctime_ns == before.st_ctime_ns  # so the cache will not match
