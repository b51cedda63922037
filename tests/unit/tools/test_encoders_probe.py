"""Encoder detection tests only the hardware encoders a plan would use, once each.

A stub ffmpeg lists nvenc, qsv and vaapi encoders and logs every call; only
hevc_qsv encodes its test frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import AudioEncode, EncodeSettings, Hardware, Plan, PlannedTrack, VideoEncode
from vpo.tools import encoders_probe
from vpo.tools.commands.encoders import EncoderInventory, hardware_wanted

STUB = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *-encoders*) printf 'Encoders:\\n ------\\n V....D libx265 x\\n V....D hevc_nvenc x\\n \
V..... hevc_qsv x\\n V....D hevc_vaapi x\\n V....D h264_nvenc x\\n A....D aac x\\n' ;;
  *-hwaccels*) printf 'Hardware acceleration methods:\\ncuda\\nqsv\\nvaapi\\n' ;;
  *hevc_qsv*) exit 0 ;;
  *) echo "Error: no device" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def ffmpeg(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "calls.log"
    log.touch()
    stub = tmp_path / "ffmpeg"
    stub.write_text(STUB.format(log=log), encoding="utf-8")
    stub.chmod(0o755)
    encoders_probe.clear_cache()
    yield str(stub), log
    encoders_probe.clear_cache()


def _tested(log: Path) -> list[str]:
    return [
        line.split("-c:v ")[1].split()[0] for line in log.read_text().splitlines() if "-c:v" in line
    ]


def _plan(*encodes: EncodeSettings) -> Plan:
    media = MediaFile(
        Path("/m.mkv"), Container.MATROSKA, 1, 0, (Track(0, 0, TrackType.VIDEO, "h264"),)
    )
    tracks = tuple(
        PlannedTrack(0, TrackType.VIDEO, e.codec, "und", None, TrackFlags(), encode=e)
        for e in encodes
    )
    return Plan(source=media, phase="p", container=Container.MATROSKA, tracks=tracks)


def _hevc(hardware: Hardware) -> EncodeSettings:
    return EncodeSettings("hevc", video=VideoEncode(hardware=hardware))


def test_a_software_or_audio_encode_tests_no_hardware_encoder(ffmpeg: tuple[str, Path]) -> None:
    path, log = ffmpeg
    inventory = encoders_probe.encoder_inventory(path, _plan(_hevc(Hardware.NONE)))
    audio = EncodeSettings("aac", audio=AudioEncode())
    encoders_probe.encoder_inventory(path, _plan(audio))
    assert "libx265" in inventory.encoders and inventory.working_hardware == frozenset()
    assert _tested(log) == []
    assert len(log.read_text().splitlines()) == 2  # -encoders and -hwaccels, once


def test_auto_tests_in_choice_order_until_one_works_and_only_once(
    ffmpeg: tuple[str, Path],
) -> None:
    path, log = ffmpeg
    plan = _plan(_hevc(Hardware.AUTO))
    first = encoders_probe.encoder_inventory(path, plan)
    again = encoders_probe.encoder_inventory(path, plan)
    assert first.working_hardware == again.working_hardware == frozenset({"hevc_qsv"})
    assert _tested(log) == ["hevc_nvenc", "hevc_qsv"]  # vaapi and h264 never tried


def test_doctor_without_a_plan_tests_every_listed_candidate(ffmpeg: tuple[str, Path]) -> None:
    path, log = ffmpeg
    encoders_probe.encoder_inventory(path, _plan(_hevc(Hardware.NVENC)))
    inventory = encoders_probe.encoder_inventory(path)
    assert inventory.working_hardware == frozenset({"hevc_qsv"})
    assert sorted(_tested(log)) == ["h264_nvenc", "hevc_nvenc", "hevc_qsv", "hevc_vaapi"]


LISTED = EncoderInventory(
    frozenset({"hevc_nvenc", "hevc_qsv", "hevc_vaapi", "h264_vaapi"}),
    frozenset({"cuda", "vaapi"}),
)


@pytest.mark.parametrize(
    ("videos", "groups"),
    [
        ([("hevc", Hardware.NONE)], ()),
        ([("hevc", Hardware.AUTO)], (("hevc_nvenc", "hevc_vaapi"),)),  # qsv: no hwaccel
        ([("hevc", Hardware.QSV)], ()),
        ([("h264", Hardware.AUTO), ("h264", Hardware.AUTO)], (("h264_vaapi",),)),
        ([("av1", Hardware.AUTO)], ()),
    ],
)
def test_hardware_wanted(
    videos: list[tuple[str, Hardware]], groups: tuple[tuple[str, ...], ...]
) -> None:
    wanted = [(codec, VideoEncode(hardware=hardware)) for codec, hardware in videos]
    assert hardware_wanted(wanted, LISTED) == groups
