"""evaluate() with transcode and audio_synthesis: which tracks are encoded, how, where."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.media.model import Container, Track, TrackType
from vpo.plan import AudioEncode, Hardware, PlanKind, RateControl, identity_plan
from vpo.policy.evaluate import evaluate
from vpo.policy.schema_transcode import VideoScaling
from vpo.policy.transcode import canonical_codec, scaled_size, transcode_for_mp4
from vpo.policy.work import Work

if TYPE_CHECKING:
    from conftest import Tx

HEVC = """
transcode:
  video:
    target_codec: hevc
    quality: {mode: crf, crf: 22, preset: slow, tune: grain}
    scaling: {max_resolution: 720p, algorithm: bicubic}
    hardware_acceleration: {enabled: auto}
"""


def test_video_is_encoded_with_the_policy_settings(tx: Tx) -> None:
    phase, config = tx.phase(HEVC)
    plan = evaluate(phase, tx.media(tx.video("h264", 1920, 1080), tx.audio()), config)
    assert plan.kind is PlanKind.ENCODE
    video = plan.tracks[0]
    assert video.codec == "hevc" and video.encode is not None and video.encode.video is not None
    settings = video.encode.video
    assert (settings.rate_control, settings.crf, settings.preset, settings.tune) == (
        RateControl.CRF, 22, "slow", "grain",
    )  # fmt: skip
    assert (settings.width, settings.height, settings.scale_algorithm) == (1280, 720, "bicubic")
    assert settings.hardware is Hardware.AUTO and settings.fallback_to_cpu
    assert plan.tracks[1].encode is None
    assert "transcode: video track 0 (h264) → hevc, scaled to 1280x720" in plan.notes


def test_a_file_already_in_target_codec_and_size_is_a_noop(tx: Tx) -> None:
    phase, config = tx.phase(HEVC)
    plan = evaluate(phase, tx.media(tx.video("hevc", 1280, 720)), config)
    assert plan.is_noop
    assert any("kept: already hevc" in note for note in plan.notes)


def test_target_codec_but_too_large_is_scaled(tx: Tx) -> None:
    phase, config = tx.phase(HEVC)
    plan = evaluate(phase, tx.media(tx.video("hevc", 3840, 2160)), config)
    assert plan.tracks[0].encode is not None


@pytest.mark.parametrize(
    ("codec", "height", "bit_rate", "skipped"),
    [
        ("hevc", 1080, 5_000_000, True),
        ("av1", 720, 5_000_000, True),
        ("h264", 1080, 5_000_000, False),  # codec_matches fails
        ("hevc", 2160, 5_000_000, False),  # resolution_within fails
        ("hevc", 1080, 9_000_000, False),  # bitrate_under fails
        ("hevc", 1080, None, True),  # unknown bit rate cannot be shown to be over
    ],
)
def test_skip_if_needs_every_condition(
    tx: Tx, codec: str, height: int, bit_rate: int | None, skipped: bool
) -> None:
    phase, config = tx.phase(
        """
        transcode:
          video:
            target_codec: hevc
            skip_if: {codec_matches: [hevc, av1], resolution_within: 1080p, bitrate_under: 8M}
        """
    )
    source = tx.media(tx.video(codec, height * 16 // 9, height, bit_rate=bit_rate))
    assert evaluate(phase, source, config).is_noop is skipped


def test_unknown_track_bit_rate_is_the_file_minus_the_known_others(tx: Tx) -> None:
    phase, config = tx.phase(
        "transcode: {video: {target_codec: hevc, skip_if: {bitrate_under: 8M}}}"
    )
    known_audio = tx.audio("truehd", 8, bit_rate=5_000_000)
    small = tx.media(tx.video("hevc"), known_audio, bit_rate=12_000_000)  # video ~7 M
    assert evaluate(phase, small, config).is_noop
    large = tx.media(tx.video("hevc"), known_audio, bit_rate=14_000_000)  # video ~9 M
    assert not evaluate(phase, large, config).is_noop
    unknown_audio = tx.media(tx.video("hevc"), tx.audio("truehd", 8), bit_rate=14_000_000)
    assert evaluate(phase, unknown_audio, config).is_noop  # cannot be told: holds


def test_two_pass_without_bitrate_mode_is_one_pass_with_a_warning(tx: Tx) -> None:
    phase, config = tx.phase(
        "transcode: {video: {target_codec: h264, quality: {mode: crf, two_pass: true}}}"
    )
    plan = evaluate(phase, tx.media(tx.video("mpeg4")), config)
    assert plan.tracks[0].encode is not None and plan.tracks[0].encode.video is not None
    assert not plan.tracks[0].encode.video.two_pass
    assert any("two_pass needs mode 'bitrate'" in w for w in plan.warnings)


def test_audio_transcode_preserves_listed_codecs_and_the_target(tx: Tx) -> None:
    phase, config = tx.phase(
        """
        transcode:
          audio: {preserve_codecs: [truehd, dts-hd], transcode_to: eac3, transcode_bitrate: 640k}
        """
    )
    source = tx.media(
        tx.video(),
        tx.audio("truehd", 8),
        tx.audio("dts", 6),
        tx.audio("eac3", 6),
        tx.audio("flac", 8),
        tx.audio("mp3", 2),
    )
    plan = evaluate(phase, source, config)
    encodes = [t.encode for t in plan.tracks]
    assert encodes[:4] == [None, None, None, None]
    assert encodes[4] is not None and encodes[4].audio == AudioEncode(640_000, channels=6)
    assert encodes[5] is not None and encodes[5].audio == AudioEncode(640_000, channels=None)
    assert [t.codec for t in plan.tracks] == ["h264", "truehd", "dts", "eac3", "eac3", "eac3"]


STEREO = """
audio_synthesis:
  tracks:
    - name: stereo
      codec: aac
      channels: stereo
      bitrate: 192k
      title: Stereo
      position: {position}
      source:
        prefer: [{{language: eng}}, {{not_commentary: true}}, {{channels: max}}]
