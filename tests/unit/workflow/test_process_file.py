"""process_file's decisions without tools: cache or probe, phase outcomes, file status."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.apply.errors import ApplyError
from vpo.apply.settings import ApplySettings
from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.policy.loader import parse_policy
from vpo.policy.phases import evaluate_file
from vpo.policy.schema import Policy
from vpo.probe.errors import ProbeError
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError, ToolTimeoutError
from vpo.workflow.changes import describe_plan
from vpo.workflow.process_file import CachedProbe, WorkflowContext, process_file
from vpo.workflow.result import FileStatus, PhaseStatus
from vpo.workflow.transaction import _aborted

PATH = Path("/library/films/Movie.mkv")


def media(*audio: tuple[str, bool], path: Path = PATH) -> MediaFile:
    video = Track(index=0, track_id=0, type=TrackType.VIDEO, codec="h264", flags=TrackFlags(True))
    tracks = [video]
    for language, default in audio:
        index = len(tracks)
        tracks.append(
            Track(
                index=index,
                track_id=index,
                type=TrackType.AUDIO,
                codec="aac",
                language=language,
                flags=TrackFlags(default=default),
            )
        )
    return MediaFile(
        path=path, container=Container.MATROSKA, size=1000, mtime_ns=0, tracks=tuple(tracks)
    )


def policy(phases: str, on_error: str = "skip") -> Policy:
    text = (
        "schema_version: 12\n"
        f"config:\n  audio_language_preference: [eng]\n  on_error: {on_error}\n"
        "phases:\n" + textwrap.indent(textwrap.dedent(phases), "  ")
    )
    return parse_policy(text, "test.yaml")


DEFAULTS = """\
- name: defaults
  default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""
FAILS = """\
- name: check
  conditional:
    - name: no-french
      when: {exists: {track_type: audio, language: fre}}
      then:
        - fail: "French audio present"
- name: defaults
  default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""
SKIPPED = """\
- name: defaults
  skip_when: {container: [mkv]}
  default_flags: {set_preferred_audio_default: true}
"""


def context(
    the_policy: Policy,
    probed: MediaFile | Exception,
    calls: list[str] | None = None,
) -> WorkflowContext:
    def probe(path: Path) -> MediaFile:
        if calls is not None:
            calls.append(f"probe {path.name}")
        if isinstance(probed, Exception):
            raise probed
        return probed

    return WorkflowContext(
        policy=the_policy,
        phases=the_policy.phases,
        tools=ToolPaths(),  # no tool: these cases must never need one
        settings=ApplySettings(stable_seconds=0.0),
        probe=probe,
    )


def test_a_conforming_file_is_unchanged_and_starts_no_tool() -> None:
    fine = media(("eng", True), ("fre", False))
    result = process_file(PATH, context(policy(DEFAULTS), fine))
    assert result.status is FileStatus.UNCHANGED
    assert [(p.phase, p.status, p.kind, p.tool) for p in result.phases] == [
        ("defaults", PhaseStatus.UNCHANGED, "noop", None)
    ]
    assert (result.error, result.bytes_written, result.tools) == (None, 0, ())
    assert result.before is fine and result.after is fine


def test_probe_failure_is_one_line_without_the_path() -> None:
    error = ProbeError(PATH, "not a media file (ffprobe: Invalid data found)")
    result = process_file(PATH, context(policy(DEFAULTS), error))
    assert result.status is FileStatus.FAILED
    assert result.error is not None and str(PATH) not in result.error
    assert "Invalid data found" in result.error and "\n" not in result.error


def cached_probe(media: MediaFile) -> CachedProbe:
    """The library's probe of ``media.path`` as the coordinator hands it over."""
    info = media.path.stat()
    return CachedProbe(
        replace(media, size=info.st_size, mtime_ns=info.st_mtime_ns, inode=info.st_ino),
        info.st_ctime_ns,
    )


def test_the_library_cache_is_used_instead_of_a_probe(tmp_path: Path) -> None:
    file = tmp_path / "movie.mkv"
    file.write_bytes(b"x")
    calls: list[str] = []
    cached = cached_probe(media(("eng", True), path=file))
    result = process_file(
        file, context(policy(DEFAULTS), media(("fre", True), path=file), calls), cached
    )
    assert result.status is FileStatus.UNCHANGED
    assert calls == []


def test_a_cached_probe_of_a_file_changed_since_the_lookup_is_not_used(tmp_path: Path) -> None:
    file = tmp_path / "movie.mkv"
    file.write_bytes(b"x")
    calls: list[str] = []
    cached = cached_probe(media(("eng", True), path=file))
    file.chmod(0o600)  # changes the ctime only, as an in-place header edit would
    result = process_file(
        file, context(policy(DEFAULTS), media(("eng", True), path=file), calls), cached
    )
    assert calls == ["probe movie.mkv"] and result.status is FileStatus.UNCHANGED


def test_a_missing_file_is_probed_not_looked_up() -> None:
    calls: list[str] = []
    fine = media(("eng", True))
    result = process_file(PATH, context(policy(DEFAULTS), fine, calls=calls), CachedProbe(fine, 0))
    assert calls == ["probe Movie.mkv"] and result.status is FileStatus.UNCHANGED


@pytest.mark.parametrize(
    ("on_error", "phases_run", "stops"),
    [
        ("skip", ["check"], False),
        ("fail", ["check"], True),
    ],
)
def test_a_failed_phase_fails_the_file_as_on_error_says(
    on_error: str, phases_run: list[str], stops: bool
) -> None:
    french = media(("fre", True), ("eng", False))
    result = process_file(PATH, context(policy(FAILS, on_error), french))
    assert result.status is FileStatus.FAILED
    assert [p.phase for p in result.phases] == phases_run
    assert result.error == "phase 'check': rule 'no-french': French audio present"
    assert result.stops_batch is stops


def test_every_phase_skipped_means_the_file_is_skipped() -> None:
    result = process_file(PATH, context(policy(SKIPPED), media(("fre", True), ("eng", False))))
    assert result.status is FileStatus.SKIPPED
    assert result.skip_reason and "container" in result.skip_reason


def test_describe_plan_names_each_changed_track() -> None:
    the_policy = policy(DEFAULTS)
    evaluation = evaluate_file(the_policy, the_policy.phases, media(("fre", True), ("eng", False)))
    plan = evaluation.phases[0].plan
    assert plan is not None
    assert describe_plan(plan) == ("audio #1 (fre): default off", "audio #2 (eng): default on")


def _apply_error_from(tool_error: ToolError) -> ApplyError:
    try:
        try:
            raise tool_error
        except ToolError as cause:
            raise ApplyError(PATH, f"{cause}; the original is unchanged") from cause
    except ApplyError as error:
        return error


def test_a_tool_killed_by_a_signal_is_reported_as_aborted() -> None:
    killed = _apply_error_from(ToolError("mkvmerge", "no error output", returncode=-9))
    message = _aborted(killed)
    assert message is not None
    assert message.startswith("aborted: mkvmerge was stopped (signal 9)")


@pytest.mark.parametrize(
    "tool_error",
    [
        ToolError("mkvmerge", "Error: no space left on device", returncode=2),
        ToolTimeoutError("mkvmerge", "timed out after 60 s", returncode=-9),
    ],
)
def test_failures_and_timeouts_are_not_aborts(tool_error: ToolError) -> None:
    assert _aborted(_apply_error_from(tool_error)) is None  # reported as the failure it is
