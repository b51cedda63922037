"""Container tags in the argv builders, the tags XML and its temp file (pure, except
the temp file)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackType, container_tags
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv
from vpo.tools.commands.mkvmerge import build_mkvmerge_argv
from vpo.tools.commands.mkvpropedit import build_mkvpropedit_argv
from vpo.tools.commands.mkvtags import global_tag_set, tags_xml
from vpo.tools.tag_files import global_tags_file

TAGS_FILE = Path("/tmp/tags.xml")


def media(container: Container = Container.MATROSKA, **tags: str) -> MediaFile:
    suffix = "mkv" if container is Container.MATROSKA else container.value
    return MediaFile(
        path=Path(f"/lib/movie.{suffix}"),
        container=container,
        size=1,
        mtime_ns=0,
        tracks=(
            Track(0, 0, TrackType.VIDEO, "h264"),
            Track(1, 1, TrackType.AUDIO, "aac", language="eng"),
        ),
        title="Film",
        tags=container_tags(tags.items(), "Film"),
    )


def plan(source: MediaFile, **tags: str | None) -> Plan:
    return replace(identity_plan(source, "p"), tags=tuple(sorted(tags.items())))


def test_a_plan_changes_only_tags_that_differ_and_keeps_the_others() -> None:
    source = media(encoder="Lavf", comment="old")
    changed = plan(source, comment="new", encoder="Lavf", gone=None, stale=None)
    assert changed.tag_changes() == (("comment", "old", "new"),)
    assert changed.global_tags() == (("comment", "new"), ("encoder", "Lavf"))
    assert changed.kind.value == "metadata"
    assert plan(source, encoder="Lavf").is_noop  # already so: nothing to do
    result = changed.expected_result()
    assert result.tag("comment") == "new" and result.tag("title") == "Film"


def test_mkvpropedit_replaces_the_global_tags_with_the_whole_set() -> None:
    changed = plan(media(encoder="Lavf"), comment="new")
    argv = build_mkvpropedit_argv(
        "mkvpropedit", changed, Path("/lib/movie.mkv"), tags_file=TAGS_FILE
    )
    assert argv[-2:] == ["--tags", "global:/tmp/tags.xml"]
    assert global_tag_set(changed) == (("comment", "new"), ("encoder", "Lavf"))
    with pytest.raises(ValueError, match="tags file"):
        build_mkvpropedit_argv("mkvpropedit", changed, Path("/lib/movie.mkv"))


def test_mkvpropedit_removes_the_last_tag_without_a_file() -> None:
    changed = plan(media(encoder="Lavf"), encoder=None)
    argv = build_mkvpropedit_argv("mkvpropedit", changed, Path("/lib/movie.mkv"))
    assert argv[-2:] == ["--tags", "global:"]


def test_no_tag_change_no_tag_options() -> None:
    unchanged = plan(media(encoder="Lavf"))
    assert "--tags" not in build_mkvpropedit_argv("mkvpropedit", unchanged, Path("/x.mkv"))
    remux = replace(unchanged, tracks=unchanged.tracks[:1], removed=(RemovedTrack(1, "x"),))
    argv = build_mkvmerge_argv("mkvmerge", remux, Path("/out.mkv"))
    assert "--global-tags" not in argv and "--no-global-tags" not in argv


def test_mkvmerge_drops_the_sources_global_tags_for_the_new_set() -> None:
    changed = plan(media(encoder="Lavf"), comment="new")
    remux = replace(changed, tracks=changed.tracks[:1], removed=(RemovedTrack(1, "x"),))
    argv = build_mkvmerge_argv("mkvmerge", remux, Path("/out.mkv"), tags_file=TAGS_FILE)
    assert argv[argv.index("--global-tags") + 1] == "/tmp/tags.xml"
    source = argv.index("/lib/movie.mkv")
    assert argv[source - 1] == "--no-global-tags"  # a source option: just before it


def test_an_mp4_sources_own_tags_do_not_become_matroska_tags() -> None:
    source = media(Container.MP4, major_brand="isom", comment="old")
    changed = replace(plan(source, comment="new", other=None), container=Container.MATROSKA)
    assert global_tag_set(changed) == (("comment", "new"),)


def test_ffmpeg_sets_and_removes_tags_with_metadata() -> None:
    source = media(Container.MP4, comment="old", genre="Drama")
    argv = build_ffmpeg_argv("ffmpeg", plan(source, comment="new", genre=None), Path("/o.mp4"))
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "-metadata"]
    assert pairs == ["comment=new", "genre="]


def test_tags_xml_escapes_and_drops_what_xml_cannot_hold() -> None:
    text = tags_xml((("comment", "a & <b> \x01ok"), ("note", "ünï")))
    root = ElementTree.fromstring(text.encode("utf-8"))
    (tag,) = root.findall("Tag")
    assert tag.find("Targets") is not None and len(tag.find("Targets")) == 0  # type: ignore[arg-type]
    names = [(s.findtext("Name"), s.findtext("String")) for s in tag.findall("Simple")]
    assert names == [("COMMENT", "a & <b> ok"), ("NOTE", "ünï")]


def test_the_tags_file_exists_only_while_the_tool_runs(tmp_path: Path) -> None:
    changed = plan(media(encoder="Lavf"), comment="new")
    with global_tags_file(changed, tmp_path) as path:
        assert path is not None
        assert "<String>new</String>" in path.read_text(encoding="utf-8")
    assert not path.exists()
    with global_tags_file(plan(media(encoder="Lavf"), encoder=None), tmp_path) as none:
        assert none is None
    assert list(tmp_path.iterdir()) == []
