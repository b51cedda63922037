"""evaluate(): each operation and the edge cases users hit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from vpo.media.model import Container, TrackType
from vpo.plan import Plan, PlanKind
from vpo.policy.evaluate import EvaluationError, evaluate

if TYPE_CHECKING:
    from conftest import Build

A, S, V = "audio", "subtitle", "video"


def languages(plan: Plan, kind: TrackType) -> list[str]:
    return [t.language for t in plan.tracks if t.type is kind]


def sources(plan: Plan) -> list[int | None]:
    return [t.source_index for t in plan.tracks]


def test_empty_phase_is_noop(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(A, "aac", default=True))
    phase, policy = build.phase("")
    plan = evaluate(phase, media, policy.config)
    assert plan.is_noop
    assert plan.kind is PlanKind.NOOP


def test_audio_filter_keeps_listed_languages_and_says_why(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"), build.track(A, "aac", "fre"), build.track(A, "ac3", "eng")
    )
    phase, policy = build.phase("audio_filter: {languages: [eng]}")
    plan = evaluate(phase, media, policy.config)
    assert languages(plan, TrackType.AUDIO) == ["eng"]
    assert [(r.source_index, r.reason) for r in plan.removed] == [
        (1, "audio language fre not in [eng]")
    ]
    assert plan.kind is PlanKind.REMUX


def test_no_audio_at_all_is_fine(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(S, "subrip", "fre"))
    phase, policy = build.phase("audio_filter: {languages: [eng]}")
    assert evaluate(phase, media, policy.config).is_noop


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("content_language", ["ger", "ger"]),
        ("keep_all", ["ger", "ger", "ita"]),
        ("keep_first", ["ger"]),
    ],
)
def test_filter_that_would_empty_audio_falls_back(
    build: Build, mode: str, expected: list[str]
) -> None:
    media = build.media(
        build.track(V, "h264"),
        build.track(A, "aac", "ger"),
        build.track(A, "aac", "ger"),
        build.track(A, "aac", "ita"),
    )
    phase, policy = build.phase(f"audio_filter: {{languages: [eng], fallback: {{mode: {mode}}}}}")
    plan = evaluate(phase, media, policy.config)
    assert languages(plan, TrackType.AUDIO) == expected


def test_fallback_error_is_a_file_error_naming_phase(build: Build) -> None:
    media = build.media(build.track(A, "aac", "ger"))
    phase, policy = build.phase("audio_filter: {languages: [eng], fallback: {mode: error}}")
    with pytest.raises(EvaluationError, match=r"movie.mkv: phase 'p': audio_filter: only 0"):
        evaluate(phase, media, policy.config)


def test_minimum_zero_explicitly_allows_removing_all_audio(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(A, "aac", "ger"))
    phase, policy = build.phase("audio_filter: {languages: [eng], minimum: 0}")
    assert languages(evaluate(phase, media, policy.config), TrackType.AUDIO) == []


def test_content_language_prefers_the_original_flag(build: Build) -> None:
    media = build.media(build.track(A, "aac", "ger"), build.track(A, "aac", "jpn", original=True))
    phase, policy = build.phase("audio_filter: {languages: [eng]}")
    assert languages(evaluate(phase, media, policy.config), TrackType.AUDIO) == ["jpn"]


def test_every_track_und(build: Build) -> None:
    media = build.media(
        build.track(V, "h264", "und"), build.track(A, "aac", "und"), build.track(S, "ass", "und")
    )
    phase, policy = build.phase(
        """
        audio_filter: {languages: [eng]}
        subtitle_filter: {languages: [eng]}
        track_order: [video, audio_main, subtitle_main]
        default_flags: {set_preferred_subtitle_default: true}
        """,
        "audio_language_preference: [eng]\nsubtitle_language_preference: [eng]",
    )
    plan = evaluate(phase, media, policy.config)
    assert languages(plan, TrackType.AUDIO) == ["und"]  # last audio track is never dropped
    assert languages(plan, TrackType.SUBTITLE) == []
    assert [t.flags.default for t in plan.tracks] == [True, True]


def test_subtitle_filter_preserves_forced_in_another_language(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "eng"),
        build.track(S, "subrip", "fre", forced=True),
        build.track(S, "subrip", "ger", "Forced"),
        build.track(S, "subrip", "ger"),
        build.track(S, "subrip", "eng"),
    )
    phase, policy = build.phase("subtitle_filter: {languages: [eng], preserve_forced: true}")
    plan = evaluate(phase, media, policy.config)
    assert sources(plan) == [0, 1, 2, 4]


def test_subtitle_remove_all(build: Build) -> None:
    media = build.media(build.track(A, "aac"), build.track(S, "subrip"), build.track(S, "ass"))
    phase, policy = build.phase("subtitle_filter: {remove_all: true}")
    plan = evaluate(phase, media, policy.config)
    assert sources(plan) == [0]
    assert {r.reason for r in plan.removed} == {"subtitle_filter: remove_all"}


def test_attachment_filter_warns_when_styled_subtitles_stay(build: Build) -> None:
    media = build.media(build.track(A, "aac"), build.track(S, "ass"), attachments=2)
    phase, policy = build.phase("attachment_filter: {remove_all: true}")
    plan = evaluate(phase, media, policy.config)
    assert plan.removed_attachments == (1, 2)
    assert plan.kind is PlanKind.REMUX
    assert any("may need the fonts" in w for w in plan.warnings)


def test_track_order_with_two_english_tracks_one_commentary(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"),
        build.track(A, "aac", "eng", "Director's commentary", default=True),
        build.track(A, "ac3", "fre"),
        build.track(A, "ac3", "eng"),
    )
    phase, policy = build.phase(
        """
        track_order: [video, audio_main, audio_alternate, audio_commentary]
        default_flags: {}
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert sources(plan) == [0, 3, 2, 1]
    # The default follows the reorder: the main English track, not the commentary.
    assert [t.flags.default for t in plan.tracks] == [True, True, False, False]


