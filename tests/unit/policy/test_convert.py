"""``vpo policy convert``: 12 ↔ 13 keeping comments and order. The property that the
same policy as 12 and as 13 plans identically is in test_properties.py (it shares the
policy and media strategies)."""

from __future__ import annotations

import textwrap

import pytest

from vpo.policy.convert import convert_policy
from vpo.policy.loader import PolicyError, parse_policy
from vpo.policy.schema import Policy

COMMENTED = """\
# Living-room policy
schema_version: 12
name: Living room   # shown by validate
config:
  audio_language_preference: [jpn, eng]  # Japanese first
phases:
  - name: tidy
    skip_when: {match: all, video_codec: [av1]}
    audio_filter:            # keep these
      languages: [jpn, eng]
    conditional:
      - name: r
        when: "audio.language == 'jpn'"
        then: [{warn: jp}]
  - name: squeeze
    transcode:
      video:
        target_codec: hevc
        quality:
          crf: 22           # visually fine
          preset: slow
        hardware_acceleration: {enabled: none}
      audio: {preserve_codecs: [flac], transcode_to: aac}
"""


def test_12_to_13_keeps_comments_order_and_meaning() -> None:
    result = convert_policy(COMMENTED, 13)
    assert result.lost == ()
    assert result.text == textwrap.dedent(
        """\
        # Living-room policy
        schema_version: 13
        name: Living room   # shown by validate
        config:
          audio_languages: [jpn, eng]            # Japanese first
        phases:
          - name: tidy
            skip_when: {mode: all, video_codec: [av1]}
            keep_audio:              # keep these
              languages: [jpn, eng]
            rules:
              match: first
              items:
                - name: r
                  when: "audio.language == 'jpn'"
                  then: [warn: jp]
          - name: squeeze
            transcode:
              video:
                to: hevc
                crf: 22             # visually fine
                preset: slow
                hw: none
              audio: {preserve: [flac], to: aac}
        """
    )
    back = convert_policy(result.text, 12)
    assert back.lost == ()
    assert _same(parse_policy(back.text), parse_policy(COMMENTED))
    assert "# visually fine" in back.text and "# keep these" in back.text


def test_match_all_is_named_as_not_carried_over() -> None:
    text = textwrap.dedent(
        """\
        schema_version: 13
        phases:
          - name: p
            rules:
              match: all
              items:
                - {name: a, when: audio.exists, then: {warn: a}}
                - {name: b, when: video.exists, then: {warn: b}}
        """
    )
    result = convert_policy(text, 12)
    assert result.lost == (
        "phases[0].rules.match: 'all' has no schema 12 form (12 stops at the first rule "
        "that decides); written as conditional, which behaves as 'first'",
    )
    assert "conditional:" in result.text and "rules" not in result.text


def test_an_invalid_policy_is_not_converted() -> None:
    with pytest.raises(PolicyError):
        convert_policy("schema_version: 12\nphases: []\n", 13)


def test_converting_to_the_same_version_changes_nothing() -> None:
    assert convert_policy(COMMENTED, 12).text == COMMENTED


def _same(a: Policy, b: Policy) -> bool:
    return a.model_copy(update={"schema_version": 0}) == b.model_copy(update={"schema_version": 0})
