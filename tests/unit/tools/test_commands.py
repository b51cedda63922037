"""The argv builders are pure: test them on plain data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import EncodeSettings, Plan, PlannedTrack, RemovedTrack, identity_plan
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv, disposition
from vpo.tools.commands.mkvmerge import build_mkvmerge_argv, match_track_ids
from vpo.tools.commands.mkvpropedit import build_mkvpropedit_argv, track_selector

OUT = Path("/lib/.vpo-tmp-1-abcdef01-movie.mkv")


def _media(container: Container = Container.MATROSKA, path: str = "/lib/movie.mkv") -> MediaFile:
    return MediaFile(
        path=Path(path),
        container=container,
        size=10,
        mtime_ns=1,
        tracks=(
            Track(0, 0, TrackType.VIDEO, "h264", uid=11),
            Track(1, 1, TrackType.AUDIO, "aac", "eng", flags=TrackFlags(default=True), uid=22),
            Track(2, 2, TrackType.AUDIO, "ac3", "fre", title="VF", uid=None),
            Track(3, 3, TrackType.SUBTITLE, "subrip", "eng", uid=44),
        ),
        attachments=(Attachment(0, "a.ttf"), Attachment(1, "b.ttf")),
    )


def _set(plan: Plan, position: int, **changes: object) -> Plan:
    tracks = list(plan.tracks)
    flags = {k: v for k, v in changes.items() if k in TrackFlags.__slots__}
    other = {k: v for k, v in changes.items() if k not in TrackFlags.__slots__}
    track: PlannedTrack = replace(tracks[position], **other)  # type: ignore[arg-type]
    track = replace(track, flags=replace(track.flags, **flags))  # type: ignore[arg-type]
    tracks[position] = track
    return replace(plan, tracks=tuple(tracks))


def _after(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == option]


# mkvpropedit ----------------------------------------------------------------


def test_selector_prefers_uid_and_falls_back_to_position() -> None:
    media = _media()
    assert track_selector(media.tracks[1]) == "track:=22"
    assert track_selector(media.tracks[2]) == "track:3"


def test_mkvpropedit_sets_only_changed_fields() -> None:
    plan = _set(identity_plan(_media(), "p"), 1, default=False, language="ger")
    argv = build_mkvpropedit_argv("mkvpropedit", plan, Path("/lib/movie.mkv"))
    assert argv[:3] == ["mkvpropedit", "--quiet", "/lib/movie.mkv"]
    assert argv[3:] == ["--edit", "track:=22", "--set", "language=ger", "--set", "flag-default=0"]


def test_mkvpropedit_deletes_a_removed_title_and_sets_new_ones() -> None:
    plan = _set(identity_plan(_media(), "p"), 2, title=None)
    plan = _set(plan, 3, title="Full", forced=True, hearing_impaired=True)
    argv = build_mkvpropedit_argv("mkvpropedit", plan, Path("/lib/movie.mkv"))
    assert argv[3:] == [
        "--edit", "track:3", "--delete", "name",
        "--edit", "track:=44", "--set", "name=Full",
        "--set", "flag-forced=1", "--set", "flag-hearing-impaired=1",
    ]  # fmt: skip


def test_mkvpropedit_makes_a_dash_name_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    plan = _set(identity_plan(_media(path="-x.mkv"), "p"), 1, commentary=True)
    argv = build_mkvpropedit_argv("mkvpropedit", plan, Path("-x.mkv"))
    assert argv[2] == "/-x.mkv"


def test_mkvpropedit_refuses_a_structural_change() -> None:
    plan = identity_plan(_media(), "p")
    plan = replace(plan, tracks=plan.tracks[:3], removed=(RemovedTrack(3, "x"),))
    with pytest.raises(ValueError, match="remux"):
        build_mkvpropedit_argv("mkvpropedit", plan, Path("/lib/movie.mkv"))


# mkvmerge -------------------------------------------------------------------


def test_mkvmerge_selects_orders_and_sets_everything_explicitly() -> None:
    plan = identity_plan(_media(), "p")
    t = plan.tracks
    plan = replace(plan, tracks=(t[0], t[2], t[1]), removed=(RemovedTrack(3, "x"),))
    argv = build_mkvmerge_argv("mkvmerge", plan, OUT)
    assert argv[:4] == ["mkvmerge", "--quiet", "--output", str(OUT)]
    assert _after(argv, "--audio-tracks") == ["2,1"]
    assert _after(argv, "--video-tracks") == ["0"]
    assert "--no-subtitles" in argv
    assert _after(argv, "--track-order") == ["0:0,0:2,0:1"]
    assert _after(argv, "--language") == ["0:und", "2:fre", "1:eng"]
    assert _after(argv, "--track-name") == ["0:", "2:VF", "1:"]
    assert _after(argv, "--default-track-flag") == ["0:0", "2:0", "1:1"]
    assert _after(argv, "--original-flag") == ["0:0", "2:0", "1:0"]
    source_at = argv.index("/lib/movie.mkv")
    assert argv.index("--default-track-flag") < source_at < argv.index("--track-order")
    assert "--webm" not in argv
    assert "--no-attachments" not in argv and "--attachments" not in argv


def test_mkvmerge_attachment_selection() -> None:
    plan = replace(identity_plan(_media(), "p"), removed_attachments=(0,))
    assert _after(build_mkvmerge_argv("mkvmerge", plan, OUT), "--attachments") == ["1"]
    plan = replace(plan, removed_attachments=(0, 1))
    assert "--no-attachments" in build_mkvmerge_argv("mkvmerge", plan, OUT)


def test_mkvmerge_writes_webm_and_refuses_mp4_and_encodes() -> None:
    plan = replace(identity_plan(_media(), "p"), container=Container.WEBM)
    assert "--webm" in build_mkvmerge_argv("mkvmerge", plan, OUT)
    with pytest.raises(ValueError, match="mp4"):
        build_mkvmerge_argv("mkvmerge", replace(plan, container=Container.MP4), OUT)
    encoded = _set(identity_plan(_media(), "p"), 2, encode=EncodeSettings("aac"))
    with pytest.raises(ValueError, match="encode"):
        build_mkvmerge_argv("mkvmerge", encoded, OUT)


# ffmpeg ---------------------------------------------------------------------


def test_disposition_is_complete() -> None:
    assert disposition(TrackFlags()) == "0"
    assert disposition(TrackFlags(default=True, commentary=True)) == "default+comment"


def test_ffmpeg_maps_every_kept_stream_in_order() -> None:
    plan = identity_plan(_media(Container.MP4, "/lib/a:b.mp4"), "p")
    t = plan.tracks
    plan = replace(plan, tracks=(t[0], t[2], t[1]), removed=(RemovedTrack(3, "x"),))
    plan = _set(plan, 1, default=True)
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mp4"))
    assert _after(argv, "-i") == ["file:/lib/a:b.mp4"]
    assert _after(argv, "-map") == ["0:0", "0:2", "0:1"]
    assert _after(argv, "-c") == ["copy"]
    assert _after(argv, "-disposition:0") == ["0"]
    assert _after(argv, "-disposition:1") == ["default"]
    assert _after(argv, "-disposition:2") == ["default"]
    assert _after(argv, "-metadata:s:1") == ["language=fre", "title=VF", "handler_name=VF"]
    assert argv[-3:] == ["-f", "mp4", "file:/lib/out.mp4"]
    assert "-nostdin" in argv


def test_ffmpeg_encodes_only_the_planned_track() -> None:
    plan = _set(identity_plan(_media(Container.MP4, "/lib/a.mp4"), "p"), 3, codec="mov_text")
    plan = _set(plan, 3, encode=EncodeSettings("mov_text"))
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mp4"))
    assert _after(argv, "-c:3") == ["mov_text"]
    assert "-c:1" not in argv


def test_ffmpeg_converts_subrip_to_mov_text_when_the_plan_says_so() -> None:
    """The plan of an MKV → MP4 conversion keeps SubRip as mov_text without encode
    settings; ``-c copy`` alone made ffmpeg fail ("Error initializing output stream")."""
    plan = replace(
        identity_plan(_media(), "p"), container=Container.MP4, removed_attachments=(0, 1)
    )
    plan = _set(plan, 3, codec="mov_text")
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mp4"))
    assert _after(argv, "-c:3") == ["mov_text"]
    assert argv.index("-c:3") > argv.index("-c")  # after the global copy, so it wins
    assert not any(a in argv for a in ("-c:0", "-c:1", "-c:2"))
    back = _set(
        replace(
            plan,
            source=replace(plan.expected_result(), path=Path("/lib/a.mp4")),
            container=Container.MATROSKA,
        ),
        3,
        codec="subrip",
    )
    assert _after(build_ffmpeg_argv("ffmpeg", back, OUT), "-c:3") == ["srt"]


def test_ffmpeg_refuses_a_subtitle_conversion_it_cannot_make() -> None:
    plan = replace(identity_plan(_media(), "p"), container=Container.MP4)
    with pytest.raises(ValueError, match="subrip to hdmv_pgs_subtitle"):
        build_ffmpeg_argv("ffmpeg", _set(plan, 3, codec="hdmv_pgs_subtitle"), OUT)


@pytest.mark.parametrize(("language", "written"), [("fre", "fra"), ("ger", "ger"), ("jpn", "jpn")])
def test_ffmpeg_writes_mov_languages_in_the_form_the_mov_muxer_keeps(
    language: str, written: str
) -> None:
    plan = replace(identity_plan(_media(Container.MOV, "/lib/a.mov"), "p"))
    plan = _set(plan, 2, language=language)
    argv = build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out.mov"))
    assert f"language={written}" in _after(argv, "-metadata:s:2")
    mp4 = build_ffmpeg_argv("ffmpeg", replace(plan, container=Container.MP4), Path("/o.mp4"))
    assert f"language={language}" in _after(mp4, "-metadata:s:2")


def test_ffmpeg_refuses_unknown_container() -> None:
    plan = replace(identity_plan(_media(), "p"), container=Container.OTHER)
    with pytest.raises(ValueError, match="other"):
        build_ffmpeg_argv("ffmpeg", plan, Path("/lib/out"))


# properties -------------------------------------------------------------------


@given(
    order=st.permutations(range(4)).flatmap(
        lambda perm: st.integers(1, 4).map(lambda n: tuple(perm[:n]))
    ),
    flags=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_every_kept_track_is_selected_ordered_and_fully_specified(
    order: tuple[int, ...], flags: list[bool]
) -> None:
    base = identity_plan(_media(), "p")
    removed = tuple(RemovedTrack(i, "x") for i in range(4) if i not in order)
    plan = replace(base, tracks=tuple(base.tracks[i] for i in order), removed=removed)
    plan = _set(plan, 0, **dict(zip(TrackFlags.__slots__, flags, strict=True)))
    argv = build_mkvmerge_argv("mkvmerge", plan, OUT)
    assert _after(argv, "--track-order") == [",".join(f"0:{i}" for i in order)]
    selected = [
        int(i) for option in ("--video-tracks", "--audio-tracks", "--subtitle-tracks")
        for value in _after(argv, option) for i in value.split(",")
    ]  # fmt: skip
    assert sorted(selected) == sorted(order)
    for option in ("--language", "--track-name", "--default-track-flag", "--original-flag"):
        assert [v.split(":")[0] for v in _after(argv, option)] == [str(i) for i in order]
    ffmpeg = build_ffmpeg_argv("ffmpeg", replace(plan, container=Container.MP4), Path("/o.mp4"))
    assert _after(ffmpeg, "-map") == [f"0:{i}" for i in order]
    assert all(f"-disposition:{n}" in ffmpeg for n in range(len(order)))


def test_mkvmerge_ids_of_a_non_matroska_source_are_paired_in_order() -> None:
    source = _media(Container.MP4, "/lib/a.mp4").tracks
    shifted = tuple(replace(t, track_id=t.track_id + 1) for t in source)  # cover art at 0
    assert match_track_ids(shifted, source) == (0, 1, 2, 3)
    assert match_track_ids(source, source[:3]) is None
    swapped = (source[0], source[3], source[2], source[1])
    assert match_track_ids(source, swapped) is None


def test_mkvmerge_uses_the_given_ids_everywhere() -> None:
    plan = identity_plan(_media(Container.MP4, "/lib/a.mp4"), "p")
    t = plan.tracks
    plan = replace(
        plan, container=Container.MATROSKA, tracks=(t[0], t[2]),
        removed=(RemovedTrack(1, "x"), RemovedTrack(3, "x")),
    )  # fmt: skip
    argv = build_mkvmerge_argv("mkvmerge", plan, OUT, track_ids=(5, 6, 7, 8))
    assert _after(argv, "--track-order") == ["0:5,0:7"]
    assert _after(argv, "--audio-tracks") == ["7"]
    assert _after(argv, "--language") == ["5:und", "7:fre"]
    with pytest.raises(ValueError, match="one id per source track"):
        build_mkvmerge_argv("mkvmerge", plan, OUT, track_ids=(1,))
