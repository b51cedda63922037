"""default_flags: the default follows the reorder, one default per type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpo.media.model import TrackType
from vpo.plan import Plan, PlanKind
from vpo.policy.evaluate import evaluate

if TYPE_CHECKING:
    from conftest import Build

A, S, V = "audio", "subtitle", "video"


def defaults(plan: Plan, kind: TrackType) -> list[int | None]:
    return [t.source_index for t in plan.tracks if t.type is kind and t.flags.default]


def test_preferred_audio_gets_default_and_others_lose_it(build: Build) -> None:
    media = build.media(
        build.track(V, "h264"),
        build.track(A, "aac", "fre", default=True),
        build.track(A, "aac", "eng"),
    )
    phase, policy = build.phase("default_flags: {}")
    plan = evaluate(phase, media, policy.config)
    assert defaults(plan, TrackType.AUDIO) == [2]
    assert defaults(plan, TrackType.VIDEO) == [0]
    assert plan.kind is PlanKind.METADATA


def test_default_goes_to_the_first_preferred_track_after_ordering(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "eng", "Commentary"),
        build.track(A, "ac3", "eng", "Stereo"),
        build.track(A, "eac3", "eng", "Surround"),
    )
    phase, policy = build.phase(
        """
        track_order: [audio_main, audio_commentary]
        default_flags: {}
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert [t.source_index for t in plan.tracks] == [1, 2, 0]
    assert plan.tracks[0].flags.default
    assert defaults(plan, TrackType.AUDIO) == [1]


def test_commentary_never_wins_when_spoken_audio_exists(build: Build) -> None:
    media = build.media(build.track(A, "aac", "eng", commentary=True), build.track(A, "aac", "fre"))
    phase, policy = build.phase("default_flags: {}")
    assert defaults(evaluate(phase, media, policy.config), TrackType.AUDIO) == [1]


def test_without_clear_other_defaults_existing_defaults_stay(build: Build) -> None:
    media = build.media(build.track(A, "aac", "fre", default=True), build.track(A, "aac", "eng"))
    phase, policy = build.phase("default_flags: {clear_other_defaults: false}")
    assert defaults(evaluate(phase, media, policy.config), TrackType.AUDIO) == [0, 1]


def test_clear_other_defaults_leaves_one_default_per_type(build: Build) -> None:
    media = build.media(
        build.track(S, "subrip", "eng", default=True),
        build.track(S, "subrip", "fre", default=True),
    )
    phase, policy = build.phase(
        "default_flags: {set_first_video_default: false, set_preferred_audio_default: false}"
    )
    assert defaults(evaluate(phase, media, policy.config), TrackType.SUBTITLE) == [0]


def test_preferred_subtitle_skips_forced_and_commentary(build: Build) -> None:
    media = build.media(
        build.track(S, "subrip", "eng", forced=True),
        build.track(S, "subrip", "eng", "Commentary"),
        build.track(S, "subrip", "fre"),
        build.track(S, "subrip", "eng"),
    )
    phase, policy = build.phase(
        "default_flags: {set_preferred_subtitle_default: true}",
        "subtitle_language_preference: [eng, fre]",
    )
    assert defaults(evaluate(phase, media, policy.config), TrackType.SUBTITLE) == [3]


def test_no_subtitle_default_when_no_preferred_language(build: Build) -> None:
    media = build.media(build.track(S, "subrip", "ger"))
    phase, policy = build.phase(
        "default_flags: {set_preferred_subtitle_default: true}",
        "subtitle_language_preference: [eng]",
    )
    assert evaluate(phase, media, policy.config).is_noop


def test_foreign_film_turns_on_the_preferred_subtitle(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "jpn", default=True),
        build.track(S, "subrip", "fre"),
        build.track(S, "subrip", "eng"),
    )
    phase, policy = build.phase(
        "default_flags: {set_subtitle_default_when_audio_differs: true}",
        "audio_language_preference: [eng]\nsubtitle_language_preference: [eng, fre]",
    )
    plan = evaluate(phase, media, policy.config)
    assert defaults(plan, TrackType.SUBTITLE) == [2]
    assert any("audio is jpn, not eng" in note for note in plan.notes)


def test_native_language_audio_turns_subtitles_off(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "eng", default=True), build.track(S, "subrip", "eng", default=True)
    )
    phase, policy = build.phase(
        "default_flags: {set_subtitle_default_when_audio_differs: true}",
        "audio_language_preference: [eng]",
    )
    assert defaults(evaluate(phase, media, policy.config), TrackType.SUBTITLE) == []


def test_all_commentary_audio_still_gets_a_default(build: Build) -> None:
    media = build.media(build.track(A, "aac", "eng", "Commentary"))
    phase, policy = build.phase("default_flags: {}")
    assert defaults(evaluate(phase, media, policy.config), TrackType.AUDIO) == [0]


def test_full_subtitles_win_over_sdh_of_the_same_language(build: Build) -> None:
    media = build.media(
        build.track(A, "aac", "ger", default=True),
        build.track(S, "subrip", "eng", "SDH", hearing_impaired=True),
        build.track(S, "subrip", "eng"),
    )
    phase, policy = build.phase(
        "default_flags: {set_subtitle_default_when_audio_differs: true}",
        "audio_language_preference: [eng]\nsubtitle_language_preference: [eng]",
    )
    assert defaults(evaluate(phase, media, policy.config), TrackType.SUBTITLE) == [2]


def test_undetermined_audio_does_not_count_as_foreign(build: Build) -> None:
    media = build.media(build.track(A, "aac", "und", default=True), build.track(S, "subrip", "eng"))
    phase, policy = build.phase(
        "default_flags: {set_subtitle_default_when_audio_differs: true}",
        "audio_language_preference: [eng]\nsubtitle_language_preference: [eng]",
    )
    assert evaluate(phase, media, policy.config).is_noop
