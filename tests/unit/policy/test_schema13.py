"""Schema 13 front door: renamed and flattened keys map onto the one internal model."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

from vpo.policy.evaluate import evaluate
from vpo.policy.loader import PolicyError, parse_policy
from vpo.policy.phases import skip_reason
from vpo.policy.schema import Policy

if TYPE_CHECKING:
    from conftest import Build

V12 = """\
schema_version: 12
name: Anime
description: Japanese first
category: organize
config:
  audio_language_preference: [jpn, eng]
  subtitle_language_preference: [eng]
phases:
  - name: tidy
    skip_when: {match: all, video_codec: [av1], file_size_under: 1GB}
    audio_filter: {languages: [jpn, eng]}
    subtitle_filter: {languages: [eng], preserve_forced: true}
    attachment_filter: {remove_all: true}
    conditional:
      - name: r
        when: {exists: {track_type: audio, language: jpn}}
        then: [{warn: japanese}]
  - name: squeeze
    transcode:
      video:
        target_codec: hevc
        quality: {crf: 22, preset: slow, tune: film}
        scaling: {max_resolution: 1080p, algorithm: bicubic, upscale: false}
        hardware_acceleration: {enabled: none, fallback_to_cpu: false}
      audio: {preserve_codecs: [truehd, flac], transcode_to: aac, transcode_bitrate: 192k}
"""

V13 = """\
schema_version: 13
name: Anime
description: Japanese first
category: organize
config:
  audio_languages: [jpn, eng]
  subtitle_languages: [eng]
phases:
  - name: tidy
    skip_when: {mode: all, video_codec: [av1], file_size_under: 1GB}
    keep_audio: {languages: [jpn, eng]}
    keep_subtitles: {languages: [eng], preserve_forced: true}
    filter_attachments: {remove_all: true}
    rules:
      match: first
      items:
        - name: r
          when: "audio.language == 'jpn'"
          then: [{warn: japanese}]
  - name: squeeze
    transcode:
      video:
        to: hevc
        crf: 22
        preset: slow
        tune: film
        max_resolution: 1080p
        scale_algorithm: bicubic
        upscale: false
        hw: none
        hw_fallback: false
      audio: {preserve: [truehd, flac], to: aac, bitrate: 192k}
