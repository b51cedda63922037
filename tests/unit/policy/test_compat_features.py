"""Features that policies written for the original VPO use (docs/policy.md,
"Compatibility"): the original's action shapes, metadata conditions, default-flag
options, synthesis lists and create_if, skip_*_transcode."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from vpo.media.model import MediaFile
from vpo.plan import Plan
from vpo.policy.evaluate import EvaluationError, evaluate

if TYPE_CHECKING:
    from conftest import Build

A, S, V = "audio", "subtitle", "video"


@pytest.fixture
def media(build: Build) -> MediaFile:
    return build.media(
        build.track(V, "h264", "und", width=1920, height=1080),
        build.track(A, "ac3", "eng", channels=6, default=True),
        build.track(A, "truehd", "eng", channels=8),
        build.track(A, "aac", "fre", channels=2),
        build.track(S, "subrip", "eng"),
        build.track(S, "subrip", "fre", default=True),
        name="movie.mkv",
    )


def plan_of(build: Build, body: str, media: MediaFile, config: str = "") -> Plan:
    phase, policy = build.phase(body, config)
    return evaluate(phase, media, policy.config)


def rule(then: str, when: str = "video.exists") -> str:
    return f'conditional:\n  - name: r\n    when: "{when}"\n    then: {then}\n'


def test_set_default_value_false_clears_the_matching_tracks(build: Build, media: MediaFile) -> None:
    plan = plan_of(build, rule("[{set_default: {track_type: subtitle, value: false}}]"), media)
    assert [t.flags.default for t in plan.tracks if t.type.value == S] == [False, False]


def test_several_actions_in_one_item_run_in_written_order(build: Build, media: MediaFile) -> None:
    then = (
        "[{warn: first, set_forced: {language: eng},"
        " set_default: {track_type: audio, codec: truehd}}]"
    )
    plan = plan_of(build, rule(then), media)
    assert plan.warnings == ("first",)
    assert plan.tracks[4].flags.forced  # set_forced's track_type defaults to subtitle
    assert [t.flags.default for t in plan.tracks if t.type.value == A] == [False, True, False]


def test_set_language_new_language_and_match_language(build: Build, media: MediaFile) -> None:
    then = "[{set_language: {track_type: audio, match_language: fre, new_language: ger}}]"
    plan = plan_of(build, rule(then), media)
    assert [t.language for t in plan.tracks if t.type.value == A] == ["eng", "eng", "ger"]


def test_set_language_from_plugin_metadata_without_metadata_changes_nothing(
    build: Build, media: MediaFile
) -> None:
    then = (
        "[{set_language: {track_type: audio, "
        "from_plugin_metadata: {plugin: radarr, field: original_language}}}]"
    )
    plan = plan_of(build, rule(then), media)
    assert plan.is_noop
    assert "set_language: radarr:original_language unknown for this file; unchanged" in plan.notes


def test_skip_track_filter_true_skips_every_filter(build: Build, media: MediaFile) -> None:
    body = "audio_filter: {languages: [fre]}\nsubtitle_filter: {remove_all: true}\n" + rule(
        "[{skip_track_filter: true}]"
    )
    assert plan_of(build, body, media).removed == ()
    body_false = body.replace("skip_track_filter: true", "skip_track_filter: false")
    assert len(plan_of(build, body_false, media).removed) == 4


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ("plugin(radarr, original_language) == 'jpn'", False),
        ("not plugin(radarr, original_language)", True),
        ("container_meta(title) == 'The Movie'", True),
        ("container_meta(title) == 'Other'", False),
        ("container_meta(title) != 'Other'", True),
        ("container_meta(encoder)", False),
    ],
)
def test_metadata_conditions(build: Build, media: MediaFile, when: str, holds: bool) -> None:
    titled = MediaFile(
        **{**{s: getattr(media, s) for s in MediaFile.__slots__}, "title": "The Movie"}
    )
    plan = plan_of(build, rule("[{warn: yes}]", when), titled)
    assert plan.warnings == (("yes",) if holds else ())


def test_mapping_form_metadata_conditions(build: Build, media: MediaFile) -> None:
    body = (
        "conditional:\n  - name: r\n    when: {plugin_metadata: {plugin: Radarr, field: "
        "original_language, value: jpn}}\n    then: {warn: never}\n    else: {warn: no metadata}\n"
    )
    assert plan_of(build, body, media).warnings == ("no metadata",)


def test_preferred_audio_codec_breaks_ties_within_a_language(
    build: Build, media: MediaFile
) -> None:
    body = "default_flags: {preferred_audio_codec: [truehd, eac3]}"
    plan = plan_of(build, body, media)
    assert [t.codec for t in plan.tracks if t.flags.default and t.type.value == A] == ["truehd"]
    without = plan_of(build, "default_flags: {}", media)
    assert [t.codec for t in without.tracks if t.flags.default and t.type.value == A] == ["ac3"]


def test_subtitle_forced_when_audio_differs_and_converges(build: Build, media: MediaFile) -> None:
    body = "default_flags: {set_subtitle_forced_when_audio_differs: true}"
    config = "audio_language_preference: [fre, eng]\nsubtitle_language_preference: [eng]"
    phase, policy = build.phase(body, config)
    english_first = evaluate(phase, media, policy.config)  # default audio: fre (first) → nothing
    assert not any(t.flags.forced for t in english_first.tracks)
    german = build.media(
        build.track(V, "h264"),
        build.track(A, "aac", "ger", default=True),
        build.track(S, "subrip", "eng"),
        build.track(S, "subrip", "eng", "SDH", hearing_impaired=True),
    )
    first = evaluate(phase, german, policy.config)
    assert [t.flags.forced for t in first.tracks if t.type.value == S] == [True, False]
    again = evaluate(phase, first.expected_result(), policy.config)
    assert again.is_noop


SYNTH = """\
audio_synthesis:
  tracks:
    - name: compat
      codec: aac
      channels: stereo
      source:
        prefer:
          - language: [jpn, eng]
          - codec: [dts, truehd]
      skip_if_exists: {codec: [aac, opus], channels: {lte: 2}, language: [jpn]}
      CREATE_IF