def test_commentary_by_flag_and_unlisted_categories_go_last(build: Build) -> None:
    media = build.media(
        build.track(S, "subrip", "eng"),
        build.track(A, "aac", "eng", commentary=True),
        build.track(A, "aac", "eng"),
        build.track(V, "h264"),
    )
    phase, policy = build.phase("track_order: [video, audio_main]")
    plan = evaluate(phase, media, policy.config)
    assert sources(plan) == [3, 2, 0, 1]


def test_track_order_sorts_by_language_preference_then_original_order(build: Build) -> None:
    media = build.media(
        build.track(S, "subrip", "ger"),
        build.track(S, "subrip", "fre"),
        build.track(S, "subrip", "eng"),
        build.track(S, "subrip", "fre", "Forced"),
        build.track(S, "subrip", "eng"),
    )
    phase, policy = build.phase(
        "track_order: [subtitle_forced, subtitle_main]",
        "subtitle_language_preference: [eng, fre]",
    )
    assert sources(evaluate(phase, media, policy.config)) == [3, 2, 4, 1, 0]


def test_main_audio_is_the_most_preferred_language_present(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "ger"), build.track(A, "aac", "jpn"), build.track(A, "aac", "fre")
    )
    phase, policy = build.phase(
        "track_order: [audio_main, audio_alternate]",
        "audio_language_preference: [eng, jpn, fre]",
    )
    assert sources(evaluate(phase, media, policy.config)) == [1, 2, 0]


