from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.verify import compare_media, container_expectation, duration_tolerance
from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType

Make = Callable[..., MediaFile]


def _set_track(media: MediaFile, position: int, **changes: object) -> MediaFile:
    tracks = list(media.tracks)
    tracks[position] = replace(tracks[position], **changes)  # type: ignore[arg-type]
    return replace(media, tracks=tuple(tracks))


def test_identical_media_match(make_media: Make) -> None:
    media = make_media()
    assert compare_media(media, media, source_duration=120.0) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"language": "ger"}, "language", "track 2 (audio): language is 'ger', plan says 'fre'"),
        ({"title": None}, "title", "track 2 (audio): title is None, plan says 'VF'"),
        ({"flags": TrackFlags(forced=True)}, "forced", "track 2 (audio): forced is True"),
        ({"codec": "eac3"}, "codec", "codec is 'eac3', plan says 'ac3'"),
    ],
)
def test_a_difference_names_track_and_field(
    make_media: Make, change: dict[str, object], field: str, message: str
) -> None:
    expected = make_media()
    found = compare_media(expected, _set_track(expected, 2, **change), source_duration=None)
    assert [m.field for m in found] == [field]
    assert found[0].track == 2
    assert message in found[0].message


def test_missing_or_reordered_tracks_are_one_clear_mismatch(make_media: Make) -> None:
    expected = make_media()
    dropped = replace(expected, tracks=expected.tracks[:3])
    found = compare_media(expected, dropped, source_duration=None)
    assert [m.field for m in found] == ["tracks"]
    assert "plan says [video, audio, audio, subtitle]" in found[0].message


def test_duration_tolerance_is_max_of_one_second_and_half_percent(make_media: Make) -> None:
    assert duration_tolerance(10) == 1.0
    assert duration_tolerance(7200) == pytest.approx(36.0)
    expected = make_media()
    short = replace(expected, duration=118.5)
    assert [m.field for m in compare_media(expected, short, source_duration=120.0)] == ["duration"]
    assert compare_media(expected, replace(expected, duration=119.2), source_duration=120.0) == []
    assert compare_media(expected, short, source_duration=None) == []


def test_mp4_checks_only_what_mp4_stores(make_media: Make) -> None:
    expected = make_media(Container.MP4, "/lib/a.mp4")
    written = container_expectation(expected)
    actual = _set_track(written, 2, flags=TrackFlags(original=True))
    assert compare_media(expected, actual, source_duration=None) == []
    wrong_language = _set_track(written, 2, language="spa", title="other")
    assert [m.field for m in compare_media(expected, wrong_language, source_duration=None)] == [
        "language",
        "title",  # stored as the handler name
    ]


@pytest.mark.parametrize(
    ("container", "checked"),
    [
        (Container.AVI, ["title"]),
        (Container.MPEGTS, ["language"]),
        (Container.OGG, ["language", "title"]),
        (Container.MOV, ["language", "title"]),
    ],
)
def test_other_containers_check_what_the_capability_table_says(
    make_media: Make, container: Container, checked: list[str]
) -> None:
    expected = make_media(container, f"/lib/a.{container.value}")
    written = container_expectation(expected)
    everything_else = _set_track(
        written, 2, language="spa", title="other", flags=TrackFlags(original=True)
    )
    found = compare_media(expected, everything_else, source_duration=None)
    assert [m.field for m in found] == checked


def test_mp4_muxer_marks_the_first_track_of_a_type_default_when_none_is(make_media: Make) -> None:
    expected = make_media(Container.MP4, "/lib/a.mp4")
    adjusted = container_expectation(expected)
    video = adjusted.tracks_of(TrackType.VIDEO)[0]
    audio = adjusted.tracks_of(TrackType.AUDIO)
    assert video.flags.default
    assert [a.flags.default for a in audio] == [True, False]  # already had one: unchanged
    assert container_expectation(make_media()) == make_media()


def test_container_difference_is_reported(make_media: Make) -> None:
    expected = make_media()
    found = compare_media(
        expected, replace(expected, container=Container.WEBM), source_duration=None
    )
    assert found[0].field == "container"


tracks = st.lists(
    st.builds(
        Track,
        index=st.just(0),
        track_id=st.just(0),
        type=st.sampled_from(TrackType),
        codec=st.sampled_from(["h264", "aac", "subrip"]),
        language=st.sampled_from(["eng", "fre", "und"]),
        title=st.one_of(st.none(), st.text(max_size=5)),
        flags=st.builds(TrackFlags, *[st.booleans()] * 6),
    ),
    max_size=6,
)


@given(tracks=tracks, container=st.sampled_from(Container))
def test_what_the_container_stores_always_verifies(
    tracks: list[Track], container: Container
) -> None:
    expected = MediaFile(Path("/m"), container, 1, 1, tuple(tracks), duration=60.0)
    written = container_expectation(expected)
    assert compare_media(expected, written, source_duration=60.0) == []
    assert container_expectation(written) == written


@given(tracks=tracks.filter(bool), data=st.data())
def test_any_changed_flag_in_matroska_is_named(tracks: list[Track], data: st.DataObject) -> None:
    expected = MediaFile(Path("/m"), Container.MATROSKA, 1, 1, tuple(tracks))
    position = data.draw(st.integers(0, len(tracks) - 1))
    flag = data.draw(st.sampled_from(TrackFlags.__slots__))
    changed = list(tracks)
    changed[position] = changed[position].with_flags(
        **{flag: not getattr(tracks[position].flags, flag)}
    )
    found = compare_media(expected, replace(expected, tracks=tuple(changed)), source_duration=None)
    assert [(m.track, m.field) for m in found] == [(position, flag)]
