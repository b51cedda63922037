"""``transcode.video.ffmpeg_args``: an argument list added after the video encoder's
options; refused when it is one string or names inputs, outputs or ``-map``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import PolicyError, parse_policy
from vpo.tools.commands.encoders import EncoderInventory, parse_encoders, parse_hwaccels
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv

CAPTURED = Path(__file__).parents[1] / "transcode" / "captured"
DEBIAN = EncoderInventory(
    parse_encoders((CAPTURED / "ffmpeg-5.1-encoders.txt").read_text()),
    parse_hwaccels((CAPTURED / "ffmpeg-5.1-hwaccels.txt").read_text()),
)


def policy_text(args: str, version: int = 12) -> str:
    if version == 13:
        video = f"{{to: hevc, crf: 20, ffmpeg_args: {args}}}"
    else:
        video = f"{{target_codec: hevc, quality: {{crf: 20}}, ffmpeg_args: {args}}}"
    return (
        f"schema_version: {version}\nphases:\n  - name: p\n    transcode:\n      video: {video}\n"
    )


@pytest.mark.parametrize("version", [12, 13])
def test_arguments_follow_the_encoder_options_as_separate_items(version: int) -> None:
    policy = parse_policy(policy_text("['-x265-params', 'aq-mode=3:no-sao=1', '-g', 48]", version))
    media = MediaFile(
        Path("/lib/in.mkv"),
        Container.MATROSKA,
        1,
        0,
        (Track(0, 0, TrackType.VIDEO, "h264", width=640, height=360),),
        duration=10.0,
    )
    plan = evaluate(policy.phases[0], media, policy.config)
    encode = plan.tracks[0].encode
    assert encode is not None
    assert ("extra_args", "-x265-params aq-mode=3:no-sao=1 -g 48") in encode.parameters
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mkv"), inventory=DEBIAN)
    start = argv.index("-x265-params")
    assert argv[start : start + 4] == ["-x265-params", "aq-mode=3:no-sao=1", "-g", "48"]
    assert argv.index("libx265") < start < argv.index("-f")
    assert argv.count("-map") == 1 and argv[-1] == "file:/lib/out.mkv"
    first = build_ffmpeg_argv(
        "ffmpeg", plan, Path("/lib/out.mkv"), inventory=DEBIAN, pass_number=1, passlog="/t/p"
    )
    assert "aq-mode=3:no-sao=1" in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("'-crf 20 -map 0'", "ffmpeg_args is a list of arguments, e.g. ['-x265-params', "),
        ("['-map', '0:a']", "-map is refused: vpo chooses the streams, inputs and the output"),
        ("['-map_metadata', '-1']", "-map_metadata is refused"),
        ("['-i', 'other.mkv']", "-i is refused"),
        ("['-f', 'matroska']", "-f is refused"),
        ("['-y']", "-y is refused"),
        ("['-filter_complex', 'x']", "-filter_complex is refused"),
        ("['-g', '48', '/tmp/copy.mkv']", "looks like a file or URL (an extra input or output)"),
        ("['-g', '48', 'copy.mkv']", "looks like an output file name"),
        ("['-g', '48', 'http:evil']", "looks like a file or URL"),
        ("['-']", "'-' would name standard input or output"),
        ("['-metadata', \"title=a\\nb\"]", "control characters are not allowed"),
        ("[true]", "must be text or a number"),
    ],
)
def test_refused_arguments_name_why(args: str, message: str) -> None:
    for version in (12, 13):
        with pytest.raises(PolicyError) as caught:
            parse_policy(policy_text(args, version), "p.yaml")
        (issue,) = caught.value.issues
        assert issue.line == 5
        assert issue.path == "phases[0].transcode.video.ffmpeg_args"
        assert message in issue.message


def test_too_many_arguments() -> None:
    with pytest.raises(PolicyError, match="more than 50 arguments"):
        parse_policy(policy_text("[" + ", ".join(["'-g'", "'1'"] * 26) + "]"))
