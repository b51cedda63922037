"""Pure parts of the encode path and of ``vpo doctor``'s encoder check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from vpo.apply.encode import TranscodeSettings, decode_check_starts, encode_mismatches
from vpo.cli.doctor_cmd import Level, encoder_results
from vpo.config.models import TranscodeConfig
from vpo.policy.evaluate import evaluate
from vpo.tools.commands.encoders import EncoderInventory, parse_encoders, parse_hwaccels

if TYPE_CHECKING:
    from conftest import Tx

CAPTURED = Path(__file__).parent / "captured"
DEBIAN = EncoderInventory(
    parse_encoders((CAPTURED / "ffmpeg-5.1-encoders.txt").read_text()),
    parse_hwaccels((CAPTURED / "ffmpeg-5.1-hwaccels.txt").read_text()),
)
POLICY = """
audio_synthesis: {tracks: [{name: stereo, codec: aac, channels: 2}]}
transcode: {video: {target_codec: hevc, scaling: {max_resolution: 720p}}}
"""


def test_output_with_the_planned_size_and_channels_passes(tx: Tx) -> None:
    phase, config = tx.phase(POLICY)
    plan = evaluate(phase, tx.media(tx.video("h264", 1920, 1080), tx.audio("ac3", 6)), config)
    assert encode_mismatches(plan, plan.expected_result()) == []


def test_wrong_frame_size_and_channel_count_are_named(tx: Tx) -> None:
    phase, config = tx.phase(POLICY)
    plan = evaluate(phase, tx.media(tx.video("h264", 1920, 1080), tx.audio("ac3", 6)), config)
    result = plan.expected_result()
    tracks = list(result.tracks)
    tracks[0] = replace(tracks[0], width=1920, height=1080)
    tracks[2] = replace(tracks[2], channels=6)
    problems = encode_mismatches(plan, replace(result, tracks=tuple(tracks)))
    assert problems == [
        "track 0 (video): frame is 1920x1080, plan says 1280x720",
        "track 2 (audio): 6 channels, plan says 2",
    ]


@pytest.mark.parametrize(
    ("duration", "starts"),
    [(0.0, (0.0,)), (0.8, (0.0,)), (2.0, (0.0, 1.0)), (5400.5, (0.0, 5399.5))],
)
def test_decode_checks_cover_the_first_and_last_second(
    duration: float, starts: tuple[float, ...]
) -> None:
    assert decode_check_starts(duration) == starts


def test_settings_from_config_and_timeout() -> None:
    settings = TranscodeSettings.from_config(TranscodeConfig(niceness=0, keep_if_larger=False))
    assert settings.niceness is None and not settings.keep_if_larger
    assert settings.stall_seconds == 120.0
    assert settings.timeout_for(100.0) == 600.0 + 20.0 * 100.0
    assert settings.timeout_for(None) == 600.0 + 20.0 * 3600.0


def test_doctor_lists_encoders_and_hardware() -> None:
    video, audio, hardware = encoder_results(DEBIAN)
    assert video.level is Level.OK
    assert video.summary == "hevc libx265, h264 libx264, vp9 libvpx-vp9, av1 libsvtav1"
    assert audio.summary == "aac aac, ac3 ac3, eac3 eac3, opus libopus, flac flac"
    assert hardware.level is Level.OK and hardware.summary.startswith("none working (listed")
    working = replace(DEBIAN, working_hardware=frozenset({"hevc_vaapi"}))
    assert encoder_results(working)[2].summary == "hevc_vaapi"


def test_doctor_warns_about_a_target_without_encoder() -> None:
    bare = replace(DEBIAN, encoders=DEBIAN.encoders - {"libsvtav1", "libaom-av1", "librav1e"})
    video = encoder_results(bare)[0]
    assert video.level is Level.WARN
    assert video.details == ("no encoder for av1: policies targeting it fail",)
    assert video.data["encoders"] == {
        "hevc": "libx265", "h264": "libx264", "vp9": "libvpx-vp9", "av1": None,
    }  # fmt: skip
