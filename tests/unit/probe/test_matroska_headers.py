"""Segment layout and header probe on synthetic Matroska files built byte by byte.

The builder below writes exactly the cases real muxers produce rarely or never
on demand: unknown sizes, CRC-32 and Void elements, stale or chained SeekHeads,
Tracks after the Clusters, absent elements whose spec defaults apply.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpo.media.model import Container, TrackType
from vpo.probe import matroska_ids as ids
from vpo.probe.ebml import encode_element_id, encode_element_size
from vpo.probe.errors import (
    EmptyFileError,
    FileNotFoundProbeError,
    NotAFileError,
    NotMediaError,
    ProbeError,
    TruncatedFileError,
    UnreadableFileError,
)
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.matroska_layout import read_segment_layout

# --- a tiny Matroska writer -----------------------------------------------------------------


def el(element_id: int, *children: bytes, size_width: int | None = None) -> bytes:
    body = b"".join(children)
    return encode_element_id(element_id) + encode_element_size(len(body), size_width) + body


def unknown_size(element_id: int, *children: bytes) -> bytes:
    return encode_element_id(element_id) + encode_element_size(None, 8) + b"".join(children)


def uint(element_id: int, value: int) -> bytes:
    return el(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def text(element_id: int, value: str) -> bytes:
    return el(element_id, value.encode())


def double(element_id: int, value: float) -> bytes:
    return el(element_id, struct.pack(">d", value))


def ebml_header(doctype: str = "matroska") -> bytes:
    return el(ids.EBML, uint(0x4286, 1), uint(0x42F7, 1), text(ids.DOC_TYPE, doctype))


def segment(*children: bytes, size: int | None = -1) -> bytes:
    body = b"".join(children)
    declared = len(body) if size == -1 else size
    return encode_element_id(ids.SEGMENT) + encode_element_size(declared, 8) + body


def void(size: int) -> bytes:
    return el(ids.VOID, b"\x00" * size)


def cluster(payload: int = 64) -> bytes:
    return el(ids.CLUSTER, uint(0xE7, 0), el(0xA3, b"\x81\x00\x00\x80" + b"\x00" * payload))


def info(
    duration: float | None = 2000.0, title: str | None = None, scale: int | None = None
) -> bytes:
    parts = [uint(ids.TIMESTAMP_SCALE, scale)] if scale is not None else []
    if duration is not None:
        parts.append(double(ids.DURATION, duration))
    if title is not None:
        parts.append(text(ids.TITLE, title))
    return el(ids.INFO, *parts)


def video_entry(number: int = 1, uid: int = 1001) -> bytes:
    return el(
        ids.TRACK_ENTRY,
        uint(ids.TRACK_NUMBER, number),
        uint(ids.TRACK_UID, uid),
        uint(ids.TRACK_TYPE, 1),
        text(ids.CODEC_ID, "V_MPEG4/ISO/AVC"),
        uint(ids.DEFAULT_DURATION, 40_000_000),
        el(ids.VIDEO, uint(ids.PIXEL_WIDTH, 64), uint(ids.PIXEL_HEIGHT, 48)),
    )


def audio_entry(
    number: int = 2, uid: int = 2002, *extra: bytes, audio: bytes | None = None
) -> bytes:
    audio_master = (
        audio if audio is not None else el(ids.AUDIO, double(ids.SAMPLING_FREQUENCY, 48000.0))
    )
    return el(
        ids.TRACK_ENTRY,
        uint(ids.TRACK_NUMBER, number),
        uint(ids.TRACK_UID, uid),
        uint(ids.TRACK_TYPE, 2),
        text(ids.CODEC_ID, "A_AC3"),
        audio_master,
        *extra,
    )


def tracks(*entries: bytes) -> bytes:
    return el(ids.TRACKS, *(entries or (video_entry(), audio_entry())))


_SEEK_ENTRY_SIZE = 21  # Seek(2+1) + SeekID(2+1+4) + SeekPosition(2+1+8)


def seek_head_size(count: int) -> int:
    return 12 + _SEEK_ENTRY_SIZE * count


def padded_seek_head(targets: list[tuple[int, int]], count: int) -> bytes:
    """A SeekHead of planned length: (element ID, position in the Segment data) entries."""
    body = b"".join(
        el(
            ids.SEEK,
            el(ids.SEEK_ID, encode_element_id(target)),
            el(ids.SEEK_POSITION, position.to_bytes(8, "big")),
        )
        for target, position in targets
    )
    assert len(targets) == count and len(body) == _SEEK_ENTRY_SIZE * count
    return encode_element_id(ids.SEEK_HEAD) + encode_element_size(len(body), 8) + body


def write(tmp_path: Path, data: bytes, name: str = "movie.mkv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def minimal(*children: bytes, doctype: str = "matroska") -> bytes:
    return ebml_header(doctype) + segment(*(children or (info(), tracks(), cluster())))


# --- the layout ------------------------------------------------------------------------------


def test_layout_lists_every_top_level_element(tmp_path: Path) -> None:
    children = [void(10), info(), tracks(), el(ids.CRC32, b"\x00" * 4), cluster(), cluster(300)]
    data = minimal(*children)
    layout = read_segment_layout(write(tmp_path, data))
    header_size = len(ebml_header())
    assert layout.segment_offset == header_size
    assert layout.data_offset == header_size + 12
    assert layout.declared_size == sum(map(len, children))
    assert layout.file_size == len(data)
    assert [e.name for e in layout.elements] == [
        "Void",
        "Info",
        "Tracks",
        "CRC-32",
        "Cluster",
        "Cluster",
    ]
    offsets = [layout.data_offset]
    for child in children[:-1]:
        offsets.append(offsets[-1] + len(child))
    assert [e.offset for e in layout.elements] == offsets
    assert [e.end for e in layout.elements] == [*offsets[1:], len(data)]
    assert not layout.is_truncated
    assert layout.is_complete
    assert layout.doctype == "matroska"
    assert len(layout.named("Cluster")) == 2
    assert [e.name for e in layout.non_cluster_elements] == ["Void", "Info", "Tracks", "CRC-32"]


top_level_kinds = st.sampled_from(["void", "info", "tracks", "cluster", "tags", "cues", "crc"])


def build_child(kind: str, size: int) -> bytes:
    builders = {
        "void": lambda: void(size),
        "info": lambda: info(duration=float(size)),
        "tracks": lambda: tracks(),
        "cluster": lambda: cluster(size),
        "tags": lambda: el(ids.TAGS, b"\x00" * 0),
        "cues": lambda: el(ids.CUES, b"\x00" * size),
        "crc": lambda: el(ids.CRC32, b"\x00" * 4),
    }
    return builders[kind]()


_NAMES = {
    "void": "Void",
    "info": "Info",
    "tracks": "Tracks",
    "cluster": "Cluster",
    "tags": "Tags",
    "cues": "Cues",
    "crc": "CRC-32",
}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    st.lists(st.tuples(top_level_kinds, st.integers(min_value=0, max_value=20_000)), max_size=10)
)
def test_layout_round_trip(tmp_path: Path, plan: list[tuple[str, int]]) -> None:
    children = [build_child(kind, size) for kind, size in plan]
    data = ebml_header() + segment(*children)
    layout = read_segment_layout(write(tmp_path, data))
    assert [e.name for e in layout.elements] == [_NAMES[kind] for kind, _ in plan]
    assert [e.header_size + (e.data_size or 0) for e in layout.elements] == [
        len(c) for c in children
    ]
    assert layout.segment_end == len(data)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=80)
@given(st.data())
def test_every_cut_of_a_file_is_reported_truncated(tmp_path: Path, data: st.DataObject) -> None:
    whole = minimal(void(5), info(), tracks(), cluster(500), el(ids.CUES, b"\x00" * 20))
    cut = data.draw(st.integers(min_value=1, max_value=len(whole) - 1))
    path = write(tmp_path, whole[:cut])
    with pytest.raises(TruncatedFileError, match="truncated Matroska file"):
        read_segment_layout(path)
    with pytest.raises(TruncatedFileError):
        probe_matroska_headers(path)


def test_truncation_message_names_both_sizes(tmp_path: Path) -> None:
    whole = minimal(info(), tracks(), cluster(1000))
    path = write(tmp_path, whole[:-400])
    layout_offset = len(ebml_header()) + 12
    declared = len(whole) - layout_offset
    with pytest.raises(TruncatedFileError) as raised:
        read_segment_layout(path)
    assert str(raised.value) == (
        f"{path}: truncated Matroska file: segment declares {declared} bytes "
        f"but the file ends after {declared - 400}"
    )


def test_truncated_layout_on_request(tmp_path: Path) -> None:
    whole = minimal(info(), tracks(), cluster(1000), cluster(1000))
    layout = read_segment_layout(write(tmp_path, whole[:-500]), allow_truncated=True)
    assert layout.is_truncated
    assert [e.name for e in layout.elements] == ["Info", "Tracks", "Cluster", "Cluster"]
    last = layout.elements[-1]
    assert last.end is not None and last.end > layout.file_size


def test_unknown_size_segment_and_cluster_stop_the_scan(tmp_path: Path) -> None:
    live = unknown_size(ids.CLUSTER, uint(0xE7, 0), el(0xA3, b"\x81\x00\x00\x80" + b"\x00" * 100))
    data = ebml_header("webm") + segment(info(), tracks(), cluster(), live, size=None)
    layout = read_segment_layout(write(tmp_path, data))
    assert layout.declared_size is None
    assert not layout.is_truncated
    assert [e.name for e in layout.elements] == ["Info", "Tracks", "Cluster", "Cluster"]
    assert layout.elements[-1].data_size is None
    assert layout.stopped_at == layout.elements[-1].offset
    assert not layout.is_complete
    media = probe_matroska_headers(write(tmp_path, data))
    assert media.container is Container.WEBM
    assert len(media.tracks) == 2


def test_live_recording_cut_inside_a_cluster(tmp_path: Path) -> None:
    """No Segment size to compare with: the cut shows as a Cluster overrunning the file."""
    data = ebml_header() + segment(info(), tracks(), cluster(), cluster(500), size=None)
    path = write(tmp_path, data[:-100])
    with pytest.raises(TruncatedFileError, match=r"Cluster at byte \d+ declares \d+ bytes"):
        read_segment_layout(path)
    assert len(probe_matroska_headers(path).tracks) == 2  # stops at the first Cluster
    layout = read_segment_layout(path, allow_truncated=True)
    assert [e.name for e in layout.elements] == ["Info", "Tracks", "Cluster", "Cluster"]


def test_unknown_size_segment_ends_at_the_next_segment(tmp_path: Path) -> None:
    data = ebml_header() + segment(info(), tracks(), size=None) + ebml_header() + segment(info())
    layout = read_segment_layout(write(tmp_path, data))
    assert [e.name for e in layout.elements] == ["Info", "Tracks"]
    assert layout.is_complete


def test_zero_filled_tail_is_corrupt(tmp_path: Path) -> None:
    """A preallocated download of the right size whose end was never written."""
    good = minimal(info(), tracks(), cluster(100))
    data = good[: len(good) - 80] + b"\x00" * 80
    # the Cluster's size stays, so the zeros are inside it: same size, no error from sizes
    assert read_segment_layout(write(tmp_path, data)).file_size == len(good)
    zeros_between = ebml_header() + segment(info(), tracks(), b"\x00" * 50, cluster())
    with pytest.raises(NotMediaError, match="corrupt Matroska data at byte"):
        read_segment_layout(write(tmp_path, zeros_between, "zeros.mkv"))


def test_element_overrunning_the_segment_is_corrupt(tmp_path: Path) -> None:
    children = info() + tracks()
    data = ebml_header() + segment(children, size=len(children) - 5) + b"\x00" * 10
    with pytest.raises(NotMediaError, match=r"Tracks at byte \d+ overruns the end of the Segment"):
        read_segment_layout(write(tmp_path, data))


# --- what is not Matroska ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"This is plain text, not a video.\n", "no EBML header"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "no EBML header"),
        (bytes(range(1, 200)), "no EBML header"),
        (
            el(ids.EBML, text(ids.DOC_TYPE, "notmatroska")) + segment(info()),
            "document type 'notmatroska'",
        ),
        (ebml_header() + el(ids.INFO), "no Matroska Segment after the EBML header"),
    ],
)
def test_not_matroska(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content)
    for reader in (read_segment_layout, probe_matroska_headers):
        with pytest.raises(NotMediaError, match=message) as raised:
            reader(path)
        assert str(raised.value).startswith(f"{path}: not a media file or corrupt")


def test_absent_doctype_means_matroska(tmp_path: Path) -> None:
    data = el(ids.EBML, uint(0x4286, 1)) + segment(info(), tracks())
    assert read_segment_layout(write(tmp_path, data)).doctype == "matroska"


def test_void_between_header_and_segment_is_allowed(tmp_path: Path) -> None:
    data = ebml_header() + void(3) + segment(info(), tracks())
    assert read_segment_layout(write(tmp_path, data)).segment_offset == len(ebml_header()) + 5


def test_file_ending_after_the_ebml_header(tmp_path: Path) -> None:
    with pytest.raises(TruncatedFileError, match="ends before the Segment starts"):
        read_segment_layout(write(tmp_path, ebml_header()))


def test_file_system_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundProbeError, match="file not found"):
        read_segment_layout(tmp_path / "missing.mkv")
    with pytest.raises(NotAFileError, match="directory"):
        probe_matroska_headers(tmp_path)
    with pytest.raises(EmptyFileError, match=r"empty file \(0 bytes\)"):
        probe_matroska_headers(write(tmp_path, b""))
    loop = tmp_path / "loop.mkv"
    loop.symlink_to(tmp_path / "loop2.mkv")
    (tmp_path / "loop2.mkv").symlink_to(loop)
    with pytest.raises(ProbeError, match="symbolic links") as raised:
        read_segment_layout(loop)
    assert str(raised.value).startswith(f"{loop}: cannot be probed: ")


@pytest.mark.parametrize(
    "name", ["with space.mkv", "quote'\"s.mkv", "new\nline.mkv", "ünïcødé 映画.mkv", "-dash.mkv"]
)
def test_odd_names(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, minimal(), name)
    assert probe_matroska_headers(path).path == path
    broken = write(tmp_path, minimal()[:-10], "cut " + name)
    with pytest.raises(TruncatedFileError) as raised:
        probe_matroska_headers(broken)
    assert str(raised.value).startswith(f"{broken}: truncated Matroska file")


# --- the probe ------------------------------------------------------------------------------


def test_spec_defaults_apply_to_absent_elements(tmp_path: Path) -> None:
    media = probe_matroska_headers(write(tmp_path, minimal()))
    video, audio = media.tracks
    assert video.type is TrackType.VIDEO
    assert (video.codec, video.width, video.height, video.frame_rate) == ("h264", 64, 48, 25.0)
    assert video.flags.default  # FlagDefault absent = 1
    assert not video.flags.forced
    assert video.language == "eng"  # Language absent = eng
    assert video.language_ietf is None
    assert (audio.codec, audio.channels, audio.sample_rate) == ("ac3", 1, 48000)
    assert (audio.index, audio.track_id, audio.uid) == (1, 1, 2002)
    assert media.duration == 2.0  # 2000 × the default 1 ms scale
    assert media.container is Container.MATROSKA
    assert media.chapter_count == 0
    assert media.attachments == ()


def test_every_track_field(tmp_path: Path) -> None:
    entry = audio_entry(
        2,
        77,
        uint(ids.FLAG_DEFAULT, 0),
        uint(ids.FLAG_FORCED, 1),
        uint(ids.FLAG_HEARING_IMPAIRED, 1),
        uint(ids.FLAG_VISUAL_IMPAIRED, 1),
        uint(ids.FLAG_COMMENTARY, 1),
        uint(ids.FLAG_ORIGINAL, 1),
        text(ids.NAME, "Director’s commentary"),
        text(ids.LANGUAGE, "fre"),
        text(ids.LANGUAGE_BCP47, "fr-CA"),
        audio=el(ids.AUDIO, double(ids.SAMPLING_FREQUENCY, 44100.0), uint(ids.CHANNELS, 6)),
    )
    media = probe_matroska_headers(write(tmp_path, minimal(info(), tracks(video_entry(), entry))))
    audio = media.tracks[1]
    assert audio.flags.__class__(False, True, True, True, True, True) == audio.flags
    assert audio.title == "Director’s commentary"
    assert (audio.language, audio.language_ietf) == ("fre", "fr-CA")
    assert (audio.channels, audio.sample_rate) == (6, 44100)


def test_bcp47_wins_over_the_legacy_language(tmp_path: Path) -> None:
    entry = audio_entry(2, 5, text(ids.LANGUAGE, "ger"), text(ids.LANGUAGE_BCP47, "pt-BR"))
    media = probe_matroska_headers(write(tmp_path, minimal(info(), tracks(entry))))
    assert (media.tracks[0].language, media.tracks[0].language_ietf) == ("por", "pt-BR")


def test_garbage_language_becomes_und(tmp_path: Path) -> None:
    entry = audio_entry(2, 5, text(ids.LANGUAGE, "zz9"))
    media = probe_matroska_headers(write(tmp_path, minimal(info(), tracks(entry))))
    assert media.tracks[0].language == "und"


def test_pcm_codec_uses_the_bit_depth(tmp_path: Path) -> None:
    entry = el(
        ids.TRACK_ENTRY,
        uint(ids.TRACK_NUMBER, 1),
        uint(ids.TRACK_TYPE, 2),
        text(ids.CODEC_ID, "A_PCM/INT/LIT"),
        el(ids.AUDIO, uint(ids.BIT_DEPTH, 24)),
    )
    media = probe_matroska_headers(write(tmp_path, minimal(info(), tracks(entry))))
    assert media.tracks[0].codec == "pcm_s24le"
    assert media.tracks[0].sample_rate == 8000  # SamplingFrequency absent = 8000


def test_other_track_types_keep_their_number(tmp_path: Path) -> None:
    buttons = el(
        ids.TRACK_ENTRY,
        uint(ids.TRACK_NUMBER, 2),
        uint(ids.TRACK_TYPE, 18),
        text(ids.CODEC_ID, "B_VOBBTN"),
    )
    subtitle = el(
        ids.TRACK_ENTRY,
        uint(ids.TRACK_NUMBER, 3),
        uint(ids.TRACK_TYPE, 17),
        text(ids.CODEC_ID, "S_TEXT/ASS"),
        el(0xBF, b"\x00" * 4),  # a CRC-32 inside a TrackEntry is skipped
    )
    media = probe_matroska_headers(
        write(tmp_path, minimal(info(), tracks(video_entry(), buttons, subtitle)))
    )
    assert [(t.track_id, t.type, t.codec) for t in media.tracks] == [
        (0, TrackType.VIDEO, "h264"),
        (2, TrackType.SUBTITLE, "ass"),
    ]


def test_info_fields(tmp_path: Path) -> None:
    data = minimal(info(duration=1234.5678912, title="Le Film", scale=1_000_000), tracks())
    media = probe_matroska_headers(write(tmp_path, data))
    assert media.title == "Le Film"
    assert media.duration == 1.234567891  # whole nanoseconds, as mkvmerge reports them
    no_duration = probe_matroska_headers(
        write(tmp_path, minimal(info(duration=None), tracks()), "b.mkv")
    )
    assert no_duration.duration is None


def test_chapters_count_top_level_atoms_of_every_edition(tmp_path: Path) -> None:
    atom = el(ids.CHAPTER_ATOM, uint(0x73C4, 1), uint(0x91, 0))
    nested = el(ids.CHAPTER_ATOM, uint(0x91, 0), atom)
    chapters = el(
        ids.CHAPTERS, el(ids.EDITION_ENTRY, nested, atom), el(ids.EDITION_ENTRY, atom, atom, atom)
    )
    media = probe_matroska_headers(write(tmp_path, minimal(info(), tracks(), chapters, cluster())))
    assert media.chapter_count == 5


def test_attachments_are_measured_not_read(tmp_path: Path) -> None:
    font = el(
        ids.ATTACHED_FILE,
        text(ids.FILE_DESCRIPTION, "a font"),
        text(ids.FILE_NAME, "DejaVu Sans.ttf"),
        text(ids.FILE_MEDIA_TYPE, "font/ttf"),
        el(ids.FILE_DATA, b"\x01" * 300_000),
        uint(ids.FILE_UID, 99),
    )
    cover = el(ids.ATTACHED_FILE, text(ids.FILE_NAME, "cover.jpg"), el(ids.FILE_DATA, b"\xff\xd8"))
    data = minimal(info(), tracks(), el(ids.ATTACHMENTS, font, cover), cluster())
    media = probe_matroska_headers(write(tmp_path, data))
    assert [
        (a.attachment_id, a.file_name, a.mime_type, a.size, a.description)
        for a in media.attachments
    ] == [
        (1, "DejaVu Sans.ttf", "font/ttf", 300_000, "a font"),
        (2, "cover.jpg", None, 2, None),
    ]


def statistics_tags(*per_track: tuple[int, str]) -> bytes:
    return el(
        ids.TAGS,
        *(
            el(
                ids.TAG,
                el(ids.TARGETS, uint(0x68CA, 50), uint(ids.TAG_TRACK_UID, uid)),
                el(
                    ids.SIMPLE_TAG,
                    text(ids.TAG_NAME, "DURATION"),
                    text(ids.TAG_STRING, "00:00:02.0"),
                ),
                el(ids.SIMPLE_TAG, text(ids.TAG_NAME, "BPS"), text(ids.TAG_STRING, bps)),
            )
            for uid, bps in per_track
        ),
    )


def with_trailing_elements(
    trailing: list[bytes], *, stale: bool = False, track_list: bytes | None = None
) -> bytes:
    """SeekHead, Info, Tracks, Cluster, then ``trailing`` elements reached through the SeekHead."""
    count = len(trailing)
    head = [info(), track_list or tracks()]
    body_before = seek_head_size(count) + sum(map(len, head)) + len(cluster(5000))
    targets = []
    position = body_before
    for element in trailing:
        element_id = int.from_bytes(element[:4], "big")
        targets.append((element_id, position + (7 if stale else 0)))
        position += len(element)
    return ebml_header() + segment(
        padded_seek_head(targets, count), *head, cluster(5000), *trailing
    )


def test_tags_at_the_end_are_reached_through_the_seek_head(tmp_path: Path) -> None:
    data = with_trailing_elements([statistics_tags((1001, "1500000"), (2002, "448000"))])
    media = probe_matroska_headers(write(tmp_path, data))
    assert [t.bit_rate for t in media.tracks] == [1_500_000, 448_000]


def test_stale_seek_head_entries_are_ignored(tmp_path: Path) -> None:
    data = with_trailing_elements([statistics_tags((1001, "1500000"))], stale=True)
    media = probe_matroska_headers(write(tmp_path, data))
    assert [t.bit_rate for t in media.tracks] == [None, None]


def test_second_seek_head_at_the_end_is_followed(tmp_path: Path) -> None:
    chapters = el(ids.CHAPTERS, el(ids.EDITION_ENTRY, el(ids.CHAPTER_ATOM, uint(0x91, 0))))
    first_part = [info(), tracks(), cluster(3000)]
    before = seek_head_size(1) + sum(map(len, first_part))
    second = padded_seek_head([(ids.CHAPTERS, before + seek_head_size(1))], 1)
    first = padded_seek_head([(ids.SEEK_HEAD, before)], 1)
    data = ebml_header() + segment(first, *first_part, second, chapters)
    media = probe_matroska_headers(write(tmp_path, data))
    assert media.chapter_count == 1
    assert [e.name for e in read_segment_layout(write(tmp_path, data)).elements].count(
        "SeekHead"
    ) == 2


def test_tracks_after_the_clusters_without_seek_head_are_still_found(tmp_path: Path) -> None:
    data = minimal(info(), cluster(), cluster(), tracks(video_entry()))
    media = probe_matroska_headers(write(tmp_path, data))
    assert [t.codec for t in media.tracks] == ["h264"]


def test_file_without_tracks_has_none(tmp_path: Path) -> None:
    media = probe_matroska_headers(write(tmp_path, minimal(info())))
    assert media.tracks == ()


def test_corrupt_tracks_body(tmp_path: Path) -> None:
    broken = el(ids.TRACKS, el(ids.TRACK_ENTRY, b"\x00\x00\x00"))
    with pytest.raises(NotMediaError, match="corrupt Matroska headers"):
        probe_matroska_headers(write(tmp_path, minimal(info(), broken)))


def test_stat_fields(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    media = probe_matroska_headers(path)
    stat = path.stat()
    assert (media.size, media.mtime_ns, media.inode, media.device) == (
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ino,
        stat.st_dev,
    )


def rich_file() -> bytes:
    """Every element kind the probe reads, so mutations can land in each of them."""
    font = el(
        ids.ATTACHED_FILE,
        text(ids.FILE_NAME, "f.ttf"),
        text(ids.FILE_MEDIA_TYPE, "font/ttf"),
        el(ids.FILE_DATA, b"\x01" * 40),
    )
    chapters = el(ids.CHAPTERS, el(ids.EDITION_ENTRY, el(ids.CHAPTER_ATOM, uint(0x91, 0))))
    entry = audio_entry(2, 2002, text(ids.LANGUAGE, "fre"), text(ids.NAME, "Audio"))
    return with_trailing_elements(
        [el(ids.ATTACHMENTS, font), chapters, statistics_tags((2002, "448000"))],
        track_list=tracks(video_entry(), entry),
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(st.data())
def test_corrupted_bytes_give_a_probe_error_or_a_result(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Whatever bytes get damaged, the answer is a MediaFile or one ProbeError: never a crash."""
    original = bytearray(rich_file())
    changes = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
            min_size=1,
            max_size=4,
        )
    )
    for position, value in changes:
        original[position] = value
    path = write(tmp_path, bytes(original))
    for reader in (probe_matroska_headers, read_segment_layout):
        try:
            reader(path)
        except ProbeError as error:
            assert str(error).startswith(f"{path}: ")
            assert "\n" not in str(error)


def test_rich_file_is_read_in_full(tmp_path: Path) -> None:
    media = probe_matroska_headers(write(tmp_path, rich_file()))
    assert [a.file_name for a in media.attachments] == ["f.ttf"]
    assert media.chapter_count == 1
    assert [(t.title, t.bit_rate) for t in media.tracks] == [(None, None), ("Audio", 448000)]


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads anything, so the refusal the OS gives other users is simulated."""
    path = write(tmp_path, minimal())

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(UnreadableFileError, match="permission denied"):
        probe_matroska_headers(path)


@pytest.mark.parametrize("duration", [5e306, float("inf"), float("nan"), -1.0])
def test_a_damaged_duration_is_unknown_not_a_crash(duration: float) -> None:
    """Found by the corrupted-bytes property: Duration × TimestampScale overflowed."""
    from vpo.probe.matroska_elements import SegmentInfo

    assert SegmentInfo(timestamp_scale=1_000_000, duration=duration).duration_seconds is None
    assert SegmentInfo(timestamp_scale=1_000_000, duration=2000.0).duration_seconds == 2.0
