"""``container.codec_mappings`` and ``container.preserve_metadata`` (the original
VPO's meaning) in evaluate() (pure)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from vpo.media.model import Container, container_tags
from vpo.policy.evaluate import EvaluationError, evaluate
from vpo.policy.loader import PolicyError

from .conftest import Build

MP4 = """\
container:
  target: mp4
  on_incompatible_codec: MODE
  codec_mappings:
    truehd: {codec: aac, bitrate: 320k}
    dts: {codec: ac3}
    vorbis: {action: remove}
"""


def source(build: Build):  # type: ignore[no-untyped-def]
    return build.media(
        build.track("video", "h264"),
        build.track("audio", "truehd", channels=8),
        build.track("audio", "dts", "fre", channels=6),
        build.track("audio", "vorbis", "jpn"),
        build.track("audio", "pcm_s24le", "ger"),
    )


def test_mapped_codecs_follow_their_entry_the_others_the_default(build: Build) -> None:
    phase, policy = build.phase(MP4.replace("MODE", "transcode"))
    plan = evaluate(phase, source(build), policy.config)
    assert plan.container is Container.MP4
    audio = [(t.source_index, t.codec, t.encode) for t in plan.tracks if t.type.value == "audio"]
    (truehd, dts, pcm) = audio
    assert truehd[:2] == (1, "aac") and truehd[2] is not None
    assert truehd[2].audio is not None and truehd[2].audio.bitrate == 320_000
    assert dts[:2] == (2, "ac3")  # the mapping's codec, not the default eac3
    assert pcm[:2] == (4, "eac3")  # no entry: the default treatment
    assert [(r.source_index, r.reason) for r in plan.removed] == [
        (3, "codec_mappings: vorbis removed")
    ]
    assert evaluate(phase, plan.expected_result(), policy.config).is_noop


def test_mappings_act_only_when_the_mode_transcodes(build: Build) -> None:
    phase, policy = build.phase(MP4.replace("MODE", "skip"))
    plan = evaluate(phase, source(build), policy.config)
    assert plan.container is Container.MATROSKA and plan.is_noop


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{codec: h264}", "codec_mappings: truehd → h264 does not fit audio track 1 (truehd)"),
        ("{codec: aac, action: convert}", "cannot be converted without encoding"),
    ],
)
def test_a_mapping_that_cannot_apply_fails_the_file(
    build: Build, mapping: str, message: str
) -> None:
    text = "container:\n  target: mp4\n  on_incompatible_codec: transcode\n"
    text += f"  codec_mappings: {{truehd: {mapping}}}\n"
    phase, policy = build.phase(text)
    with pytest.raises(EvaluationError, match=re.escape(message)):
        evaluate(phase, source(build), policy.config)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{codec: wav}", "unknown codec 'wav'"),
        ("{action: remove, codec: aac}", "action: remove takes no codec"),
        ("{bitrate: 320k}", "codec is required"),
        ("{codec: mov_text, action: convert, bitrate: 1k}", "bitrate is only for"),
        ("{codec: aac, speed: 2}", "speed"),
    ],
)
def test_mapping_mistakes_are_policy_errors(build: Build, mapping: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        build.phase(f"container:\n  target: mp4\n  codec_mappings: {{truehd: {mapping}}}\n")


def test_preserve_metadata_false_drops_the_sources_tags_and_title(build: Build) -> None:
    text = "container: {target: mp4, preserve_metadata: false}\n"
    text += "conditional:\n  - name: c\n    when: {not: {count: {track_type: audio, gte: 9}}}\n"
    text += "    then:\n      - set_container_metadata: {field: comment, value: kept}\n"
    phase, policy = build.phase(text)
    media = build.media(build.track("video", "h264"), build.track("audio", "aac"))
    pairs = [("ENCODER", "Lavf"), ("COMMENT", "old"), ("GENRE", "Drama"), ("NOTE", "x")]
    media = replace(media, title="Old title", tags=container_tags(pairs, "Old title"))
    plan = evaluate(phase, media, policy.config)
    assert plan.title_change() == ("Old title", None)
    # encoder and note: MP4 cannot hold them, the conversion drops them anyway
    assert plan.tag_changes() == (("comment", "old", "kept"), ("genre", "Drama", None))
    assert not plan.warnings
    kept = evaluate(build.phase("container: {target: mp4}\n")[0], media, policy.config)
    assert kept.tag_changes() == () and kept.title_change() is None  # the default: true
