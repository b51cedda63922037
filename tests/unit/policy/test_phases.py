"""Phase control: skip_when, depends_on, run_if, on_error and --phases selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from vpo.media.model import Container
from vpo.policy.phases import PhaseOutcome, UnknownPhaseError, evaluate_file, select_phases

if TYPE_CHECKING:
    from conftest import Build

A, V = "audio", "video"

TWO_PHASES = """
- name: strip
  audio_filter: {languages: [eng]}
- name: flags
  default_flags: {}
"""


def outcomes(result: object) -> list[tuple[str, str]]:
    from vpo.policy.phases import FileEvaluation

    assert isinstance(result, FileEvaluation)
    return [(r.phase, r.outcome.value) for r in result.phases]


def test_later_phases_see_earlier_results(build: Build) -> None:
    media = build.media(build.track(A, "aac", "fre", default=True), build.track(A, "aac", "eng"))
    policy = build.policy(TWO_PHASES)
    result = evaluate_file(policy, policy.phases, media)
    strip, flags = result.plans
    assert [t.source_index for t in strip.tracks] == [1]
    assert flags.source == strip.expected_result()
    assert flags.tracks[0].flags.default
    assert result.kind.value == "remux"


def test_select_phases_keeps_policy_order_and_rejects_unknown(build: Build) -> None:
    policy = build.policy(TWO_PHASES)
    assert [p.name for p in select_phases(policy, ["flags", "strip"])] == ["strip", "flags"]
    assert select_phases(policy, []) == policy.phases
    with pytest.raises(
        UnknownPhaseError, match=r"unknown phase.*: strp; the policy has strip, flags"
    ):
        select_phases(policy, ["strp"])


@pytest.mark.parametrize(
    ("skip_when", "skipped"),
    [
        ("{video_codec: [hevc]}", True),
        ("{video_codec: h264}", False),
        ("{container: mkv}", True),
        ("{resolution_under: 1080p}", True),
        ("{resolution_under: 480p}", False),
        ("{file_size_under: 1GB}", True),
        ("{file_size_over: 1GB}", False),
        ("{duration_under: 30m}", False),
        ("{duration_over: 1h}", True),
        ("{match: all, video_codec: hevc, duration_over: 3h}", False),
        ("{match: all, video_codec: hevc, duration_over: 1h30m}", True),
    ],
)
def test_skip_when(build: Build, skip_when: str, skipped: bool) -> None:
    media = build.media(build.track(V, "hevc", height=720), size=500_000_000, duration=7200.0)
    policy = build.policy(f"- name: p\n  skip_when: {skip_when}\n  default_flags: {{}}")
    result = evaluate_file(policy, policy.phases, media)
    assert (result.phases[0].outcome is PhaseOutcome.SKIPPED) is skipped


def test_run_if_phase_modified(build: Build) -> None:
    policy = build.policy(
        TWO_PHASES + "- name: after\n  run_if: {phase_modified: strip}\n  default_flags: {}\n"
    )
    unchanged = build.media(build.track(A, "aac", "eng", default=True))
    changed = build.media(build.track(A, "aac", "eng"), build.track(A, "aac", "fre"))
    assert outcomes(evaluate_file(policy, policy.phases, unchanged))[2] == ("after", "skipped")
    assert outcomes(evaluate_file(policy, policy.phases, changed))[2] == ("after", "completed")


@pytest.mark.parametrize(
    ("on_error", "expected", "stop"),
    [
        ("skip", [("bad", "failed")], False),
        ("continue", [("bad", "failed"), ("flags", "skipped"), ("more", "completed")], False),
        ("fail", [("bad", "failed")], True),
    ],
)
def test_on_error(build: Build, on_error: str, expected: list[tuple[str, str]], stop: bool) -> None:
    policy = build.policy(
        """
        - name: bad
          audio_filter: {languages: [eng], fallback: {mode: error}}
        - name: flags
          depends_on: [bad]
          default_flags: {}
        - name: more
          default_flags: {}
        """,
        f"on_error: {on_error}",
    )
    media = build.media(build.track(A, "aac", "ger"))
    result = evaluate_file(policy, policy.phases, media)
    assert outcomes(result) == expected
    assert result.stop_batch is stop
    assert result.failed
    assert "only 0 audio track(s)" in (result.phases[0].reason or "")


def test_phase_on_error_overrides_config(build: Build) -> None:
    policy = build.policy(
        """
        - name: bad
          on_error: continue
          container: {target: mp4}
        - name: more
          default_flags: {}
        """,
        "on_error: fail",
    )
    media = build.media(build.track(A, "truehd"), container=Container.MATROSKA)
    assert outcomes(evaluate_file(policy, policy.phases, media)) == [
        ("bad", "failed"),
        ("more", "completed"),
    ]
