"""MediaFile → rows → MediaFile gives back the same object, for any MediaFile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpo.library import rows
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType

_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
_opt_int = st.none() | st.integers(min_value=0, max_value=2**40)
_flags = st.builds(
    TrackFlags,
    default=st.booleans(),
    forced=st.booleans(),
    hearing_impaired=st.booleans(),
    visual_impaired=st.booleans(),
    commentary=st.booleans(),
    original=st.booleans(),
)


@st.composite
def tracks(draw: st.DrawFn) -> tuple[Track, ...]:
    count = draw(st.integers(min_value=0, max_value=5))
    return tuple(
        Track(
            index=i,
            track_id=draw(st.integers(min_value=0, max_value=100)),
            type=draw(st.sampled_from(TrackType)),
            codec=draw(st.sampled_from(["h264", "hevc", "aac", "ac3", "subrip", "ass"])),
            language=draw(st.sampled_from(["eng", "fre", "ger", "jpn", "und"])),
            language_ietf=draw(st.none() | st.sampled_from(["en-US", "fr-CA"])),
            title=draw(st.none() | _text),
            flags=draw(_flags),
            channels=draw(st.none() | st.integers(min_value=1, max_value=8)),
            channel_layout=draw(st.none() | st.sampled_from(["stereo", "5.1(side)"])),
            sample_rate=draw(_opt_int),
            width=draw(_opt_int),
            height=draw(_opt_int),
            frame_rate=draw(st.none() | st.floats(min_value=0, max_value=240, allow_nan=False)),
            bit_rate=draw(_opt_int),
            uid=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        )
        for i in range(count)
    )


@st.composite
def media_files(draw: st.DrawFn, path: Path | None = None) -> MediaFile:
    name = draw(st.text(alphabet="abc def-é\n'\"", min_size=1, max_size=10))
    attachments = draw(
        st.lists(
            st.builds(
                Attachment,
                attachment_id=st.integers(min_value=1, max_value=99),
                file_name=_text,
                mime_type=st.none() | st.just("font/ttf"),
                size=_opt_int,
                description=st.none() | _text,
            ),
            max_size=2,
        )
    )
    return MediaFile(
        path=path or Path("/media-library") / f"{name}.mkv",
        container=draw(st.sampled_from(Container)),
        size=draw(st.integers(min_value=0, max_value=2**50)),
        mtime_ns=draw(st.integers(min_value=0, max_value=2**62)),
        tracks=draw(tracks()),
        duration=draw(st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)),
        bit_rate=draw(_opt_int),
        attachments=tuple(attachments),
        chapter_count=draw(st.integers(min_value=0, max_value=50)),
        title=draw(st.none() | _text),
        inode=draw(st.integers(min_value=1, max_value=2**62)),
        device=draw(st.integers(min_value=1, max_value=2**62)),
        format_name=draw(st.none() | st.just("matroska,webm")),
    )


@given(media=media_files())
@settings(max_examples=200)
def test_media_round_trips_through_rows(media: MediaFile) -> None:
    restored = rows.media_from_rows(
        media.path,
        media.size,
        media.mtime_ns,
        media.inode,
        media.device,
        rows.media_to_row(media),
        [rows.track_to_row(t) for t in media.tracks],
        [rows.attachment_to_row(i, a) for i, a in enumerate(media.attachments)],
    )
    assert restored == media


@given(uid=st.integers(min_value=0, max_value=2**64 - 1))
def test_uids_fit_a_signed_sqlite_integer(uid: int) -> None:
    track = Track(index=0, track_id=0, type=TrackType.AUDIO, codec="aac", uid=uid)
    stored = rows.track_to_row(track)[-1]
    assert isinstance(stored, int)
    assert -(2**63) <= stored < 2**63
    assert rows.track_from_row(rows.track_to_row(track)).uid == uid


@pytest.mark.parametrize(
    "raw",
    [
        b"/media-lib/plain.mkv",
        b"/media-lib/\xff\xfe-not-utf8.mkv",
        "/media-lib/映画 'x'\n.mkv".encode(),
    ],
)
def test_paths_round_trip_as_bytes(raw: bytes) -> None:
    path = Path(os.fsdecode(raw))
    assert rows.path_to_db(path) == raw
    assert rows.path_from_db(raw) == path


def test_track_summary_marks_default_and_forced() -> None:
    media = MediaFile(
        path=Path("/x.mkv"),
        container=Container.MATROSKA,
        size=1,
        mtime_ns=1,
        tracks=(
            Track(index=0, track_id=0, type=TrackType.VIDEO, codec="h264"),
            Track(
                index=1,
                track_id=1,
                type=TrackType.AUDIO,
                codec="aac",
                language="jpn",
                flags=TrackFlags(default=True),
            ),
            Track(
                index=2,
                track_id=2,
                type=TrackType.SUBTITLE,
                codec="subrip",
                language="eng",
                flags=TrackFlags(forced=True),
            ),
        ),
    )
    assert rows.track_summary(media) == "v:h264 a:aac/jpn* s:subrip/eng!"


@pytest.mark.parametrize(
    ("recorded", "format_name", "container"),
    [
        ("other", "mov", Container.MOV),
        ("other", "ogg", Container.OGG),
        ("other", "asf", Container.OTHER),
        ("mp4", "mp4", Container.MP4),
    ],
)
def test_mov_and_ogg_recorded_as_other_read_back_as_their_container(
    recorded: str, format_name: str, container: Container
) -> None:
    restored = rows.media_from_rows(
        Path("/m"), 1, 0, None, None, (recorded, format_name, None, None, None, 0), [], []
    )
    assert restored.container is container
