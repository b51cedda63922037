"""Files that other programs change while vpo works on them (issue 10 items 1, 2).

A stub tool (tests/stubs/pause-after) runs the real tool, then pauses until the
test has replaced, edited, appended to or deleted the original: no timing luck.
In every case the other program's write wins and vpo reports the file as
"changed during processing" (skipped; processed again next run).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.apply import execute
from vpo.apply import identity as identity_module
from vpo.apply import replace as replace_module
from vpo.apply.errors import FileChangedError
from vpo.apply.execute import ApplyOutcome, apply_plan
from vpo.apply.identity import FileIdentity
from vpo.apply.settings import ApplySettings
from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.media.model import Container, MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
SETTINGS = ApplySettings(stable_seconds=0.0)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
)
RELEASE = MediaSpec(audio=(AudioSpec(language="jpn", default=True),))
MP4 = MediaSpec(container="mp4", audio=(AudioSpec(default=True), AudioSpec()))


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    return replace(
        plan,
        tracks=plan.tracks[:2],
        removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")),
    )


def header_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    tracks = list(plan.tracks)
    tracks[2] = replace(tracks[2], language="spa", title="Spanish")
    return replace(plan, tracks=tuple(tracks))


@dataclass
class Paused:
    """Runs apply_plan in a thread with ``tool`` replaced by the pausing stub."""

    control: Path
    outcome: ApplyOutcome | None = None
    error: BaseException | None = None

    def run(
        self, plan: Plan, tools: ToolPaths, tool: str, during: Callable[[], None], **kw: object
    ) -> None:
        settings = replace(SETTINGS, **kw)  # type: ignore[arg-type]
        stubbed = replace(tools, **{tool: str(STUBS / "pause-after")})
        os.environ["VPO_STUB_REAL"] = tools.require(tool)  # the fixture restores it

        def work() -> None:
            try:
                self.outcome = apply_plan(plan, stubbed, settings)
            except BaseException as error:
                self.error = error

        thread = threading.Thread(target=work)
        thread.start()
        deadline = time.monotonic() + 60
        while not (self.control / "paused").exists():
            assert thread.is_alive(), f"the tool never paused: {self.error!r}"
            assert time.monotonic() < deadline, "the stub never paused"
            time.sleep(0.01)
        during()
        (self.control / "resume").touch()
        thread.join(60)
        assert not thread.is_alive()


@pytest.fixture
def paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paused]:
    control = tmp_path / "control"
    control.mkdir()
    monkeypatch.setenv("VPO_STUB_PAUSED", str(control / "paused"))
    monkeypatch.setenv("VPO_STUB_RESUME", str(control / "resume"))
    monkeypatch.setenv("VPO_STUB_REAL", "")
    yield Paused(control)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _assert_changed(error: BaseException | None, path: Path, change: str) -> None:
    assert isinstance(error, FileChangedError), repr(error)
    assert error.skipped
    assert str(error) == (
        f"{path}: changed during processing ({change}) before the rename over it; nothing "
        "replaced, the other program's version is kept; it will be processed again on the "
        "next run"
    )


def test_a_release_moved_over_the_file_during_a_remux_survives(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    release = media_factory(RELEASE, "incoming/new-release.mkv")
    new_bytes = release.read_bytes()
    plan = remux_plan(probe_matroska_headers(path))
    paused.run(plan, tools, "mkvmerge", lambda: release.rename(path))
    _assert_changed(paused.error, path, "replaced by another file")
    assert paused.outcome is None
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv"]


def test_a_release_moved_over_the_file_during_an_ffmpeg_remux_survives(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    probe = pytest.importorskip("vpo.probe.probe")
    path = media_factory(MP4, "lib/movie.mp4")
    release = media_factory(replace(MP4, duration=3.0), "incoming/new-release.mp4")
    new_bytes = release.read_bytes()
    plan = identity_plan(probe.probe_file(path, tools), "test")
    plan = replace(plan, tracks=plan.tracks[:2], removed=(RemovedTrack(2, "x"),))
    paused.run(plan, tools, "ffmpeg", lambda: release.rename(path))
    _assert_changed(paused.error, path, "replaced by another file")
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mp4"]


def test_a_title_edited_with_mkvpropedit_during_a_remux_is_kept(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    plan = remux_plan(probe_matroska_headers(path))
    edited: list[bytes] = []

    def edit_title() -> None:
        subprocess.run(
            [tools.require("mkvpropedit"), str(path), "--edit", "info", "--set", "title=Mine"],
            check=True,
            capture_output=True,
        )
        edited.append(path.read_bytes())

    paused.run(plan, tools, "mkvmerge", edit_title)
    assert paused.error is not None
    assert isinstance(paused.error, FileChangedError)
    assert path.read_bytes() == edited[0]
    assert probe_matroska_headers(path).title == "Mine"
    assert listing(path.parent) == ["movie.mkv"]


def test_data_appended_during_a_remux_is_kept(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    size = path.stat().st_size
    plan = remux_plan(probe_matroska_headers(path))

    def append() -> None:
        with path.open("ab") as stream:
            stream.write(b"more data" * 100)

    paused.run(plan, tools, "mkvmerge", append)
    _assert_changed(paused.error, path, f"size {size} → {size + 900} bytes")
    assert path.read_bytes().endswith(b"more data" * 100)
    assert listing(path.parent) == ["movie.mkv"]


def test_a_file_deleted_during_a_remux_does_not_come_back(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    plan = remux_plan(probe_matroska_headers(path))
    paused.run(plan, tools, "mkvmerge", path.unlink)
    _assert_changed(paused.error, path, "moved away or deleted")
    assert listing(path.parent) == []


def test_keep_backup_with_a_moved_in_release_keeps_no_backup_of_it(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    release = media_factory(RELEASE, "incoming/new-release.mkv")
    new_bytes = release.read_bytes()
    plan = remux_plan(probe_matroska_headers(path))
    paused.run(plan, tools, "mkvmerge", lambda: release.rename(path), keep_backup=True)
    _assert_changed(paused.error, path, "replaced by another file")
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv"]


def test_the_window_between_check_and_rename_is_closed_by_the_exchange(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release lands after the last check but before the swap: the swapped-out
    file is checked again and swapped back, so the release survives."""
    path = media_factory(SPEC, "lib/movie.mkv")
    release = media_factory(RELEASE, "incoming/new-release.mkv")
    new_bytes = release.read_bytes()
    real_check = identity_module.check_identity

    def check_then_race(where: Path, planned: FileIdentity, *, step: str) -> None:
        real_check(where, planned, step=step)
        if release.exists():
            release.rename(path)

    monkeypatch.setattr(replace_module, "check_identity", check_then_race)
    with pytest.raises(FileChangedError) as caught:
        apply_plan(remux_plan(probe_matroska_headers(path)), tools, SETTINGS)
    _assert_changed(caught.value, path, "replaced by another file")
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv"]


