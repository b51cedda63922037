"""SIGTERM, SIGHUP and kill -9 on a real ``vpo process``: what systemd, Docker and a
closing terminal do. No tool may outlive vpo, no temp may stay, and the run must be
recorded as interrupted.

The remux tool is tests/stubs/slow-writer: it writes part of its output, records its
pid, then sleeps as one process, so the process table shows whether it outlived vpo.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.errors import ExitCode
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
VPO = Path(sys.executable).with_name("vpo")


@pytest.fixture
def media(media_factory: MediaFactory) -> Path:
    for i in range(2):
        media_factory(FOREIGN_FIRST, f"media/f{i}.mkv")
    return media_factory(FOREIGN_FIRST, "media/f2.mkv").parent


def start_vpo(media: Path, tmp_path: Path, stop_seconds: float = 0.5) -> subprocess.Popen[bytes]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(ORDER_POLICY, encoding="utf-8")
    env = {
        **os.environ,
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_JOBS_STOP_SECONDS": str(stop_seconds),
        "VPO_STUB_PIDS": str(tmp_path / "pids"),
        "VPO_TOOLS_MKVMERGE": str(STUBS / "slow-writer"),
    }
    argv = [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy)]
    return subprocess.Popen(
        [*argv, "-w", "1", "--json", str(media)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def wait_for_tool(tmp_path: Path, process: subprocess.Popen[bytes]) -> int:
    """The pid of the running slow tool, once it wrote part of its output."""
    pids = tmp_path / "pids"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pids.exists() and pids.read_text().strip():
            return int(pids.read_text().split()[0])
        assert process.poll() is None, process.communicate()[1].decode()
        time.sleep(0.02)
    pytest.fail("the slow tool never started")


def alive(pid: int) -> bool:
    """True while ``pid`` is in the process table and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".vpo-"))


def run_outcomes(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT outcome FROM runs ORDER BY id")]


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, ExitCode.TERMINATED), (signal.SIGHUP, ExitCode.HANGUP)],
)
def test_sigterm_and_sighup_stop_the_tool_leave_no_temp_and_record_the_run_interrupted(
    media: Path, tmp_path: Path, signum: signal.Signals, code: ExitCode
) -> None:
    originals = {p.name: p.read_bytes() for p in media.iterdir()}
    process = start_vpo(media, tmp_path)
    tool = wait_for_tool(tmp_path, process)
    assert leftovers(media), "the slow tool should be writing a temp"
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code, err.decode()
    assert not alive(tool), "the tool outlived vpo"
    assert leftovers(media) == []
    assert {p.name: p.read_bytes() for p in media.iterdir()} == originals
    assert run_outcomes(tmp_path / "lib.sqlite") == ["interrupted"]
    assert f"{signum.name} received" in err.decode()
    assert "Traceback" not in err.decode()
    assert b'"stop_reason": "interrupted"' in out
    assert len((tmp_path / "pids").read_text().split()) == 1, "a second file was started"


def test_kill_9_of_vpo_takes_its_tool_with_it_and_the_next_start_closes_its_run(
    media: Path, tmp_path: Path
) -> None:
    process = start_vpo(media, tmp_path)
    tool = wait_for_tool(tmp_path, process)
    process.kill()
    process.communicate(timeout=10)
    deadline = time.monotonic() + 2
    while alive(tool) and time.monotonic() < deadline:
        time.sleep(0.02)
    still = alive(tool)
    if still:
        os.kill(tool, signal.SIGKILL)
    assert not still, "the tool kept running after vpo was killed"
    assert run_outcomes(tmp_path / "lib.sqlite") == ["running"]

    # The temp it left has no writer any more: repair may (and does) remove it.
    assert leftovers(media), "the killed remux should have left its temp"
    repair = subprocess.run(
        [str(VPO), "doctor", "--repair", str(media)], capture_output=True, check=False
    )
    assert repair.returncode == 0, repair.stderr.decode()
    assert leftovers(media) == []

    (tmp_path / "empty").mkdir()
    again = subprocess.run(
        [
            str(VPO),
            "process",
            "--db",
            str(tmp_path / "lib.sqlite"),
            "-p",
            str(tmp_path / "policy.yaml"),
            str(tmp_path / "empty"),
        ],
        capture_output=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()
    assert run_outcomes(tmp_path / "lib.sqlite") == ["interrupted", "completed"]
    assert "recorded as interrupted" in again.stderr.decode()