"""


def _same_model(a: Policy, b: Policy) -> bool:
    return a.model_copy(update={"schema_version": 0}) == b.model_copy(update={"schema_version": 0})


def test_schema_13_and_12_give_the_same_internal_policy() -> None:
    assert _same_model(parse_policy(V12), parse_policy(V13))


def test_metadata_keys_in_every_version() -> None:
    for text in (V12, V13, V12.replace("schema_version: 12", "schema_version: 11")):
        policy = parse_policy(text)
        assert (policy.name, policy.description, policy.category) == (
            "Anime",
            "Japanese first",
            "organize",
        )


def errors_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(textwrap.dedent(text), "p.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_schema_12_names_are_refused_in_13_with_the_new_name() -> None:
    text = V13.replace("keep_audio:", "audio_filter:").replace("to: hevc", "target_codec: hevc")
    assert errors_of(text) == [
        "p.yaml:11: phases[0].audio_filter: 'audio_filter' is the schema 12 name; "
        "13 calls it 'keep_audio'",
        "p.yaml:23: phases[1].transcode.video.target_codec: 'target_codec' is the schema 12 "
        "name; 13 calls it 'to'",
    ]


def test_schema_13_keys_are_refused_in_12_with_a_hint() -> None:
    text = V13.replace("schema_version: 13", "schema_version: 12")
    errors = errors_of(text)
    assert errors[0] == (
        "p.yaml:6: config.audio_languages: 'audio_languages' is a schema 13 key "
        "(12 calls it 'audio_language_preference'); set schema_version: 13 or use the 12 name"
    )
    assert any("phases[0].rules: 'rules' is a schema 13 key" in e for e in errors)


def test_nested_transcode_groups_are_refused_in_13() -> None:
    text = V13.replace("        crf: 22\n", "        quality: {crf: 22}\n")
    assert errors_of(text) == [
        "p.yaml:24: phases[1].transcode.video.quality: schema 13 writes the keys of 'quality' "
        "directly under video: mode, crf, bitrate, min_bitrate, max_bitrate, preset, tune, "
        "two_pass"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "        crf: 22\n",
            "        crff: 22\n",
            "p.yaml:24: phases[1].transcode.video.crff: unknown key 'crff' (did you mean 'crf'?)",
        ),
        (
            "        crf: 22\n",
            "        crf: 99\n",
            "p.yaml:24: phases[1].transcode.video.crf: Input should be less than or equal to 63",
        ),
        (
            "        hw: none\n",
            "        hw: cuda\n",
            "p.yaml:30: phases[1].transcode.video.hw: 'cuda' is not allowed; expected one of "
            "auto, nvenc, qsv, vaapi, none",
        ),
        (
            "    keep_audio: {languages: [jpn, eng]}\n",
            "    keep_audoi: {languages: [jpn, eng]}\n",
            "p.yaml:11: phases[0].keep_audoi: unknown key 'keep_audoi' "
            "(did you mean 'keep_audio'?)",
        ),
        (
            "    keep_audio: {languages: [jpn, eng]}\n",
            "    keep_audio: {languages: [jpn, jap]}\n",
            "p.yaml:11: phases[0].keep_audio.languages[1]: unknown language code 'jap' "
            "(did you mean 'jpn'?)",
        ),
        (
            "      match: first\n",
            "      match: some\n",
            "p.yaml:15: phases[0].rules.match: 'some' is not allowed; expected one of first, all",
        ),
        (
            "  audio_languages: [jpn, eng]\n",
            "  audio_langs: [jpn, eng]\n",
            "p.yaml:6: config.audio_langs: unknown key 'audio_langs' (did you mean "
            "'audio_languages'?)",
        ),
        (
            "{mode: all,",
            "{mode: most,",
            "p.yaml:10: phases[0].skip_when.mode: 'most' is not allowed; expected one of any, all",
        ),
    ],
)
def test_errors_name_the_key_as_written_in_13(old: str, new: str, expected: str) -> None:
    assert old in V13
    assert expected in errors_of(V13.replace(old, new))


def test_rules_match_all_runs_every_deciding_rule(build: Build) -> None:
    text = """\
    schema_version: 13
    phases:
      - name: p
        rules:
          match: MODE
          items:
            - {name: a, when: "audio.exists", then: {warn: one}}
            - {name: b, when: "subtitle.exists", then: {warn: never}, else: {warn: two}}
            - {name: c, when: "video.exists", then: {warn: three}}
    """
    media = build.media(build.track("video", "h264"), build.track("audio", "aac"))
    first = parse_policy(textwrap.dedent(text.replace("MODE", "first")))
    every = parse_policy(textwrap.dedent(text.replace("MODE", "all")))
    assert evaluate(first.phases[0], media, first.config).warnings == ("one",)
    assert evaluate(every.phases[0], media, every.config).warnings == ("one", "two", "three")


def test_rules_match_is_not_a_key_of_12() -> None:
    text = "schema_version: 12\nphases:\n  - name: p\n    rules_match: all\n"
    assert errors_of(text) == ["p.yaml:4: phases[0].rules_match: unknown key 'rules_match'"]


def test_skip_when_mode_and_the_new_tests(build: Build) -> None:
    text = """\
    schema_version: 13
    phases:
      - name: p
        skip_when: {mode: any, audio_codec_exists: truehd, subtitle_language_exists: jpn,
                    resolution: 2160p}
    """
    rule = parse_policy(textwrap.dedent(text)).phases[0].skip_when
    assert rule is not None
    plain = build.media(build.track("video", "h264", height=1080), build.track("audio", "aac"))
    assert skip_reason(rule, plain) is None
    lossless = build.media(
        build.track("video", "h264", height=1080), build.track("audio", "truehd")
    )
    assert skip_reason(rule, lossless) == "skip_when: an audio track has codec truehd"
    japanese = build.media(
        build.track("video", "h264", height=1080), build.track("subtitle", "ass", "jpn")
    )
    assert skip_reason(rule, japanese) == "skip_when: a subtitle is in jpn"
    uhd = build.media(build.track("video", "h264", height=2160))
    assert skip_reason(rule, uhd) == "skip_when: resolution matches"
