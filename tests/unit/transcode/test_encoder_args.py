"""Encoder choice and argv (pure), on ffmpeg 5.1's captured -encoders/-hwaccels listing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import (
    AudioEncode,
    EncodeSettings,
    Hardware,
    PlannedTrack,
    RateControl,
    VideoEncode,
    identity_plan,
)
from vpo.tools.commands.encoders import (
    EncoderChoice,
    EncoderInventory,
    EncoderUnavailableError,
    audio_encoder_args,
    choose_audio_encoder,
    choose_video_encoder,
    hardware_candidates,
    parse_encoders,
    parse_hwaccels,
    video_encoder_args,
)
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv

CAPTURED = Path(__file__).parent / "captured"
ENCODERS = parse_encoders((CAPTURED / "ffmpeg-5.1-encoders.txt").read_text())
HWACCELS = parse_hwaccels((CAPTURED / "ffmpeg-5.1-hwaccels.txt").read_text())
DEBIAN = EncoderInventory(ENCODERS, HWACCELS)


def after(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


def test_listing_parses_names_not_legend() -> None:
    assert {"libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1", "aac"} <= ENCODERS
    assert {"hevc_nvenc", "h264_vaapi", "mov_text", "libopus"} <= ENCODERS
    assert "=" not in ENCODERS and "Video" not in ENCODERS
    assert len(ENCODERS) > 150


def test_hwaccels_listing() -> None:
    assert {"cuda", "vaapi", "qsv"} <= HWACCELS
    assert not any(name.endswith(":") for name in HWACCELS)


def test_hardware_candidates_need_encoder_and_hwaccel() -> None:
    candidates = hardware_candidates(DEBIAN)
    assert "hevc_nvenc" in candidates and "h264_vaapi" in candidates
    without_cuda = replace(DEBIAN, hwaccels=HWACCELS - {"cuda"})
    assert not any(name.endswith("_nvenc") for name in hardware_candidates(without_cuda))


@pytest.mark.parametrize(
    ("codec", "encoder"),
    [("hevc", "libx265"), ("h264", "libx264"), ("vp9", "libvpx-vp9"), ("av1", "libsvtav1")],
)
def test_software_encoder_per_codec(codec: str, encoder: str) -> None:
    assert choose_video_encoder(codec, VideoEncode(), DEBIAN).name == encoder


def test_av1_falls_back_to_libaom_without_svt() -> None:
    inventory = replace(DEBIAN, encoders=ENCODERS - {"libsvtav1"})
    assert choose_video_encoder("av1", VideoEncode(), inventory).name == "libaom-av1"


def test_listed_but_not_working_hardware_falls_back_to_cpu_with_a_note() -> None:
    choice = choose_video_encoder("hevc", VideoEncode(hardware=Hardware.NVENC), DEBIAN)
    assert choice == EncoderChoice(
        "libx265", Hardware.NONE, "nvenc unavailable for hevc; encoding with libx265"
    )


def test_working_hardware_is_used_and_auto_takes_the_first_that_works() -> None:
    inventory = replace(DEBIAN, working_hardware=frozenset({"hevc_vaapi", "hevc_qsv"}))
    assert choose_video_encoder("hevc", VideoEncode(hardware=Hardware.AUTO), inventory) == (
        EncoderChoice("hevc_qsv", Hardware.QSV)
    )
    vaapi = choose_video_encoder("hevc", VideoEncode(hardware=Hardware.VAAPI), inventory)
    assert vaapi.name == "hevc_vaapi"
    args = video_encoder_args(vaapi, 0, VideoEncode(width=640, height=360))
    assert after(args, "-filter:0") == "scale=640:360:flags=lanczos,format=nv12,hwupload"


def test_no_fallback_is_an_error_naming_doctor() -> None:
    with pytest.raises(EncoderUnavailableError, match=r"fallback_to_cpu is false.*vpo doctor"):
        choose_video_encoder(
            "hevc", VideoEncode(hardware=Hardware.NVENC, fallback_to_cpu=False), DEBIAN
        )


def test_missing_encoder_is_an_error() -> None:
    with pytest.raises(EncoderUnavailableError, match="no encoder for vp9"):
        choose_video_encoder("vp9", VideoEncode(), replace(DEBIAN, encoders=frozenset()))
    with pytest.raises(EncoderUnavailableError, match="no encoder for opus"):
        choose_audio_encoder("opus", replace(DEBIAN, encoders=frozenset({"aac"})))
    assert choose_audio_encoder("opus", DEBIAN) == "libopus"


def test_x265_crf_preset_tune_and_scaling() -> None:
    video = VideoEncode(crf=22, preset="slow", tune="grain", width=1280, height=720,
                        scale_algorithm="bicubic")  # fmt: skip
    args = video_encoder_args(EncoderChoice("libx265"), 0, video)
    assert args[:2] == ["-c:0", "libx265"]
    assert after(args, "-crf:0") == "22"
    assert after(args, "-preset:0") == "slow"
    assert after(args, "-tune:0") == "grain"
    assert after(args, "-filter:0") == "scale=1280:720:flags=bicubic"
    assert after(args, "-x265-params:0") == "log-level=error"


def test_default_crf_is_explicit() -> None:
    assert after(video_encoder_args(EncoderChoice("libx264"), 3, VideoEncode()), "-crf:3") == "23"


def test_bitrate_mode_with_limits() -> None:
    video = VideoEncode(
        rate_control=RateControl.BITRATE, bitrate=4_000_000, min_bitrate=1_000_000,
        max_bitrate=6_000_000,
    )  # fmt: skip
    args = video_encoder_args(EncoderChoice("libx264"), 0, video)
    assert after(args, "-b:0") == "4000000"
    assert after(args, "-minrate:0") == "1000000"
    assert after(args, "-maxrate:0") == "6000000"
    assert after(args, "-bufsize:0") == "12000000"
    assert "-crf:0" not in args


def test_constrained_quality_per_encoder_family() -> None:
    video = VideoEncode(rate_control=RateControl.CONSTRAINED_QUALITY, crf=30, max_bitrate=2_000_000)
    x264 = video_encoder_args(EncoderChoice("libx264"), 0, video)
    assert (after(x264, "-crf:0"), after(x264, "-maxrate:0")) == ("30", "2000000")
    vp9 = video_encoder_args(EncoderChoice("libvpx-vp9"), 0, video)
    assert (after(vp9, "-crf:0"), after(vp9, "-b:0")) == ("30", "2000000")


def test_vp9_crf_needs_zero_bitrate_and_preset_becomes_cpu_used() -> None:
    args = video_encoder_args(EncoderChoice("libvpx-vp9"), 0, VideoEncode(crf=33, preset="fast"))
    assert (after(args, "-crf:0"), after(args, "-b:0")) == ("33", "0")
    assert (after(args, "-deadline:0"), after(args, "-cpu-used:0")) == ("good", "3")
    assert "-tune:0" not in video_encoder_args(
        EncoderChoice("libvpx-vp9"), 0, VideoEncode(tune="film")
    )


@pytest.mark.parametrize(
    ("encoder", "option", "value"),
    [("libsvtav1", "-preset:0", "8"), ("libaom-av1", "-cpu-used:0", "5"),
     ("hevc_nvenc", "-preset:0", "p4"), ("hevc_qsv", "-preset:0", "fast")],
)  # fmt: skip
def test_x264_preset_names_are_translated(encoder: str, option: str, value: str) -> None:
    args = video_encoder_args(EncoderChoice(encoder), 0, VideoEncode(preset="fast"))
    assert after(args, option) == value


def test_numeric_preset_passes_through() -> None:
    args = video_encoder_args(EncoderChoice("libsvtav1"), 0, VideoEncode(preset="4"))
    assert after(args, "-preset:0") == "4"


def test_two_pass_arguments() -> None:
    video = VideoEncode(rate_control=RateControl.BITRATE, bitrate=1_000_000, two_pass=True)
    x264 = video_encoder_args(EncoderChoice("libx264"), 0, video, pass_number=1, passlog="/t/x")
    assert (after(x264, "-pass:0"), after(x264, "-passlogfile:0")) == ("1", "/t/x")
    x265 = video_encoder_args(EncoderChoice("libx265"), 0, video, pass_number=2, passlog="/t:a/x")
    assert after(x265, "-x265-params:0") == "log-level=error:pass=2:stats=/t\\:a/x.x265"
    assert "-pass:0" not in x265


def test_audio_bitrate_and_downmix_by_channel_count() -> None:
    args = audio_encoder_args("aac", 2, AudioEncode(bitrate=192_000, channels=2))
    assert args == ["-c:2", "aac", "-b:2", "192000", "-ac:2", "2"]
    assert audio_encoder_args("flac", 1, None) == ["-c:1", "flac"]


def test_ffmpeg_argv_for_an_encode_plan() -> None:
    tracks = (
        Track(0, 0, TrackType.VIDEO, "h264", width=1920, height=1080),
        Track(1, 1, TrackType.AUDIO, "ac3", language="eng", channels=6),
    )
    source = MediaFile(Path("/lib/in.mp4"), Container.MP4, 1, 0, tracks, duration=10.0)
    plan = identity_plan(source, "p")
    video = replace(
        plan.tracks[0], codec="hevc", encode=EncodeSettings("hevc", video=VideoEncode(crf=20))
    )
    stereo = PlannedTrack(
        None, TrackType.AUDIO, "aac", "eng", "Stereo", TrackFlags(),
        EncodeSettings("aac", audio=AudioEncode(128_000, 2), derived_from=1),
    )  # fmt: skip
    plan = replace(plan, tracks=(video, plan.tracks[1], stereo))
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mp4"), inventory=DEBIAN, progress=True)
    assert argv[argv.index("-progress") + 1 : argv.index("-progress") + 3] == ["pipe:1", "-nostats"]
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    assert maps == ["0:0", "0:1", "0:1"]  # the stereo track is read from the 5.1 one
    assert after(argv, "-c:0") == "libx265" and after(argv, "-tag:0") == "hvc1"
    assert after(argv, "-c:2") == "aac" and after(argv, "-ac:2") == "2"
    assert "-c:1" not in argv  # copied
    assert "BPS=" in [argv[i + 1] for i, a in enumerate(argv) if a == "-metadata:s:0"]
    first = build_ffmpeg_argv(
        "ffmpeg", plan, Path("/lib/out.mp4"), inventory=DEBIAN, pass_number=1, passlog="/t/p"
    )
    assert [argv_item for argv_item in first if argv_item == "-map"] == ["-map"]
    assert first[-3:] == ["-f", "null", "-"]