def test_a_conversion_does_not_remove_a_release_moved_in_meanwhile(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media_factory(MP4, "lib/m.mp4")
    release = media_factory(RELEASE, "incoming/new-release.mp4")
    new_bytes = release.read_bytes()
    probe = pytest.importorskip("vpo.probe.probe")
    plan = identity_plan(probe.probe_file(path, tools), "test")
    plan = replace(plan, container=Container.MATROSKA)
    real_check = identity_module.check_identity

    def check_then_race(where: Path, planned: FileIdentity, *, step: str) -> None:
        real_check(where, planned, step=step)
        if release.exists():
            release.rename(path)

    monkeypatch.setattr(replace_module, "check_identity", check_then_race)
    with pytest.raises(FileChangedError):
        apply_plan(plan, tools, SETTINGS)
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["m.mp4"]


def test_a_file_changed_just_before_an_in_place_edit_is_not_edited(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    plan = header_plan(probe_matroska_headers(path))
    original_write = execute.write_journal

    def write_then_append(media: Path, journal: object) -> Path:
        written = original_write(media, journal)  # type: ignore[arg-type]
        with media.open("ab") as stream:
            stream.write(b"appended by someone else")
        return written

    monkeypatch.setattr(execute, "write_journal", write_then_append)
    with pytest.raises(FileChangedError, match="before the in-place edit"):
        apply_plan(plan, tools, SETTINGS)
    assert path.read_bytes().endswith(b"appended by someone else")
    assert listing(path.parent) == ["movie.mkv"]


STRIP_POLICY = """\
schema_version: 12
phases:
  - name: strip
    audio_filter: {languages: [eng]}
"""


def test_vpo_process_reports_a_release_moved_in_as_skipped_and_exits_0(
    media_factory: MediaFactory,
    tools: ToolPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    paused: Paused,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    release = media_factory(RELEASE, "incoming/new-release.mkv")
    new_bytes = release.read_bytes()
    policy = tmp_path / "policy.yaml"
    policy.write_text(STRIP_POLICY, encoding="utf-8")
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    monkeypatch.setenv("VPO_TOOLS_MKVMERGE", str(STUBS / "pause-after"))
    monkeypatch.setenv("VPO_STUB_REAL", tools.require("mkvmerge"))
    results: list[Result] = []

    def work() -> None:
        database = tmp_path / "lib.sqlite"
        results.append(
            CliRunner().invoke(
                cli, ["process", "--db", str(database), "-p", str(policy), str(path.parent)]
            )
        )

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 60
    while not (paused.control / "paused").exists():
        assert thread.is_alive() and time.monotonic() < deadline, results
        time.sleep(0.01)
    release.rename(path)
    (paused.control / "resume").touch()
    thread.join(60)
    [result] = results
    assert result.exit_code == ExitCode.OK, result.output
    assert "changed during processing (replaced by another file)" in result.output
    assert "1 skipped" in result.output
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv"]


def test_a_directory_renamed_during_a_remux_keeps_no_temp(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    renamed = path.parent.with_name("renamed")
    plan = remux_plan(probe_matroska_headers(path))
    paused.run(plan, tools, "mkvmerge", lambda: path.parent.rename(renamed))
    _assert_changed(paused.error, path, "moved away or deleted")
    assert listing(renamed) == ["movie.mkv"]  # no 1 GB temp left behind
    assert (renamed / "movie.mkv").read_bytes() == original


def test_without_rename_exchange_the_check_before_the_rename_still_holds(
    media_factory: MediaFactory, tools: ToolPaths, paused: Paused, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without RENAME_EXCHANGE: check, then a plain rename."""
    monkeypatch.setattr(replace_module, "exchange", lambda a, b: False)
    path = media_factory(SPEC, "lib/movie.mkv")
    release = media_factory(RELEASE, "incoming/new-release.mkv")
    new_bytes = release.read_bytes()
    paused.run(remux_plan(probe_matroska_headers(path)), tools, "mkvmerge", lambda: None)
    assert paused.error is None and paused.outcome is not None
    assert len(probe_matroska_headers(path).tracks) == 2
    (paused.control / "paused").unlink()
    (paused.control / "resume").unlink()
    plan = identity_plan(probe_matroska_headers(path), "test")
    tracks = list(plan.tracks)
    tracks[1] = replace(tracks[1], language="spa")
    paused.run(
        replace(plan, tracks=tuple(tracks)),
        tools,
        "mkvpropedit",
        lambda: release.rename(path),
        keep_backup=True,
    )
    _assert_changed(paused.error, path, "replaced by another file")
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv"]