"""


def _surround(tx: Tx) -> tuple[object, ...]:
    return (
        tx.video(),
        tx.audio("ac3", 6, "fre", default=True),
        tx.audio("aac", 2, "eng", commentary=True),
        tx.audio("dts", 6, "eng"),
        tx.audio("truehd", 8, "eng"),
    )


@pytest.mark.parametrize(("position", "expected"), [("after_source", 5), ("end", 5), (1, 1)])
def test_stereo_is_made_from_the_preferred_source_where_position_says(
    tx: Tx, position: object, expected: int
) -> None:
    phase, config = tx.phase(STEREO.format(position=position))
    plan = evaluate(phase, tx.media(*_surround(tx)), config)  # type: ignore[arg-type]
    new = plan.tracks[expected]
    assert new.source_index is None and new.type is TrackType.AUDIO
    assert (new.codec, new.language, new.title) == ("aac", "eng", "Stereo")
    assert new.encode is not None and new.encode.derived_from == 4  # truehd 7.1: most channels
    assert new.encode.audio == AudioEncode(192_000, 2)
    assert not new.flags.default
    assert len(plan.tracks) == 6


def test_after_source_sits_right_after_its_source(tx: Tx) -> None:
    phase, config = tx.phase(STEREO.format(position="after_source"))
    source = tx.media(tx.video(), tx.audio("truehd", 8, "eng"), tx.audio("ac3", 6, "fre"))
    plan = evaluate(phase, source, config)
    assert [t.source_index for t in plan.tracks] == [0, 1, None, 2]


def test_existing_stereo_in_that_language_prevents_a_second(tx: Tx) -> None:
    phase, config = tx.phase(STEREO.format(position="end"))
    source = tx.media(tx.video(), tx.audio("truehd", 8, "eng"), tx.audio("aac", 2, "eng"))
    plan = evaluate(phase, source, config)
    assert plan.is_noop
    assert "audio_synthesis: 'stereo': track 2 already matches; not added" in plan.notes


def test_skip_if_exists_rule(tx: Tx) -> None:
    phase, config = tx.phase(
        """
        audio_synthesis:
          tracks:
            - name: stereo
              codec: aac
              channels: 2
              skip_if_exists: {channels: 2, not_commentary: true}
        """
    )
    commentary_only = tx.media(tx.audio("ac3", 6), tx.audio("mp3", 2, commentary=True))
    assert not evaluate(phase, commentary_only, config).is_noop
    plain = tx.media(tx.audio("ac3", 6), tx.audio("mp3", 2))
    assert evaluate(phase, plain, config).is_noop


def test_no_upmix_and_no_source(tx: Tx) -> None:
    phase, config = tx.phase(
        "audio_synthesis: {tracks: [{name: surround, codec: ac3, channels: '5.1'}]}"
    )
    plan = evaluate(phase, tx.media(tx.video(), tx.audio("aac", 2)), config)
    assert plan.is_noop and "not upmixed" in plan.warnings[0]
    plan = evaluate(phase, tx.media(tx.video()), config)
    assert plan.is_noop and "no audio track to make it from" in plan.warnings[0]


def test_synthesis_then_transcode_keeps_the_synthesised_codec(tx: Tx) -> None:
    phase, config = tx.phase(
        STEREO.format(position="end") + "transcode: {audio: {transcode_to: opus}}"
    )
    plan = evaluate(phase, tx.media(tx.video(), tx.audio("dts", 6)), config)
    assert [t.codec for t in plan.tracks] == ["h264", "opus", "aac"]
    assert plan.tracks[2].encode is not None and plan.tracks[2].encode.derived_from == 1


def test_expected_result_carries_new_sizes_and_channels(tx: Tx) -> None:
    phase, config = tx.phase(HEVC + STEREO.format(position="end"))
    result = evaluate(phase, tx.media(tx.video(bit_rate=9_000_000), tx.audio("dts", 6)), config)
    after = result.expected_result()
    assert (after.tracks[0].width, after.tracks[0].height, after.tracks[0].bit_rate) == (
        1280, 720, None,
    )  # fmt: skip
    assert after.tracks[2].channels == 2 and after.tracks[2].codec == "aac"


def test_codec_aliases() -> None:
    assert [canonical_codec(c) for c in ("H265", "x264", "DTS-HD", "e-ac-3")] == [
        "hevc", "h264", "dts", "eac3",
    ]  # fmt: skip


@given(
    width=st.integers(16, 8000),
    height=st.integers(16, 5000),
    limit=st.sampled_from([480, 576, 720, 1080, 1440, 2160]),
    upscale=st.booleans(),
)
def test_scaled_size_keeps_aspect_even_sides_and_the_limit(
    width: int, height: int, limit: int, upscale: bool
) -> None:
    size = scaled_size(width, height, VideoScaling(max_resolution=limit, upscale=upscale))
    if size is None:
        assert height <= limit or upscale
        return
    new_width, new_height = size
    assert new_width % 2 == 0 and new_height % 2 == 0
    assert new_height <= limit
    if not upscale:
        assert new_height <= height and new_width <= width
    assert abs(new_width / new_height - width / height) < 0.05 * (width / height) + 2 / new_height
    # converged: scaling the result again changes nothing
    assert scaled_size(new_width, new_height, VideoScaling(max_resolution=limit)) is None


def test_transcode_for_mp4_encodes_audio_and_drops_bitmap_subtitles(tx: Tx) -> None:
    pgs = Track(0, 0, TrackType.SUBTITLE, "hdmv_pgs_subtitle")
    source = tx.media(tx.video(), tx.audio("truehd", 8), tx.audio("dts", 6), pgs)
    work = Work(source, list(identity_plan(source, "p").tracks), source.container)
    transcode_for_mp4(work, [work.tracks[1], work.tracks[2], work.tracks[3]])
    assert [t.codec for t in work.tracks] == ["h264", "eac3", "eac3"]
    assert work.tracks[1].encode is not None and work.tracks[1].encode.audio == AudioEncode(None, 6)
    assert work.tracks[2].encode is not None and work.tracks[2].encode.audio == AudioEncode()
    assert [r.source_index for r in work.removed] == [3]
    assert "bitmap format MP4 cannot hold; dropped" in work.warnings[0]


def test_codecs_the_container_cannot_hold_are_not_planned(tx: Tx) -> None:
    phase, config = tx.phase(HEVC + STEREO.format(position="end"))
    webm = tx.media(tx.video("vp9"), tx.audio("opus", 6), container=Container.WEBM)
    plan = evaluate(phase, webm, config)
    assert plan.is_noop
    assert [w.split(":")[0] for w in plan.warnings] == ["audio_synthesis", "transcode"]
    assert "hevc cannot be stored in webm" in plan.warnings[1]