"""


def test_synthesis_lists_and_comparisons(build: Build, media: MediaFile) -> None:
    plan = plan_of(build, SYNTH.replace("CREATE_IF", ""), media)
    (new,) = [t for t in plan.tracks if t.source_index is None]
    assert new.encode is not None and new.encode.derived_from == 2  # the TrueHD track
    assert new.language == "eng"
    japanese = build.media(build.track(V, "h264"), build.track(A, "opus", "jpn", channels=2))
    assert plan_of(build, SYNTH.replace("CREATE_IF", ""), japanese).is_noop  # skip_if_exists


@pytest.mark.parametrize(
    ("create_if", "added"),
    [
        ("create_if: {exists: {track_type: audio, channels: {gte: 6}}}", True),
        ('create_if: "audio.channels >= 10"', False),
    ],
)
def test_synthesis_create_if(build: Build, media: MediaFile, create_if: str, added: bool) -> None:
    plan = plan_of(build, SYNTH.replace("CREATE_IF", create_if), media)
    assert any(t.source_index is None for t in plan.tracks) == added


TRANSCODE = """\
transcode:
  video: {target_codec: hevc}
  audio: {transcode_to: aac}
"""


@pytest.mark.parametrize(
    ("action", "video", "audio"),
    [
        ("skip_video_transcode", False, True),
        ("skip_audio_transcode", True, False),
    ],
)
def test_skip_transcode_actions(
    build: Build, media: MediaFile, action: str, video: bool, audio: bool
) -> None:
    plan = plan_of(build, TRANSCODE + rule(f"[{{{action}: true}}]"), media)
    encoded = {t.type.value for t in plan.tracks if t.encode is not None}
    assert (V in encoded, A in encoded) == (video, audio)
    unskipped = plan_of(build, TRANSCODE + rule(f"[{{{action}: false}}]"), media)
    assert {t.type.value for t in unskipped.tracks if t.encode is not None} == {V, A}


def test_file_timestamp_without_metadata_takes_the_fallback(build: Build, media: MediaFile) -> None:
    plan = plan_of(build, "file_timestamp: {mode: release_date, fallback: now}", media)
    assert plan.warnings == ()
    assert plan.is_noop  # now: only when the file is written
    assert plan.notes == (
        "file_timestamp: no release date from radarr or sonarr; fallback now (the time of writing)",
    )


def test_filename_placeholder_in_warn_and_fail(build: Build, media: MediaFile) -> None:
    plan = plan_of(build, rule("[{warn: 'check {filename}'}]"), media)
    assert plan.warnings == ("check movie.mkv",)
    phase, policy = build.phase(rule("[{fail: 'no good: {filename}'}]"))
    with pytest.raises(EvaluationError, match=r"rule 'r': no good: movie\.mkv"):
        evaluate(phase, media, policy.config)
