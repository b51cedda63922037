"""A leftover journal is written back only into the file it was made for (issue 10 item 1).

vpo and its mkvpropedit are killed mid-edit; then another file is copied over the
path with ``cp`` (which keeps the inode), or the finished edit is edited again by
another program: recovery (``vpo doctor --repair``, ``vpo process`` start) must set
the journal aside with a warning and leave the file untouched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from vpo.apply.journal import (
    journal_path,
    journal_ranges,
    read_journal,
    record_after_state,
    write_journal,
)
from vpo.apply.recovery import RecoveryKind, recover_leftovers
from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.matroska_layout import read_segment_layout
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
)
OTHER = MediaSpec(audio=(AudioSpec(language="jpn", default=True),), duration=6.0)

# Runs in a child process: an in-place edit whose mkvpropedit kills vpo, then itself.
CHILD = """
import sys
from dataclasses import replace
from pathlib import Path
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.plan import identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.tools.locate import locate_tools

path = Path(sys.argv[1])
tools = replace(locate_tools(), mkvpropedit=sys.argv[2])
plan = identity_plan(probe_matroska_headers(path), "kill-test")
tracks = list(plan.tracks)
tracks[2] = replace(tracks[2], title="Killed", language="spa")
apply_plan(replace(plan, tracks=tuple(tracks)), tools, ApplySettings(stable_seconds=0.0))
"""


def _kill_mid_edit(path: Path) -> Path:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(STUBS / "mkvpropedit-die-mid-write")],
        capture_output=True,
        env={**os.environ, "VPO_STUB_KILL_PARENT": "1"},
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    _wait_for_the_stub_to_exit(path)
    journal = journal_path(path)
    assert journal.exists()
    return journal


def _wait_for_the_stub_to_exit(path: Path) -> None:
    """The stub kills vpo, then itself: under load it can still be alive when vpo's
    exit is seen, and recovery rightly calls the file busy while its tool lives."""
    marker = b"mkvpropedit-die-mid-write"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = False
        for entry in Path("/proc").iterdir():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in command and os.fsencode(path) in command:
                alive = True
                break
        if not alive:
            return
        time.sleep(0.02)
    raise AssertionError(f"the stub editing {path} did not exit within 10 s")


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_file_copied_over_a_killed_edit_keeping_the_inode_is_not_restored_into(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    other = media_factory(OTHER, "other/new.mkv")
    inode = path.stat().st_ino
    _kill_mid_edit(path)
    subprocess.run(["cp", str(other), str(path)], check=True)
    assert path.stat().st_ino == inode  # cp wrote into the same inode
    new_bytes = path.read_bytes()
    actions = recover_leftovers(path.parent)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.SET_ASIDE, path)]
    assert actions[0].detail == (
        "not the file the interrupted edit's journal was written for (other content (bytes "
        "no edit writes differ)); left untouched; journal kept as "
        "movie.mkv.vpo-journal-set-aside.json"
    )
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == ["movie.mkv", "movie.mkv.vpo-journal-set-aside.json"]


def test_doctor_repair_sets_the_journal_aside_naming_both_files(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    other = media_factory(OTHER, "other/new.mkv")
    _kill_mid_edit(path)
    subprocess.run(["cp", str(other), str(path)], check=True)
    new_bytes = path.read_bytes()
    result = CliRunner().invoke(cli, ["doctor", "--repair", str(path.parent)])
    assert result.exit_code == ExitCode.FILES_FAILED, result.output
    assert "set-aside: " in result.output
    assert "movie.mkv: not the file the interrupted edit's journal was written for" in (
        result.output
    )
    assert "journal kept as movie.mkv.vpo-journal-set-aside.json" in result.output
    assert path.read_bytes() == new_bytes


def test_a_killed_edit_of_the_same_file_is_still_restored(media_factory: MediaFactory) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    _kill_mid_edit(path)
    assert path.read_bytes() != original
    actions = recover_leftovers(path.parent)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.RESTORED, path)]
    assert path.read_bytes() == original
    assert listing(path.parent) == ["movie.mkv"]


def _journal_finished_edit(path: Path, mkvpropedit: str) -> None:
    """What a kill right after mkvpropedit exited leaves: the edit and its journal
    with the after-state recorded."""
    current = path.stat()
    ranges = journal_ranges(read_segment_layout(path))
    assert ranges is not None
    journal = read_journal(path, current, ranges)
    write_journal(path, journal)
    subprocess.run(
        [mkvpropedit, str(path), "--edit", "track:a2", "--set", "language=spa"],
        check=True,
        capture_output=True,
    )
    record_after_state(path, journal)


def test_a_finished_edit_left_with_its_journal_is_undone(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    _journal_finished_edit(path, tools.require("mkvpropedit"))
    actions = recover_leftovers(path.parent)
    assert [a.kind for a in actions] == [RecoveryKind.RESTORED]
    assert path.read_bytes() == original


def test_a_user_edit_after_the_finished_edit_is_never_overwritten(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    _journal_finished_edit(path, tools.require("mkvpropedit"))
    subprocess.run(
        [tools.require("mkvpropedit"), str(path), "--edit", "info", "--set", "title=Mine"],
        check=True,
        capture_output=True,
    )
    edited = path.read_bytes()
    actions = recover_leftovers(path.parent)
    assert [a.kind for a in actions] == [RecoveryKind.SET_ASIDE]
    assert "changed after vpo's edit finished" in actions[0].detail
    assert path.read_bytes() == edited
    assert probe_matroska_headers(path).title == "Mine"


def test_vpo_process_sets_the_journal_aside_at_start_and_says_so(
    media_factory: MediaFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    other = media_factory(OTHER, "other/new.mkv")
    _kill_mid_edit(path)
    subprocess.run(["cp", str(other), str(path)], check=True)
    new_bytes = path.read_bytes()
    policy = tmp_path / "policy.yaml"
    policy.write_text("schema_version: 12\nphases:\n  - name: nothing\n", encoding="utf-8")
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    result = CliRunner().invoke(
        cli,
        ["process", "--db", str(tmp_path / "l.sqlite"), "-p", str(policy), "-q", str(path.parent)],
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "vpo: recovery: " in result.output
    assert "not the file the interrupted edit's journal was written for" in result.output
    assert path.read_bytes() == new_bytes
    assert (path.parent / "movie.mkv.vpo-journal-set-aside.json").exists()
