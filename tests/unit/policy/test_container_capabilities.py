"""Plans stay within what the container can store (vpo.media.containers)."""

from __future__ import annotations

import textwrap

import pytest

from vpo.media.model import Container, TrackFlags
from vpo.plan import PlanKind
from vpo.policy.evaluate import EvaluationError, evaluate

from .conftest import Build, read_back

V, A, S = "video", "audio", "subtitle"


FLAGS_POLICY = """
default_flags:
  set_first_video_default: true
  set_preferred_audio_default: true
  clear_other_defaults: true
"""


def test_avi_default_flags_are_a_noop_with_a_warning(build: Build) -> None:
    media = build.media(
        build.track(V, "mpeg4", "und"),
        build.track(A, "mp3", "und"),
        container=Container.AVI,
        name="movie.avi",
    )
    phase, policy = build.phase(FLAGS_POLICY, "audio_language_preference: [eng, und]")
    plan = evaluate(phase, media, policy.config)
    assert plan.is_noop
    assert plan.warnings == (
        "AVI cannot store track default flags; not planned: video #0 default on, "
        "audio #1 default on",
    )


def test_avi_reorder_still_happens_without_flags(build: Build) -> None:
    media = build.media(
        build.track(V, "mpeg4", "und"),
        build.track(A, "mp3", "und"),
        build.track(A, "mp3", "und", title="English"),
        container=Container.AVI,
        name="movie.avi",
    )
    phase, policy = build.phase(
        "track_order: [video, audio_commentary, audio_main]\n" + FLAGS_POLICY
    )
    plan = evaluate(phase, media, policy.config)
    assert all(track.flags == TrackFlags() for track in plan.tracks)
    second = evaluate(phase, read_back(plan.expected_result()), policy.config)
    assert second.is_noop


def test_mpegts_keeps_languages_but_not_titles_or_defaults(build: Build) -> None:
    media = build.media(
        build.track(V, "h264", "und"),
        build.track(A, "aac", "fre"),
        container=Container.MPEGTS,
        name="movie.ts",
    )
    phase, policy = build.phase(
        textwrap.dedent(
            """
        conditional:
          - name: label
            when: {exists: {track_type: audio}}
            then:
              - set_title: {track_type: audio, to: French}
              - set_language: {track_type: audio, to: ger}
        """
        ).strip("\n")
        + FLAGS_POLICY
    )
    plan = evaluate(phase, media, policy.config)
    assert plan.kind is PlanKind.METADATA
    assert plan.tracks[1].language == "ger"
    assert plan.tracks[1].title is None
    assert not any(track.flags.default for track in plan.tracks)
    assert any("MPEG-TS cannot store track titles" in w for w in plan.warnings)


def test_conversion_losses_are_notes_not_warnings(build: Build) -> None:
    media = build.media(
        build.track(V, "h264", "und", default=True),
        build.track(A, "aac", original=True, default=True),
    )
    phase, policy = build.phase("container: {target: mp4}")
    plan = evaluate(phase, media, policy.config)
    assert plan.tracks[1].flags.original is False
    assert "MP4 cannot store track original flags: audio #1 original on" in plan.notes
    assert plan.warnings == ()


def test_mp4_transcode_turns_video_mp4_cannot_hold_into_h264(build: Build) -> None:
    media = build.media(build.track(V, "vc1", "und"), build.track(A, "aac"))
    phase, policy = build.phase("container: {target: mp4, on_incompatible_codec: transcode}")
    plan = evaluate(phase, media, policy.config)
    assert plan.tracks[0].codec == "h264"
    assert plan.tracks[0].encode is not None
    strict, _ = build.phase("container: {target: mp4}")
    with pytest.raises(EvaluationError, match=r"track 0 \(video vc1\)"):
        evaluate(strict, media, policy.config)


@pytest.mark.parametrize(
    "container", [Container.AVI, Container.MPEGTS, Container.MOV, Container.OGG]
)
def test_every_flag_rule_converges_on_every_container(build: Build, container: Container) -> None:
    media = build.media(
        build.track(V, "h264", "und"),
        build.track(A, "aac", "fre", title="French"),
        build.track(A, "aac", "und"),
        container=container,
        name=f"movie.{container.value}",
    )
    phase, policy = build.phase(
        textwrap.dedent(
            """
        conditional:
          - name: all
            when: {exists: {track_type: audio}}
            then:
              - set_forced: {track_type: audio, language: fre}
              - set_title: {track_type: audio, to: Main}
              - set_language: {track_type: video, to: eng}
        """
        ).strip("\n")
        + FLAGS_POLICY,
        "audio_language_preference: [eng, und]",
    )
    plan = evaluate(phase, media, policy.config)
    assert evaluate(phase, read_back(plan.expected_result()), policy.config).is_noop


def test_a_format_vpo_cannot_write_is_left_as_it_is(build: Build) -> None:
    media = build.media(
        build.track(V, "wmv2", "und"),
        build.track(A, "wmav2", "fre"),
        build.track(A, "wmav2", "eng"),
        container=Container.OTHER,
        name="movie.wmv",
    )
    phase, policy = build.phase("audio_filter: {languages: [eng]}\n" + FLAGS_POLICY)
    plan = evaluate(phase, media, policy.config)
    assert plan.is_noop
    assert plan.warnings == (
        "vpo cannot write other files; left as it is "
        "(convert it with container: {target: mkv} to apply this phase)",
    )


def test_a_value_the_file_already_has_is_not_taken_away_in_its_own_container(
    build: Build,
) -> None:
    """ffmpeg cannot write a forced flag into MOV, but another muxer did: a rule that
    does not touch it must not rewrite the file to drop it."""
    media = build.media(
        build.track(V, "h264", "und", default=True),
        build.track(A, "aac", "eng", default=True, forced=True),
        container=Container.MOV,
        name="movie.mov",
    )
    phase, policy = build.phase(FLAGS_POLICY, "audio_language_preference: [eng]")
    plan = evaluate(phase, media, policy.config)
    assert plan.is_noop, plan.metadata_changes()
    assert plan.warnings == () and plan.notes == ()
