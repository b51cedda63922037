"""The in-process header probe against mkvmerge -J and mkvinfo, on files real tools wrote.

probe_matroska_headers must give the MediaFile probe_file builds from
``mkvmerge -J`` (field by field), and read_segment_layout must find the
top-level elements exactly where ``mkvinfo`` says they are.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.media.model import MediaFile
from vpo.probe.errors import EmptyFileError, NotMediaError, ProbeError, TruncatedFileError
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.matroska_layout import SegmentLayout, read_segment_layout
from vpo.probe.probe import probe_file
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
BrokenFactory = Callable[..., Path]

SPECS = {
    "many-tracks": MediaSpec(
        title="Le Film",
        audio=(
            AudioSpec(codec="aac", language="fre", default=True, channels=2),
            AudioSpec(codec="ac3", language="ger", title="Kommentar", commentary=True, channels=6),
            AudioSpec(codec="flac", language=None, channels=1),
            AudioSpec(codec="opus", language="fre", language_ietf="fr-CA", original=True),
            AudioSpec(codec="eac3", language="spa", visual_impaired=True, hearing_impaired=True),
        ),
        subtitles=(
            SubtitleSpec(language="eng", forced=True, default=True, title="Forced"),
            SubtitleSpec(codec="ass", language="jpn", hearing_impaired=True),
            SubtitleSpec(codec="webvtt", language=None),
        ),
        font_attachment=True,
        chapters=3,
    ),
    "other-codecs": MediaSpec(
        video_codec="mpeg4",
        audio=(
            AudioSpec(codec="dts", channels=6),
            AudioSpec(codec="mp3"),
            AudioSpec(codec="vorbis"),
            AudioSpec(codec="pcm_s16le"),
        ),
        video_default=False,
    ),
    "webm": MediaSpec(
        container="webm",
        video_codec="vp9",
        audio=(AudioSpec(codec="opus", language="ita", default=True),),
        subtitles=(SubtitleSpec(codec="webvtt", language="por", language_ietf="pt-BR"),),
    ),
}


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def ffmpeg(tools: ToolPaths, *argv: str) -> None:
    run(tools.require("ffmpeg"), "-nostdin", "-v", "error", "-y", *argv)


def lavfi_inputs() -> tuple[str, ...]:
    return (
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2",
        "-f", "lavfi", "-i", "sine=duration=2",
        "-f", "lavfi", "-i", "sine=duration=2:frequency=600",
    )  # fmt: skip


def make_ffmpeg_file(tools: ToolPaths, directory: Path) -> Path:
    """ffmpeg's own muxer: Tags before the Clusters, Cues at the end, dispositions as flags."""
    subtitles = directory / "cues.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nBonjour\n", encoding="utf-8")
    metadata = directory / "chapters.txt"
    metadata.write_text(
        ";FFMETADATA1\ntitle=Mon film\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Un\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Deux\n",
        encoding="utf-8",
    )
    output = directory / "from ffmpeg.mkv"
    ffmpeg(
        tools, *lavfi_inputs(), "-i", str(subtitles), "-i", str(metadata),
        "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map_metadata", "4",
        "-map_chapters", "4",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt",
        "-metadata:s:a:0", "language=fre", "-metadata:s:a:1", "language=ger",
        "-metadata:s:a:1", "title=Director's commentary", "-metadata:s:s:0", "language=spa",
        "-disposition:a:0", "default", "-disposition:a:1", "comment",
        "-disposition:s:0", "forced+hearing_impaired",
        str(output),
    )  # fmt: skip
    return output


def make_live_file(tools: ToolPaths, directory: Path) -> Path:
    """Written to a pipe: an unknown-size Segment and no Duration, as live streams have."""
    output = directory / "live.mkv"
    with output.open("wb") as sink:
        subprocess.run(
            [
                tools.require("ffmpeg"), "-nostdin", "-v", "error", *lavfi_inputs()[:8],
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                "-f", "matroska", "pipe:1",
            ],
            check=True,
            stdout=sink,
        )  # fmt: skip
    return output


def make_mkvmerge_file(tools: ToolPaths, directory: Path, source: Path) -> Path:
    """mkvmerge: two chapter editions with nested atoms, an attachment, IETF tags, every flag."""
    chapters = directory / "chapters.xml"
    atom = "<ChapterAtom><ChapterTimeStart>{}</ChapterTimeStart>{}</ChapterAtom>"
    chapters.write_text(
        "<?xml version='1.0'?><Chapters>"
        f"<EditionEntry>{atom.format('00:00:00.000', atom.format('00:00:00.500', ''))}"
        f"{atom.format('00:00:01.000', '')}</EditionEntry>"
        f"<EditionEntry>{atom.format('00:00:00.000', '') * 3}</EditionEntry></Chapters>",
        encoding="utf-8",
    )
    font = directory / "font file.ttf"
    font.write_bytes(b"\x00\x01\x00\x00" + b"font" * 500)
    output = directory / "from mkvmerge.mkv"
    run(
        tools.require("mkvmerge"), "-q", "-o", str(output), "--title", "Título ✓",
        "--chapters", str(chapters), "--attachment-description", "the font",
        "--attachment-mime-type", "font/ttf", "--attach-file", str(font),
        "--language", "1:fr-CA", "--track-name", "1:Québécois", "--forced-display-flag", "1:1",
        "--original-flag", "1:1", "--visual-impaired-flag", "1:1",
        "--language", "2:en", "--hearing-impaired-flag", "2:1", "--commentary-flag", "2:1",
        "--default-track-flag", "2:0", "--default-track-flag", "0:1", "--no-chapters",
        str(source),
    )  # fmt: skip
    return output


