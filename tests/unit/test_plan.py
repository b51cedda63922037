"""Plan: kind classification, diff rows and the simulated result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import (
    AudioEncode,
    EncodeSettings,
    PlanKind,
    PlannedTrack,
    RemovedTrack,
    identity_plan,
)


def _media() -> MediaFile:
    tracks = (
        Track(0, 0, TrackType.VIDEO, "h264", flags=TrackFlags(default=True)),
        Track(1, 1, TrackType.AUDIO, "aac", "fre", language_ietf="fr-FR", title="VF"),
        Track(2, 2, TrackType.AUDIO, "ac3", "eng", channels=6),
        Track(3, 3, TrackType.SUBTITLE, "subrip", "eng"),
    )
    return MediaFile(
        Path("a.mkv"),
        Container.MATROSKA,
        100,
        0,
        tracks,
        attachments=(Attachment(7, "font.ttf"),),
    )


def test_identity_plan_is_noop() -> None:
    plan = identity_plan(_media(), "p")
    assert plan.kind is PlanKind.NOOP
    assert plan.expected_result() == _media()
    assert all(row.changes == () and not row.moved for row in plan.diff())


def test_flag_change_is_metadata_and_shows_in_diff() -> None:
    plan = identity_plan(_media(), "p")
    tracks = list(plan.tracks)
    tracks[2] = replace(tracks[2], flags=TrackFlags(default=True), title="English")
    plan = replace(plan, tracks=tuple(tracks))
    assert plan.kind is PlanKind.METADATA
    (change,) = plan.metadata_changes()
    assert change.fields == (("title", None, "English"), ("default", False, True))
    assert plan.diff()[2].changes == change.fields


def test_removal_is_remux_and_following_tracks_are_not_moved() -> None:
    base = identity_plan(_media(), "p")
    plan = replace(
        base,
        tracks=tuple(t for t in base.tracks if t.source_index != 1),
        removed=(RemovedTrack(1, "audio language fre not in [eng]"),),
    )
    assert plan.kind is PlanKind.REMUX
    rows = plan.diff()
    assert [r.new_position for r in rows] == [0, None, 1, 2]
    assert rows[1].removal_reason == "audio language fre not in [eng]"
    assert not any(r.moved for r in rows)


def test_reorder_marks_moved_tracks() -> None:
    base = identity_plan(_media(), "p")
    t = base.tracks
    plan = replace(base, tracks=(t[0], t[2], t[1], t[3]))
    assert plan.kind is PlanKind.REMUX
    assert [r.moved for r in plan.diff()] == [False, True, True, False]


def test_container_change_and_attachment_removal_are_remux() -> None:
    base = identity_plan(_media(), "p")
    assert replace(base, container=Container.MP4).kind is PlanKind.REMUX
    assert replace(base, removed_attachments=(7,)).kind is PlanKind.REMUX
    assert replace(base, removed_attachments=(7,)).expected_result().attachments == ()


def test_encode_and_synthesised_tracks() -> None:
    base = identity_plan(_media(), "p")
    encoded = replace(
        base.tracks[2], encode=EncodeSettings("eac3", audio=AudioEncode(bitrate=640_000))
    )
    assert replace(base, tracks=(*base.tracks[:2], encoded, base.tracks[3])).kind is (
        PlanKind.ENCODE
    )
    new = PlannedTrack(None, TrackType.AUDIO, "aac", "eng", "Stereo", TrackFlags())
    plan = replace(base, tracks=(*base.tracks, new))
    assert plan.kind is PlanKind.ENCODE
    assert plan.diff()[-1].source_index is None
    assert plan.expected_result().tracks[-1].codec == "aac"


def test_expected_result_renumbers_and_drops_stale_ietf_tag() -> None:
    base = identity_plan(_media(), "p")
    t = base.tracks
    plan = replace(base, tracks=(t[0], replace(t[1], language="ger"), t[2]))
    result = plan.expected_result()
    assert [(tr.index, tr.track_id) for tr in result.tracks] == [(0, 0), (1, 1), (2, 2)]
    assert result.tracks[1].language_ietf is None
    assert identity_plan(result, "p").is_noop


def test_plan_equality_is_by_value() -> None:
    assert identity_plan(_media(), "p") == identity_plan(_media(), "p")
    assert identity_plan(_media(), "p") != identity_plan(_media(), "q")
