"""Encodes with the real ffmpeg on tiny generated media: evaluate() → apply_plan(),
checked independently with ffprobe (codec, frame size, bit rate, channels, order)."""

from __future__ import annotations

import _thread
import json
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.apply.encode import EncodeNotSmallerError, TranscodeSettings, decode_errors
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import parse_policy
from vpo.probe.probe import probe_file
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv
from vpo.tools.encoders_probe import encoder_inventory
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import ToolError

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
SETTINGS = ApplySettings(stable_seconds=0.0)
TRANSCODE = TranscodeSettings(stall_seconds=30.0, niceness=None)
SOURCE = MediaSpec(width=128, height=96, duration=2.0)


def ffprobe(tools: ToolPaths, path: Path) -> dict[str, Any]:
    """ffprobe's own view of the file, independent of vpo's probe."""
    result = subprocess.run(
        [tools.require("ffprobe"), "-v", "error", "-show_streams", "-show_format",
         "-of", "json", str(path)],
        capture_output=True, check=True,
    )  # fmt: skip
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def video_bit_rate(tools: ToolPaths, path: Path, duration: float) -> float:
    """Bits per second of the first video stream, from its packet sizes."""
    sizes = subprocess.run(
        [tools.require("ffprobe"), "-v", "error", "-select_streams", "v:0",
         "-show_entries", "packet=size", "-of", "csv=p=0", str(path)],
        capture_output=True, check=True, text=True,
    ).stdout.split()  # fmt: skip
    return sum(int(size) for size in sizes) * 8 / duration


def plan_for(policy_body: str, media: MediaFile) -> Plan:
    policy = parse_policy("schema_version: 12\nphases:\n  - name: p\n" + policy_body, "t.yaml")
    return evaluate(policy.phases[0], media, policy.config)


def run(plan: Plan, tools: ToolPaths, **kwargs: Any) -> Any:
    return apply_plan(plan, tools, SETTINGS, transcode=kwargs.pop("transcode", TRANSCODE), **kwargs)


@pytest.mark.parametrize(
    ("codec", "encoder", "preset"),
    [("hevc", "libx265", "ultrafast"), ("h264", "libx264", "ultrafast"),
     ("vp9", "libvpx-vp9", "ultrafast"), ("av1", "libsvtav1", "12")],
)  # fmt: skip
def test_every_target_codec_with_bitrate_and_scaling(
    media_factory: MediaFactory, tools: ToolPaths, codec: str, encoder: str, preset: str
) -> None:
    path = media_factory(SOURCE)
    body = f"""    transcode:
      video:
        target_codec: {codec}
        quality: {{mode: bitrate, bitrate: 150k, preset: '{preset}'}}
        scaling: {{max_width: 96, algorithm: bicubic}}
"""
    plan = plan_for(body, probe_file(path, tools))
    argv = build_ffmpeg_argv(
        tools.require("ffmpeg"), plan, Path("/out.mkv"),
        inventory=encoder_inventory(tools.require("ffmpeg")),
    )  # fmt: skip
    assert argv[argv.index("-c:0") + 1] == encoder
    assert argv[argv.index("-b:0") + 1] == "150000"
    assert argv[argv.index("-filter:0") + 1] == "scale=96:72:flags=bicubic"
    progress: list[EncodeProgress] = []
    outcome = run(plan, tools, on_progress=progress.append)
    streams = ffprobe(tools, path)["streams"]
    assert (streams[0]["codec_name"], streams[0]["width"], streams[0]["height"]) == (codec, 96, 72)
    assert streams[1]["codec_type"] == "audio" and streams[1]["codec_name"] == "aac"  # copied
    rate = video_bit_rate(tools, path, 2.0)
    assert 50_000 < rate < 300_000, rate  # asked for 150k; without -b:v these encode far off
    assert outcome.encode is not None and outcome.encode.encoders == (encoder,)
    assert progress and progress[-1].percent == 100.0
    assert plan_for(body, probe_file(path, tools)).is_noop  # second run: nothing to do


def test_crf_reaches_the_encoder(media_factory: MediaFactory, tools: ToolPaths) -> None:
    sizes = []
    for crf in (18, 45):
        path = media_factory(SOURCE, f"crf{crf}.mkv")
        body = f"""    transcode:
      video: {{target_codec: hevc, quality: {{mode: crf, crf: {crf}, preset: ultrafast}}}}
"""
        run(plan_for(body, probe_file(path, tools)), tools)
        sizes.append(video_bit_rate(tools, path, 2.0))
    assert sizes[0] > 2 * sizes[1]