def make_edited_file(tools: ToolPaths, directory: Path, source: Path) -> Path:
    """mkvpropedit edits that cannot fit in place, so Tracks moves and the SeekHead changes."""
    output = directory / "edited.mkv"
    output.write_bytes(source.read_bytes())
    run(
        tools.require("mkvpropedit"), "-q", str(output),
        "--edit", "info", "--delete", "title",
        "--edit", "track:a1", "--set", "language-ietf=pt-BR", "--set", "flag-default=0",
        "--set", "name=" + "A much longer track name " * 400,
        "--edit", "track:a2", "--set", "language=jpn", "--delete", "flag-commentary",
        "--edit", "track:s1", "--set", "flag-default=1", "--set", "flag-forced=0",
        "--add-attachment", str(directory / "chapters.xml"),
    )  # fmt: skip
    return output


@pytest.fixture(scope="module")
def handmade(tools: ToolPaths, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("handmade")
    from_ffmpeg = make_ffmpeg_file(tools, directory)
    from_mkvmerge = make_mkvmerge_file(tools, directory, from_ffmpeg)
    return {
        "ffmpeg": from_ffmpeg,
        "live": make_live_file(tools, directory),
        "mkvmerge": from_mkvmerge,
        "mkvpropedit": make_edited_file(tools, directory, from_mkvmerge),
    }


def differences(ours: MediaFile, theirs: MediaFile) -> list[str]:
    """Field-by-field differences, tracks compared one by one, for a readable failure."""
    lines = []
    for field in dataclasses.fields(MediaFile):
        if field.name == "tracks":
            continue
        mine, reference = getattr(ours, field.name), getattr(theirs, field.name)
        if mine != reference:
            lines.append(f"{field.name}: headers={mine!r} mkvmerge={reference!r}")
    if len(ours.tracks) != len(theirs.tracks):
        lines.append(f"track count: headers={len(ours.tracks)} mkvmerge={len(theirs.tracks)}")
    for mine_track, their_track in zip(ours.tracks, theirs.tracks, strict=False):
        for field in dataclasses.fields(mine_track):
            mine, reference = getattr(mine_track, field.name), getattr(their_track, field.name)
            if mine != reference:
                lines.append(
                    f"track {their_track.track_id} {field.name}: headers={mine!r} "
                    f"mkvmerge={reference!r}"
                )
    return lines


def assert_same_as_mkvmerge(path: Path, tools: ToolPaths) -> MediaFile:
    ours = probe_matroska_headers(path)
    theirs = probe_file(path, tools)
    assert differences(ours, theirs) == []
    assert ours == theirs
    return ours


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_media_matches_mkvmerge(
    name: str, media_factory: MediaFactory, tools: ToolPaths
) -> None:
    spec = SPECS[name]
    media = assert_same_as_mkvmerge(media_factory(spec), tools)
    assert len(media.tracks) == 1 + len(spec.audio) + len(spec.subtitles)


@pytest.mark.parametrize("name", ["ffmpeg", "live", "mkvmerge", "mkvpropedit"])
def test_handmade_media_matches_mkvmerge(
    name: str, handmade: dict[str, Path], tools: ToolPaths
) -> None:
    assert_same_as_mkvmerge(handmade[name], tools)


def test_handmade_files_cover_what_they_claim(handmade: dict[str, Path]) -> None:
    """The comparison above is only worth something if the files hold these cases."""
    from_mkvmerge = probe_matroska_headers(handmade["mkvmerge"])
    assert from_mkvmerge.chapter_count == 5  # 2 + 3 top-level atoms; the nested one not counted
    assert [a.file_name for a in from_mkvmerge.attachments] == ["font file.ttf"]
    audio = from_mkvmerge.audio_tracks
    assert (audio[0].language, audio[0].language_ietf, audio[0].title) == (
        "fre",
        "fr-CA",
        "Québécois",
    )
    assert audio[0].flags.forced and audio[0].flags.original and audio[0].flags.visual_impaired
    assert audio[1].flags.commentary and audio[1].flags.hearing_impaired
    assert all(t.bit_rate for t in from_mkvmerge.tracks)  # mkvmerge's statistics tags
    edited = probe_matroska_headers(handmade["mkvpropedit"])
    assert (edited.audio_tracks[0].language, edited.audio_tracks[0].language_ietf) == (
        "por",
        "pt-BR",
    )
    assert edited.title is None
    assert len(edited.attachments) == 2
    layout = read_segment_layout(handmade["mkvpropedit"])
    tracks = layout.named("Tracks")[0]
    assert tracks.offset > layout.named("Cluster")[0].offset  # moved behind the Clusters
    live = read_segment_layout(handmade["live"])
    assert live.declared_size is None
    assert probe_matroska_headers(handmade["live"]).duration is None


_MKVINFO_NAMES = {
    "Seek head": "SeekHead",
    "EBML void": "Void",
    "Segment information": "Info",
    "Tracks": "Tracks",
    "Attachments": "Attachments",
    "Chapters": "Chapters",
    "Cluster": "Cluster",
    "Cues": "Cues",
    "Tags": "Tags",
}
_MKVINFO_TOP_LEVEL = re.compile(
    r"^\|\+ (?P<name>[A-Za-z -]+?)(?::.*)? at (?P<at>\d+)"
    r" size (?P<size>\d+) data size (?P<data>\d+)$"
)


def mkvinfo_layout(path: Path, tools: ToolPaths) -> list[tuple[str, int, int, int]]:
    """(name, offset, total size, data size) of each Segment child, as mkvinfo reports them."""
    mkvinfo = str(Path(tools.require("mkvmerge")).with_name("mkvinfo"))
    found = []
    output = run(mkvinfo, "--all", "--positions", "--size", str(path))
    in_segment = False
    for line in output.splitlines():
        in_segment = in_segment or line.startswith("+ Segment")
        match = _MKVINFO_TOP_LEVEL.match(line)
        if in_segment and match:
            name = _MKVINFO_NAMES[match["name"]]
            found.append((name, int(match["at"]), int(match["size"]), int(match["data"])))
    return found


def our_layout(layout: SegmentLayout) -> list[tuple[str, int, int, int]]:
    return [
        (e.name, e.offset, e.header_size + (e.data_size or 0), e.data_size or 0)
        for e in layout.elements
    ]


@pytest.mark.parametrize("name", ["ffmpeg", "mkvmerge", "mkvpropedit"])
def test_layout_matches_mkvinfo(name: str, handmade: dict[str, Path], tools: ToolPaths) -> None:
    path = handmade[name]
    layout = read_segment_layout(path)
    assert our_layout(layout) == mkvinfo_layout(path, tools)
    assert layout.segment_end == layout.file_size
    assert layout.is_complete and not layout.is_truncated
    assert layout.doctype == "matroska"


def test_webm_doctype(media_factory: MediaFactory) -> None:
    assert read_segment_layout(media_factory(SPECS["webm"])).doctype == "webm"


@pytest.mark.parametrize("keep", [0.999, 0.9, 0.5, 0.05])
def test_truncated_file_that_mkvmerge_accepts(
    keep: float, handmade: dict[str, Path], tools: ToolPaths, tmp_path: Path
) -> None:
    """The reason this module exists: mkvmerge says all is well, the headers say otherwise."""
    whole = handmade["mkvmerge"].read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole[: int(len(whole) * keep)])
    identified = subprocess.run(
        [tools.require("mkvmerge"), "-J", str(cut)], capture_output=True, check=False
    )
    layout = read_segment_layout(handmade["mkvmerge"])
    if int(len(whole) * keep) > layout.named("Tracks")[0].data_offset + 200:
        assert identified.returncode == 0  # mkvmerge does not notice
    with pytest.raises(
        TruncatedFileError, match=r"segment declares \d+ bytes but the file ends after"
    ):
        probe_matroska_headers(cut)
    with pytest.raises(TruncatedFileError, match="truncated Matroska file"):
        read_segment_layout(cut)


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        (BrokenKind.ZERO_BYTES, EmptyFileError, "empty file (0 bytes)"),
        (BrokenKind.RANDOM_BYTES, NotMediaError, "not a media file or corrupt"),
        (BrokenKind.TEXT_AS_MKV, NotMediaError, "not a media file or corrupt: no EBML header"),
        (BrokenKind.TRUNCATED_MKV, TruncatedFileError, "truncated Matroska file: segment declares"),
    ],
)
def test_broken_files(
    kind: BrokenKind, error: type[ProbeError], message: str, broken_factory: BrokenFactory
) -> None:
    path = broken_factory(kind, "broken 'name'.mkv")
    for reader in (probe_matroska_headers, read_segment_layout):
        with pytest.raises(error) as raised:
            reader(path)
        assert str(raised.value).startswith(f"{path}: {message}")


def test_avi_remuxed_by_mkvmerge_names_codecs_from_codec_private(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    """mkvmerge keeps V_MS/VFW/FOURCC and A_MS/ACM ids for AVI sources; the codec is in
    CodecPrivate, and both probes must read it there."""
    spec = MediaSpec(
        container="avi", video_codec="mpeg4", audio=(AudioSpec(codec="mp3", language=None),)
    )
    source = media_factory(spec, "source.avi")
    remuxed = tmp_path / "from avi.mkv"
    run(tools.require("mkvmerge"), "-q", "-o", str(remuxed), str(source))
    media = assert_same_as_mkvmerge(remuxed, tools)
    assert not any(track.codec.startswith(("v_ms", "a_ms")) for track in media.tracks)
