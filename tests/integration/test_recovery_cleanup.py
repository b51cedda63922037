"""Temps in ``[jobs] temp_dir`` are cleaned like those beside the media, and a temp
that a live process still writes is never deleted (issue 10 item 7)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vpo.apply.names import temp_name
from vpo.apply.recovery import RecoveryKind, processes_using, recover_leftovers
from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
POLICY = """\
schema_version: 12
phases:
  - name: strip
    audio_filter: {languages: [eng]}
"""


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``[jobs] temp_dir`` holding a temp left by a killed vpo (dead pid)."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    (directory / temp_name("movie.mkv", _dead_pid(), "0123abcd")).write_bytes(b"x" * 4096)
    (directory / "someone-elses-file").write_bytes(b"keep")
    monkeypatch.setenv("VPO_JOBS_TEMP_DIR", str(directory))
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    return directory


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_the_next_run_cleans_the_temp_dir(
    media_factory: MediaFactory, scratch: Path, tmp_path: Path
) -> None:
    movie = media_factory(MediaSpec(audio=(AudioSpec(language="eng", default=True),)), "lib/a.mkv")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["process", "--db", str(tmp_path / "l.sqlite"), "-p", str(policy), str(movie.parent)]
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "left by process" in result.output
    assert listing(scratch) == ["someone-elses-file"]


def test_doctor_repair_cleans_the_temp_dir(media_factory: MediaFactory, scratch: Path) -> None:
    movie = media_factory(MediaSpec(), "lib/a.mkv")
    result = CliRunner().invoke(cli, ["doctor", "--repair", str(movie.parent)])
    assert result.exit_code == ExitCode.OK, result.output
    assert "removed-temp: " in result.output
    assert listing(scratch) == ["someone-elses-file"]


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A temp named after a dead vpo, still held open by a live process (what a tool
    orphaned by kill -9 of vpo looks like)."""
    temp = tmp_path / temp_name("movie.mkv", _dead_pid(), "0123abcd")
    process = subprocess.Popen(
        ["sh", "-c", 'exec 3>>"$1"; echo open; exec sleep 60', "sh", str(temp)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "open\n"  # the descriptor is open now
    yield temp, process
    process.kill()
    process.wait()


def test_a_temp_a_live_process_writes_is_never_deleted(
    writer: tuple[Path, subprocess.Popen[str]],
) -> None:
    temp, process = writer
    assert processes_using(temp) == [process.pid]
    actions = recover_leftovers(temp.parent)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.BUSY, temp)]
    assert actions[0].detail == (
        f"temp file still open in process {process.pid}; left until it has exited"
    )
    assert temp.exists()
    process.kill()
    process.wait()
    actions = recover_leftovers(temp.parent)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.REMOVED_TEMP, temp)]
    assert not temp.exists()


SLEEPER = "import time; print('started', flush=True); time.sleep(60)"


def test_processes_using_sees_a_path_named_in_argv(tmp_path: Path) -> None:
    target = tmp_path / "movie.mkv"
    target.write_bytes(b"x")
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "started\n"
        assert processes_using(target) == [process.pid]
    finally:
        process.kill()
        process.wait()
    assert processes_using(target) == []
