"""apply_plan on real files with the real tools, checked independently with mkvmerge -J."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.apply.choose import Tool
from vpo.apply.errors import FileBusyError, PreflightError
from vpo.apply.execute import apply_plan
from vpo.apply.lock import locked_file
from vpo.apply.settings import ApplySettings
from vpo.media.model import Container, MediaFile, TrackFlags
from vpo.plan import Plan, PlannedTrack, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
SETTINGS = ApplySettings(stable_seconds=0.0)

SPEC = MediaSpec(
    audio=(
        AudioSpec(language="eng", default=True, title="English"),
        AudioSpec(language="fre", title="Français"),
        AudioSpec(language="eng", commentary=True, title="Director"),
    ),
    subtitles=(SubtitleSpec(language="eng"), SubtitleSpec(language="ger", forced=True)),
    font_attachment=True,
    chapters=2,
)


def identify(tools: ToolPaths, path: Path) -> dict[str, Any]:
    """mkvmerge -J, run independently of vpo's own readers."""
    result = subprocess.run(
        [tools.require("mkvmerge"), "-J", str(path)], capture_output=True, check=True
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def summary(tools: ToolPaths, path: Path) -> list[tuple[str, str, str | None, bool, bool, bool]]:
    """(type, language, name, default, forced, commentary) per track, in file order."""
    return [
        (
            t["type"],
            t["properties"].get("language"),
            t["properties"].get("track_name"),
            bool(t["properties"].get("default_track")),
            bool(t["properties"].get("forced_track")),
            bool(t["properties"].get("flag_commentary")),
        )
        for t in identify(tools, path)["tracks"]
    ]


def edit(plan: Plan, position: int, **changes: Any) -> Plan:
    tracks = list(plan.tracks)
    flag_changes = {k: v for k, v in changes.items() if k in TrackFlags.__slots__}
    other = {k: v for k, v in changes.items() if k not in TrackFlags.__slots__}
    track: PlannedTrack = replace(tracks[position], **other)
    tracks[position] = replace(track, flags=replace(track.flags, **flag_changes))
    return replace(plan, tracks=tuple(tracks))


def keep(plan: Plan, order: list[int]) -> Plan:
    """Keep the source tracks ``order`` (by source index), in that order."""
    by_source = {t.source_index: t for t in plan.tracks}
    removed = tuple(
        RemovedTrack(i, "test") for i in range(len(plan.source.tracks)) if i not in order
    )
    return replace(plan, tracks=tuple(by_source[i] for i in order), removed=removed)


def metadata_plan(media: MediaFile) -> Plan:
    """The French track becomes the default, the English one loses it, a title goes."""
    plan = identity_plan(media, "test")
    plan = edit(plan, 1, default=False)
    plan = edit(plan, 2, default=True, language="ger", title="Deutsch")
    return edit(plan, 3, title=None, hearing_impaired=True)


def test_metadata_change_is_an_in_place_mkvpropedit_edit(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    before = path.stat()
    outcome = apply_plan(metadata_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert outcome.tool is Tool.MKVPROPEDIT and outcome.in_place
    assert summary(tools, path) == [
        ("video", "und", None, True, False, False),
        ("audio", "eng", "English", False, False, False),
        ("audio", "ger", "Deutsch", True, False, False),
        ("audio", "eng", None, False, False, True),
        ("subtitles", "eng", None, False, False, False),
        ("subtitles", "ger", None, False, True, False),
    ]
    tracks = identify(tools, path)["tracks"]
    assert tracks[2]["properties"]["language_ietf"] == "de"
    assert tracks[3]["properties"]["flag_hearing_impaired"] is True
    after = path.stat()
    assert after.st_ino == before.st_ino
    assert after.st_mtime_ns == before.st_mtime_ns  # preserve_mtime
    assert outcome.media.mtime_ns == after.st_mtime_ns and outcome.media.size == after.st_size
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_second_run_changes_and_writes_nothing(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    apply_plan(metadata_plan(probe_matroska_headers(path)), tools, SETTINGS)
    settled = path.stat()
    again = metadata_plan(probe_matroska_headers(path))
    assert again.is_noop
    outcome = apply_plan(again, tools, SETTINGS)
    assert outcome.tool is Tool.NONE and outcome.bytes_written == 0
    now = path.stat()
    assert (now.st_ino, now.st_mtime_ns, now.st_ctime_ns) == (
        settled.st_ino,
        settled.st_mtime_ns,
        settled.st_ctime_ns,
    )


def test_drop_and_reorder_is_one_verified_mkvmerge_remux(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    path.chmod(0o640)
    before = path.stat()
    media = probe_matroska_headers(path)
    plan = keep(identity_plan(media, "test"), [0, 2, 1, 5])
    plan = edit(plan, 1, default=True)
    plan = edit(plan, 2, default=False)
    plan = replace(plan, removed_attachments=tuple(a.attachment_id for a in media.attachments))
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.tool is Tool.MKVMERGE and not outcome.in_place
    assert summary(tools, path) == [
        ("video", "und", None, True, False, False),
        ("audio", "fre", "Français", True, False, False),
        ("audio", "eng", "English", False, False, False),
        ("subtitles", "ger", None, False, True, False),
    ]
    data = identify(tools, path)
    assert data["attachments"] == []
    assert len(data["chapters"]) == 1 and data["chapters"][0]["num_entries"] == 2
    after = path.stat()
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert after.st_mtime_ns == before.st_mtime_ns
    assert outcome.bytes_written == after.st_size
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_keep_backup_keeps_the_original_beside_it(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    settings = replace(SETTINGS, keep_backup=True)
    outcome = apply_plan(metadata_plan(probe_matroska_headers(path)), tools, settings)
    assert outcome.tool is Tool.MKVPROPEDIT and not outcome.in_place  # edited on a copy
    assert outcome.backup == path.parent / f"{path.name}.vpo-backup"
    assert outcome.backup.read_bytes() == original
    assert summary(tools, path)[2][1:3] == ("ger", "Deutsch")
    plan = keep(identity_plan(probe_matroska_headers(path), "test"), [0, 1])
    second = apply_plan(plan, tools, settings)
    assert second.backup == path.parent / f"{path.name}.vpo-backup-1"
    assert len(identify(tools, path)["tracks"]) == 2


@pytest.mark.parametrize(
    "name",
    ["-leading dash.mkv", 'it\'s "quoted".mkv', "new\nline.mkv", "ünïcödé 映画.mkv", "a:b.mkv"],
)
def test_odd_file_names(media_factory: MediaFactory, tools: ToolPaths, name: str) -> None:
    path = media_factory(SPEC, name)
    apply_plan(metadata_plan(probe_matroska_headers(path)), tools, SETTINGS)
    plan = keep(identity_plan(probe_matroska_headers(path), "test"), [0, 2])
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.media.path == path
    assert [t[1] for t in summary(tools, path)] == ["und", "ger"]
    assert sorted(p.name for p in path.parent.iterdir()) == [name]


def test_read_only_file_is_refused_untouched(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SPEC)
    path.chmod(0o444)
    original = path.read_bytes()
    with pytest.raises(PreflightError, match="read-only file"):
        apply_plan(metadata_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert path.read_bytes() == original


def test_growing_file_is_left_alone(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    with pytest.raises(PreflightError, match="may still be growing"):
        apply_plan(
            metadata_plan(probe_matroska_headers(path)),
            tools,
            replace(SETTINGS, stable_seconds=60),
        )
    assert path.read_bytes() == original


def test_file_changed_since_probe_is_refused(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SPEC)
    plan = metadata_plan(probe_matroska_headers(path))
    os.utime(path, ns=(1, 1))
    with pytest.raises(PreflightError, match="changed since it was probed"):
        apply_plan(plan, tools, SETTINGS)


def test_busy_file_is_skipped(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(SPEC)
    plan = metadata_plan(probe_matroska_headers(path))
    original = path.read_bytes()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locked_file(path):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(FileBusyError, match="busy"):
            apply_plan(plan, tools, SETTINGS)
    finally:
        release.set()
        holder.join()
    assert path.read_bytes() == original
    assert apply_plan(plan, tools, SETTINGS).tool is Tool.MKVPROPEDIT


def test_same_file_twice_in_parallel_changes_it_once(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    plan = keep(identity_plan(probe_matroska_headers(path), "test"), [0, 2])
    results: list[str] = []

    def run() -> None:
        try:
            results.append(apply_plan(plan, tools, SETTINGS).tool.value)
        except (FileBusyError, PreflightError) as error:
            results.append(type(error).__name__)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results)[0] in ("FileBusyError", "PreflightError")
    assert sorted(results)[1] == "mkvmerge"
    assert len(identify(tools, path)["tracks"]) == 2


def test_temp_dir_on_the_same_filesystem_is_used(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    plan = keep(identity_plan(probe_matroska_headers(path), "test"), [0, 1])
    outcome = apply_plan(plan, tools, replace(SETTINGS, temp_dir=scratch))
    assert outcome.tool is Tool.MKVMERGE
    assert len(identify(tools, path)["tracks"]) == 2
    assert list(scratch.iterdir()) == []


def test_conversion_to_webm_changes_the_extension(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    spec = MediaSpec(
        container="mkv",
        video_codec="vp9",
        audio=(AudioSpec(codec="opus", default=True), AudioSpec(codec="opus", language="fre")),
    )
    path = media_factory(spec)
    plan = replace(identity_plan(probe_matroska_headers(path), "test"), container=Container.WEBM)
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.media.path == path.with_suffix(".webm")
    assert not path.exists()
    assert identify(tools, outcome.media.path)["container"]["type"] == "Matroska"
    assert sorted(p.name for p in path.parent.iterdir()) == ["movie.webm"]


def test_conversion_refuses_to_overwrite_an_existing_file(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    spec = MediaSpec(video_codec="vp9", audio=(AudioSpec(codec="opus", default=True),))
    path = media_factory(spec)
    other = path.with_suffix(".webm")
    other.write_bytes(b"mine")
    plan = replace(identity_plan(probe_matroska_headers(path), "test"), container=Container.WEBM)
    with pytest.raises(PreflightError, match=r"movie\.webm already exists"):
        apply_plan(plan, tools, SETTINGS)
    assert other.read_bytes() == b"mine"


def test_mp4_rewrite_with_ffmpeg(media_factory: MediaFactory, tools: ToolPaths) -> None:
    probe = pytest.importorskip("vpo.probe.probe")
    spec = MediaSpec(
        container="mp4",
        audio=(AudioSpec(language="eng", default=True), AudioSpec(language="fre")),
    )
    path = media_factory(spec)
    media = probe.probe_file(path, tools)
    plan = keep(identity_plan(media, "test"), [0, 2, 1])
    plan = edit(edit(plan, 1, default=True), 2, default=False, language="spa")
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.tool is Tool.FFMPEG
    streams = json.loads(
        subprocess.run(
            [tools.require("ffprobe"), "-v", "error", "-of", "json", "-show_streams", str(path)],
            capture_output=True,
            check=True,
        ).stdout
    )["streams"]
    assert [(s["codec_type"], s["tags"]["language"], s["disposition"]["default"]) for s in streams][
        1:
    ] == [("audio", "fre", 1), ("audio", "spa", 0)]


def test_mp4_to_matroska_with_mkvmerge(media_factory: MediaFactory, tools: ToolPaths) -> None:
    probe = pytest.importorskip("vpo.probe.probe")
    spec = MediaSpec(container="mp4", audio=(AudioSpec(language="eng", default=True),))
    path = media_factory(spec)
    media = probe.probe_file(path, tools)
    plan = replace(identity_plan(media, "test"), container=Container.MATROSKA)
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.tool is Tool.MKVMERGE
    assert outcome.media.path == path.with_suffix(".mkv") and not path.exists()
    assert [t["type"] for t in identify(tools, outcome.media.path)["tracks"]] == ["video", "audio"]


@pytest.mark.parametrize("structural", [False, True])
def test_a_symlinked_file_is_changed_and_the_link_kept(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path, structural: bool
) -> None:
    real = media_factory(SPEC, "store/movie.mkv")
    link = tmp_path / "library" / "movie.mkv"
    link.parent.mkdir()
    link.symlink_to(real)
    media = probe_matroska_headers(link)
    plan = keep(identity_plan(media, "test"), [0, 2]) if structural else metadata_plan(media)
    outcome = apply_plan(plan, tools, SETTINGS)
    assert outcome.media.path == real
    assert link.is_symlink() and link.resolve() == real
    assert summary(tools, real)[1][1] == ("fre" if structural else "eng")
    assert sorted(p.name for p in real.parent.iterdir()) == ["movie.mkv"]


def test_headers_too_big_to_journal_are_edited_on_a_copy(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    before = path.stat()
    settings = replace(SETTINGS, journal_limit=1024)
    outcome = apply_plan(metadata_plan(probe_matroska_headers(path)), tools, settings)
    assert outcome.tool is Tool.MKVPROPEDIT and not outcome.in_place
    assert path.stat().st_ino != before.st_ino  # a verified copy was renamed in
    assert summary(tools, path)[2][1:4] == ("ger", "Deutsch", True)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
