"""conditional rules: conditions, first match wins, every action."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from vpo.media.model import MediaFile
from vpo.policy.evaluate import EvaluationError, evaluate

if TYPE_CHECKING:
    from conftest import Build

A, S, V = "audio", "subtitle", "video"


@pytest.fixture
def media(build: Build) -> MediaFile:
    return build.media(
        build.track(V, "hevc", "und", width=3840, height=2160),
        build.track(A, "truehd", "eng", channels=8),
        build.track(A, "aac", "eng", "Commentary", channels=2),
        build.track(A, "ac3", "fre", channels=6),
        build.track(S, "subrip", "eng", "SDH"),
    )


def _rule(when: str, then: str = "[{warn: matched}]", otherwise: str | None = None) -> str:
    text = f"conditional:\n  - name: r\n    when: {when}\n    then: {then}\n"
    if otherwise is not None:
        text += f"    else: {otherwise}\n"
    return text


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ("{exists: {track_type: audio, language: eng}}", True),
        ("{exists: {track_type: audio, language: [ger, jpn]}}", False),
        ("{exists: {track_type: audio, channels: {gte: 6}, codec: truehd}}", True),
        ("{exists: {track_type: audio, channels: 6}}", True),
        ("{exists: {track_type: audio, channels: {gt: 8}}}", False),
        ("{exists: {track_type: video, height: {gte: 2160}, width: 3840}}", True),
        ("{exists: {track_type: subtitle, title: {contains: sdh}}}", True),
        ("{exists: {track_type: subtitle, title: {regex: '^full$'}}}", False),
        ("{exists: {track_type: audio, is_default: true}}", False),
        ("{exists: {track_type: subtitle, is_forced: false}}", True),
        ("{count: {track_type: audio, language: eng, gte: 2}}", True),
        ("{count: {track_type: audio, language: eng, not_commentary: true, gte: 2}}", False),
        ("{count: {track_type: audio, eq: 3}}", True),
        ("{and: [{exists: {track_type: audio}}, {exists: {track_type: video}}]}", True),
        (
            "{or: [{exists: {track_type: audio, codec: dts}},"
            " {count: {track_type: subtitle, lt: 1}}]}",
            False,
        ),
        ("{not: {exists: {track_type: audio, codec: dts}}}", True),
    ],
)
def test_conditions(build: Build, media: MediaFile, when: str, holds: bool) -> None:
    phase, policy = build.phase(_rule(when))
    plan = evaluate(phase, media, policy.config)
    assert (plan.warnings == ("matched",)) is holds


def test_first_matching_rule_wins_and_else_counts_as_a_decision(
    build: Build, media: MediaFile
) -> None:
    phase, policy = build.phase(
        """
        conditional:
          - name: no-dts
            when: {exists: {track_type: audio, codec: dts}}
            then: {warn: first}
          - name: has-truehd
            when: {exists: {track_type: audio, codec: truehd}}
            then: {warn: second}
            else: {warn: second-else}
          - name: never-reached
            when: {exists: {track_type: audio}}
            then: {warn: third}
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert plan.warnings == ("second",)
    assert plan.notes == ("conditional: rule 'has-truehd' chose 'then'",)


def test_else_branch(build: Build, media: MediaFile) -> None:
    phase, policy = build.phase(
        _rule("{exists: {track_type: audio, language: jpn}}", otherwise="{warn: no japanese}")
    )
    assert evaluate(phase, media, policy.config).warnings == ("no japanese",)


def test_set_actions(build: Build, media: MediaFile) -> None:
    then = (
        "[{set_default: {track_type: audio, language: fre}},"
        " {set_forced: {track_type: subtitle}},"
        " {set_language: {track_type: video, to: eng}},"
        " {set_title: {track_type: audio, codec: truehd, to: 'Dolby TrueHD 7.1'}}]"
    )
    phase, policy = build.phase(_rule("{exists: {track_type: video}}", then))
    plan = evaluate(phase, media, policy.config)
    assert [t.flags.default for t in plan.tracks] == [False, False, False, True, False]
    assert plan.tracks[4].flags.forced
    assert plan.tracks[0].language == "eng"
    assert plan.tracks[1].title == "Dolby TrueHD 7.1"


def test_skip_track_filter_skips_only_the_named_filter(build: Build, media: MediaFile) -> None:
    phase, policy = build.phase(
        """
        audio_filter: {languages: [fre]}
        subtitle_filter: {languages: [fre]}
        conditional:
          - name: keep-audio-for-truehd
            when: {exists: {track_type: audio, codec: truehd}}
            then: {skip_track_filter: audio}
        """
    )
    plan = evaluate(phase, media, policy.config)
    assert [t.source_index for t in plan.tracks] == [0, 1, 2, 3]


def test_fail_action_is_a_file_error(build: Build, media: MediaFile) -> None:
    phase, policy = build.phase(
        _rule("{not: {exists: {track_type: audio, language: jpn}}}", "{fail: needs Japanese}")
    )
    with pytest.raises(EvaluationError, match="rule 'r': needs Japanese"):
        evaluate(phase, media, policy.config)