def test_cleanups_run_before_filters(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "eng", "Stereo", default=True, forced=True),
        build.track(S, "subrip", "eng", "Full", default=True),
    )
    phase, policy = build.phase(
        """
        audio_actions: {clear_all_default: true, clear_all_forced: true, clear_all_titles: true}
        subtitle_actions: {clear_all_default: true}
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert plan.kind is PlanKind.METADATA
    audio, subtitle = plan.tracks
    assert (audio.title, audio.flags.default, audio.flags.forced) == (None, False, False)
    assert (subtitle.title, subtitle.flags.default) == ("Full", False)


def test_mp4_with_incompatible_codecs_is_an_error_by_default(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"), build.track(A, "truehd"), build.track(S, "hdmv_pgs_subtitle")
    )
    phase, policy = build.phase("container: {target: mp4}")
    with pytest.raises(EvaluationError, match=r"track 1 \(audio truehd\), track 2"):
        evaluate(phase, media, policy.config)


def test_mp4_skip_leaves_the_container_and_warns(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(A, "dts"))
    phase, policy = build.phase("container: {target: mp4, on_incompatible_codec: skip}")
    plan = evaluate(phase, media, policy.config)
    assert plan.container is Container.MATROSKA
    assert plan.is_noop
    assert plan.warnings == ("container: not converted to MP4 because track 1 (audio dts)",)


def test_mp4_transcode_encodes_what_mp4_cannot_hold_and_drops_bitmap_subtitles(
    build: Build,
) -> None:
    media = build.media(
        build.track(V, "h264"),
        build.track(A, "truehd", channels=8),
        build.track(S, "hdmv_pgs_subtitle"),
        build.track(S, "subrip"),
    )
    phase, policy = build.phase("container: {target: mp4, on_incompatible_codec: transcode}")
    plan = evaluate(phase, media, policy.config)
    assert plan.container is Container.MP4
    assert plan.kind is PlanKind.ENCODE
    audio = plan.tracks[1]
    assert audio.codec == "eac3"
    assert audio.encode is not None and audio.encode.audio is not None
    assert audio.encode.audio.channels == 6  # 7.1 downmixed: E-AC-3 in MP4 carries 5.1
    assert [r.source_index for r in plan.removed] == [2]
    assert plan.tracks[2].codec == "mov_text"
    assert any("bitmap" in warning for warning in plan.warnings)


def test_mp4_skip_leaves_the_container_with_a_warning(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(A, "truehd"))
    phase, policy = build.phase("container: {target: mp4, on_incompatible_codec: skip}")
    plan = evaluate(phase, media, policy.config)
    assert plan.container is Container.MATROSKA
    assert plan.is_noop
    assert "not converted to MP4" in plan.warnings[0]


def test_mp4_converts_text_subtitles_and_drops_attachments(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"), build.track(A, "aac"), build.track(S, "ass"), attachments=1
    )
    phase, policy = build.phase("container: {target: mp4}")
    plan = evaluate(phase, media, policy.config)
    assert plan.container is Container.MP4
    assert plan.tracks[2].codec == "mov_text"
    assert plan.removed_attachments == (1,)
    assert plan.kind is PlanKind.REMUX
    assert any("loses its styling" in w for w in plan.warnings)


def test_mp4_to_mkv_turns_mov_text_into_subrip(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(S, "mov_text"), container=Container.MP4)
    phase, policy = build.phase("container: {target: mkv}")
    plan = evaluate(phase, media, policy.config)
    assert (plan.container, plan.tracks[1].codec) == (Container.MATROSKA, "subrip")


def test_transcode_and_synthesis_make_an_encode_plan(build: Build) -> None:
    media = build.media(build.track(V, "h264"), build.track(A, "truehd", channels=8))
    phase, policy = build.phase(
        """
        transcode: {video: {target_codec: hevc}}
        audio_synthesis:
          tracks: [{name: stereo, codec: aac, channels: stereo}]
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert plan.kind is PlanKind.ENCODE
    assert plan.warnings == ()
    video = plan.tracks[0]
    assert video.encode is not None and video.encode.codec == "hevc"
    added = [t for t in plan.tracks if t.source_index is None]
    assert len(added) == 1
    assert added[0].codec == "aac"
    assert added[0].encode is not None and added[0].encode.audio is not None
    assert added[0].encode.audio.channels == 2


def test_operations_run_in_fixed_order_whatever_the_yaml_order(build: Build) -> None:
    media = build.media(build.track(A, "aac", "fre", default=True), build.track(A, "aac", "eng"))
    forward, policy = build.phase("audio_filter: {languages: [eng]}\ndefault_flags: {}")
    backward, _ = build.phase("default_flags: {}\naudio_filter: {languages: [eng]}")
    assert evaluate(forward, media, policy.config) == evaluate(backward, media, policy.config)


def test_a_matching_commentary_alone_does_not_satisfy_minimum(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"),
        build.track(A, "aac", "ger", original=True),
        build.track(A, "aac", "eng", "Commentary", default=True),
    )
    phase, policy = build.phase("audio_filter: {languages: [eng]}")
    plan = evaluate(phase, media, policy.config)
    assert languages(plan, TrackType.AUDIO) == ["ger", "eng"]
    assert plan.removed == ()


def test_all_commentary_audio_counts_commentaries(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "eng", "Commentary"), build.track(A, "aac", "ger", commentary=True)
    )
    phase, policy = build.phase("audio_filter: {languages: [eng]}")
    assert languages(evaluate(phase, media, policy.config), TrackType.AUDIO) == ["eng"]
