"""container.codec_mappings and container.preserve_metadata on real conversions
(ffmpeg into MP4, mkvmerge into Matroska), checked with ffprobe; a second run
plans nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

MAPPINGS = """\
schema_version: 12
phases:
  - name: convert
    container:
      target: mp4
      on_incompatible_codec: transcode
      codec_mappings:
        truehd: {codec: aac, bitrate: 96k}
        dts: {action: remove}
"""
PLAIN = """\
schema_version: 12
phases:
  - name: convert
    container: {target: TARGET, preserve_metadata: false}
"""


@pytest.fixture(autouse=True)
def no_settle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")  # files tagged a moment ago


def run(tmp_path: Path, policy_text: str, *args: str) -> Result:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    return CliRunner().invoke(
        cli, ["process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy), *args]
    )


def ffprobe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    data: dict[str, object] = json.loads(out)
    return data


def test_codec_mappings_choose_the_codec_bitrate_or_removal(
    tmp_path: Path, media_factory: MediaFactory
) -> None:
    spec = MediaSpec(
        container="mkv",
        audio=(
            AudioSpec(codec="truehd", language="eng", default=True),
            AudioSpec(codec="dts", language="fre"),
            AudioSpec(codec="pcm_s16le", language="ger"),
        ),
    )
    movie = media_factory(spec)
    applied = run(tmp_path, MAPPINGS, "--json", str(movie))
    assert applied.exit_code == ExitCode.OK, applied.output
    converted = movie.with_suffix(".mp4")
    streams = ffprobe(converted)["streams"]
    assert isinstance(streams, list)
    audio = [
        (s["codec_name"], s["tags"]["language"]) for s in streams if s["codec_type"] == "audio"
    ]
    assert audio == [("aac", "eng"), ("eac3", "ger")]  # dts removed; pcm: the default
    aac = next(s for s in streams if s["codec_name"] == "aac")
    assert int(aac["bit_rate"]) < 130_000  # 96k asked (ffmpeg's aac default is 128k+)
    again = run(tmp_path, MAPPINGS, "--dry-run", "--json", str(converted))
    assert json.loads(again.stdout)["files"][0]["kind"] == "noop", again.output


def tag(path: Path, tmp_path: Path) -> None:
    xml = tmp_path / "tags.xml"
    xml.write_text(
        '<?xml version="1.0"?><Tags><Tag><Targets/>'
        "<Simple><Name>COMMENT</Name><String>from the source</String></Simple>"
        "<Simple><Name>GENRE</Name><String>Drama</String></Simple>"
        "</Tag></Tags>",
        encoding="utf-8",
    )
    subprocess.run(
        [
            *("mkvpropedit", "-q", str(path), "--tags", f"global:{xml}"),
            *("--edit", "info", "--set", "title=Source title"),
        ],
        check=True,
    )


@pytest.mark.parametrize("preserve", [True, False])
def test_preserve_metadata_decides_whether_the_tags_come_along(
    tmp_path: Path, media_factory: MediaFactory, preserve: bool
) -> None:
    movie = media_factory(MediaSpec(container="mkv", audio=(AudioSpec(language="eng"),)))
    tag(movie, tmp_path)
    policy = PLAIN.replace("TARGET", "mp4")
    if preserve:
        policy = policy.replace(", preserve_metadata: false", "")
    applied = run(tmp_path, policy, "--json", str(movie))
    assert applied.exit_code == ExitCode.OK, applied.output
    converted = movie.with_suffix(".mp4")
    fmt = ffprobe(converted)["format"]
    assert isinstance(fmt, dict)
    tags = {k.lower(): v for k, v in fmt.get("tags", {}).items()}
    carried = {k: tags.get(k) for k in ("title", "comment", "genre")}
    if preserve:
        assert carried == {"title": "Source title", "comment": "from the source", "genre": "Drama"}
    else:
        assert carried == {"title": None, "comment": None, "genre": None}
    again = run(tmp_path, policy, "--dry-run", "--json", str(converted))
    assert json.loads(again.stdout)["files"][0]["kind"] == "noop", again.output


@pytest.mark.parametrize("preserve", [True, False])
def test_preserve_metadata_into_matroska(
    tmp_path: Path, media_factory: MediaFactory, preserve: bool
) -> None:
    spec = MediaSpec(container="mp4", audio=(AudioSpec(language="eng", default=True),))
    source = media_factory(spec)
    movie = tmp_path / "tagged.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-map", "0", "-c", "copy"),
            *("-metadata", "title=Source title", "-metadata", "comment=from mp4", str(movie)),
        ],
        check=True,
    )
    policy = PLAIN.replace("TARGET", "mkv")
    if preserve:
        policy = policy.replace(", preserve_metadata: false", "")
    applied = run(tmp_path, policy, "--json", str(movie))
    assert applied.exit_code == ExitCode.OK, applied.output
    converted = movie.with_suffix(".mkv")
    fmt = ffprobe(converted)["format"]
    assert isinstance(fmt, dict)
    tags = {k.lower(): v for k, v in fmt.get("tags", {}).items()}
    del tags["encoder"], tags["creation_time"]  # Info's muxing app and date
    if preserve:  # mkvmerge alone would drop them: vpo carries them over
        assert tags == {"title": "Source title", "comment": "from mp4"}
    else:
        assert tags == {}
    again = run(tmp_path, policy, "--dry-run", "--json", str(converted))
    assert json.loads(again.stdout)["files"][0]["kind"] == "noop", again.output