def test_two_pass_bitrate_encode(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SOURCE)
    body = """    transcode:
      video: {target_codec: hevc, quality: {mode: bitrate, bitrate: 100k, two_pass: true,
              preset: ultrafast}}
"""
    progress: list[EncodeProgress] = []
    run(plan_for(body, probe_file(path, tools)), tools, on_progress=progress.append)
    assert ffprobe(tools, path)["streams"][0]["codec_name"] == "hevc"
    assert 30_000 < video_bit_rate(tools, path, 2.0) < 200_000
    percents = [p.percent for p in progress if p.percent is not None]
    assert any(p <= 50 for p in percents) and percents[-1] == 100.0
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # pass logs removed


LIVING_ROOM = """    audio_synthesis:
      tracks:
        - name: stereo
          codec: aac
          channels: stereo
          bitrate: 128k
          title: Stereo
          position: {position}
          source: {{prefer: [{{not_commentary: true}}, {{channels: max}}]}}
"""


@pytest.mark.parametrize(("position", "expected"), [("after_source", 2), ("end", 4), (0, 0)])
def test_stereo_from_surround_lands_where_position_says(
    media_factory: MediaFactory, tools: ToolPaths, position: object, expected: int
) -> None:
    spec = replace(
        SOURCE,
        audio=(AudioSpec("ac3", channels=6, default=True), AudioSpec("aac", "fre", channels=2)),
        subtitles=(SubtitleSpec(),),
    )
    path = media_factory(spec)
    body = LIVING_ROOM.format(position=position)
    plan = plan_for(body, probe_file(path, tools))
    run(plan, tools)
    streams = ffprobe(tools, path)["streams"]
    assert len(streams) == 5
    new = streams[expected]
    assert (new["codec_name"], new["channels"]) == ("aac", 2)
    assert new["tags"]["title"] == "Stereo" and new["tags"]["language"] == "eng"
    originals = [s for i, s in enumerate(streams) if i != expected]
    assert [s["codec_type"] for s in originals] == ["video", "audio", "audio", "subtitle"]
    assert originals[1]["channels"] == 6  # the source is kept as it was
    assert plan_for(body, probe_file(path, tools)).is_noop


