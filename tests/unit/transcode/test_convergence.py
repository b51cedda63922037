"""Convergence with transcode and audio_synthesis: evaluating the result of a plan
gives a no-op plan (what makes the second run over a library change nothing)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import parse_policy
from vpo.policy.schema import Phase, PolicyConfig

PHASES = (
    # the living-room policy's shape
    """
    audio_synthesis:
      tracks:
        - {name: stereo, codec: aac, channels: stereo, bitrate: 192k, position: after_source,
           source: {prefer: [{language: eng}, {not_commentary: true}, {channels: max}]}}
    transcode:
      video: {target_codec: hevc, scaling: {max_resolution: 1080p}}
      audio: {preserve_codecs: [aac], transcode_to: aac}
    """,
    """
    transcode:
      video:
        target_codec: av1
        skip_if: {codec_matches: [av1, hevc], resolution_within: 1080p, bitrate_under: 10M}
        scaling: {max_width: 1280, algorithm: bilinear}
      audio: {preserve_codecs: [truehd, dts-hd, flac], transcode_to: eac3}
    """,
    """
    audio_synthesis:
      tracks:
        - {name: stereo, codec: opus, channels: 2, language: ger, position: 0,
           skip_if_exists: {codec: [opus, aac], channels: 2}}
        - {name: surround, codec: eac3, channels: '5.1', position: end}
    transcode:
      video: {target_codec: vp9, scaling: {max_height: 720, upscale: true}}
    """,
    """
    container: {target: mkv}
    track_order: [video, audio_main, audio_alternate, audio_commentary]
    default_flags: {}
    audio_synthesis:
      tracks: [{name: stereo, codec: aac, channels: 2, position: after_source}]
    transcode:
      video: {target_codec: h264, quality: {mode: bitrate, bitrate: 4M, two_pass: true}}
      audio: {transcode_to: flac}
    """,
)


def _phase(body: str) -> tuple[Phase, PolicyConfig]:
    lines = [
        line[4:] if line.startswith("    ") else line for line in body.strip("\n").splitlines()
    ]
    text = "schema_version: 12\nphases:\n  - name: p\n" + "".join(f"    {line}\n" for line in lines)
    policy = parse_policy(text, "test.yaml")
    return policy.phases[0], policy.config


COMPILED = tuple(_phase(body) for body in PHASES)

video_tracks = st.builds(
    lambda codec, height, rate: Track(
        0, 0, TrackType.VIDEO, codec, width=height * 16 // 9 // 2 * 2, height=height,
        bit_rate=rate,
    ),
    st.sampled_from(["h264", "hevc", "av1", "vp9", "mpeg4"]),
    st.sampled_from([360, 480, 720, 1080, 2160]),
    st.none() | st.integers(500_000, 40_000_000),
)  # fmt: skip
audio_tracks = st.builds(
    lambda codec, channels, language, commentary, default, rate: Track(
        0, 0, TrackType.AUDIO, codec, language=language, channels=channels,
        flags=TrackFlags(default=default, commentary=commentary), bit_rate=rate,
    ),
    st.sampled_from(["aac", "ac3", "eac3", "dts", "truehd", "flac", "opus", "mp3"]),
    st.sampled_from([1, 2, 6, 8]),
    st.sampled_from(["eng", "jpn", "ger"]),
    st.booleans(),
    st.booleans(),
    st.none() | st.integers(64_000, 8_000_000),
)  # fmt: skip


@st.composite
def media_files(draw: st.DrawFn) -> MediaFile:
    tracks = [draw(video_tracks), *draw(st.lists(audio_tracks, min_size=1, max_size=4))]
    numbered = tuple(
        Track(**{**{s: getattr(t, s) for s in Track.__slots__}, "index": i, "track_id": i})
        for i, t in enumerate(tracks)
    )
    bit_rate = draw(st.none() | st.integers(1_000_000, 60_000_000))
    return MediaFile(
        Path("m.mkv"), Container.MATROSKA, 10**9, 0, numbered, duration=5400.0, bit_rate=bit_rate
    )


@settings(max_examples=300, deadline=None)
@given(media=media_files(), which=st.integers(0, len(PHASES) - 1))
def test_second_evaluation_is_a_noop(media: MediaFile, which: int) -> None:
    phase, config = COMPILED[which]
    first = evaluate(phase, media, config)
    second = evaluate(phase, first.expected_result(), config)
    assert second.is_noop, (first.notes, second.notes, second.diff())
    assert not any(t.encode is not None for t in second.tracks)