def test_downmix_uses_the_centre_channel(media_factory: MediaFactory, tools: ToolPaths) -> None:
    """A proper matrix puts the centre into both sides; naive channel dropping loses it."""
    path = media_factory(replace(SOURCE, audio=(AudioSpec("flac", channels=6),)))
    centre_only = path.with_name("centre.mkv")
    subprocess.run(
        [tools.require("ffmpeg"), "-v", "error", "-i", str(path),
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=48000",
         "-filter_complex",
         "[1:a]pan=5.1|FC=c0[a]", "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "flac",
         str(centre_only)],
        check=True,
    )  # fmt: skip
    plan = plan_for(LIVING_ROOM.format(position="end"), probe_file(centre_only, tools))
    run(plan, tools)
    volume = subprocess.run(
        [tools.require("ffmpeg"), "-v", "info", "-i", str(centre_only), "-map", "0:a:1",
         "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    mean = float(volume.split("mean_volume: ")[1].split(" dB")[0])
    assert mean > -30.0, volume  # silence would be -91 dB


def test_audio_transcode_for_mp4(media_factory: MediaFactory, tools: ToolPaths) -> None:
    spec = replace(SOURCE, audio=(AudioSpec("flac", channels=6), AudioSpec("ac3", "fre")))
    path = media_factory(spec)
    body = """    container: {target: mp4}
    transcode:
      audio: {preserve_codecs: [ac3], transcode_to: aac, transcode_bitrate: 96k}
"""
    plan = plan_for(body, probe_file(path, tools))
    outcome = run(plan, tools)
    mp4 = path.with_suffix(".mp4")
    assert outcome.media.path == mp4 and not path.exists()
    data = ffprobe(tools, mp4)
    assert data["format"]["format_name"].startswith("mov,mp4")
    codecs = [(s["codec_name"], s.get("channels")) for s in data["streams"]]
    assert codecs == [("h264", None), ("aac", 6), ("ac3", 2)]
    argv = build_ffmpeg_argv("ffmpeg", plan, mp4)
    assert argv[argv.index("-b:1") + 1] == "96000" and "-c:2" not in argv
    assert int(data["streams"][1]["bit_rate"]) < 130_000
    assert plan_for(body, probe_file(mp4, tools)).is_noop


def test_failing_encoder_leaves_the_original(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SOURCE)
    before = path.read_bytes()
    body = """    transcode:
      video: {target_codec: hevc, quality: {preset: warp9}}
"""
    with pytest.raises(ToolError, match="ffmpeg failed") as caught:
        run(plan_for(body, probe_file(path, tools)), tools)
    assert str(caught.value).startswith(str(path))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_keep_if_larger_false_keeps_the_original(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SOURCE)
    before = path.read_bytes()
    body = """    transcode:
      video: {target_codec: hevc, quality: {mode: crf, crf: 0, preset: ultrafast}}
"""
    with pytest.raises(EncodeNotSmallerError, match=r"encode not smaller \(.* MB vs .* MB") as e:
        run(plan_for(body, probe_file(path, tools)), tools,
            transcode=replace(TRANSCODE, keep_if_larger=False))  # fmt: skip
    assert e.value.skipped and e.value.encoded_size >= e.value.original_size
    assert path.read_bytes() == before


def test_scratch_dir_holds_the_temp(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    path = media_factory(SOURCE, "lib/movie.mkv")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: list[list[str]] = []
    body = "    transcode: {video: {target_codec: hevc, quality: {preset: ultrafast}}}\n"
    run(
        plan_for(body, probe_file(path, tools)),
        tools,
        transcode=replace(TRANSCODE, scratch_dir=scratch),
        on_progress=lambda _: seen.append([p.name for p in scratch.iterdir()]),
    )
    assert any(any(name.startswith(".vpo-tmp-") for name in names) for names in seen)
    assert list(scratch.iterdir()) == []
    assert ffprobe(tools, path)["streams"][0]["codec_name"] == "hevc"


def test_decode_check_finds_damage_that_ffmpeg_exits_0_on(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SOURCE)
    ffmpeg = tools.require("ffmpeg")
    assert decode_errors(ffmpeg, path, 0.0, path) is None
    assert decode_errors(ffmpeg, path, 1.0, path) is None
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size * 3 // 4)
        handle.write(bytes(range(256)) * 12)
    found = [decode_errors(ffmpeg, path, start, path) for start in (0.0, 1.0)]
    assert any(found), found


def test_ctrl_c_during_an_encode_leaves_the_original_and_no_temp(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(replace(SOURCE, width=640, height=360, duration=20.0))
    before = path.read_bytes()
    body = "    transcode: {video: {target_codec: hevc, quality: {preset: medium}}}\n"
    plan = plan_for(body, probe_file(path, tools))
    started = threading.Event()

    def on_progress(_: EncodeProgress) -> None:
        if not started.is_set():
            started.set()
            threading.Timer(0.2, _thread.interrupt_main).start()

    with pytest.raises(KeyboardInterrupt):
        run(plan, tools, on_progress=on_progress)
    assert started.is_set()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    ffmpegs = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True)
    assert ffmpegs.stdout.strip() == ""


def test_hardware_encoder_failing_on_the_file_falls_back_to_cpu(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine lists nvenc without a GPU: pretend its test frame worked, so the
    real ffmpeg fails on the file with hevc_nvenc and the encode must retry on the CPU."""
    ffmpeg = tools.require("ffmpeg")
    pretend = replace(encoder_inventory(ffmpeg), working_hardware=frozenset({"hevc_nvenc"}))
    monkeypatch.setattr("vpo.apply.encode.encoder_inventory", lambda *_: pretend)
    path = media_factory(SOURCE)
    body = """    transcode:
      video: {target_codec: hevc, quality: {preset: ultrafast},
              hardware_acceleration: {enabled: nvenc, fallback_to_cpu: {fallback}}}
"""
    with pytest.raises(ToolError, match="ffmpeg failed"):
        run(plan_for(body.replace("{fallback}", "false"), probe_file(path, tools)), tools)
    outcome = run(plan_for(body.replace("{fallback}", "true"), probe_file(path, tools)), tools)
    assert outcome.encode is not None and outcome.encode.encoders == ("libx265",)
    assert "encoded on the CPU" in outcome.warnings[-1]
    assert ffprobe(tools, path)["streams"][0]["codec_name"] == "hevc"
