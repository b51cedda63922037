"""Ctrl-C on a real ``vpo process``: exit 130, partial summary, originals intact or fully replaced.

The remux is slowed by the logging wrapper (tests/stubs/process) so the signal
lands while mkvmerge runs; the log says when it started.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
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
STUBS = Path(__file__).resolve().parents[1] / "stubs" / "process"
VPO = Path(sys.executable).with_name("vpo")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_vpo(
    media: Path, tmp_path: Path, *extra: str, remux_seconds: float
) -> tuple[subprocess.Popen[bytes], Path]:
    """``vpo process`` with every remux slowed down; returns the process and the tool log."""
    log = tmp_path / "tools.log"
    policy = tmp_path / "policy.yaml"
    policy.write_text(ORDER_POLICY, encoding="utf-8")
    env = {
        **os.environ,
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_STUB_LOG": str(log),
        "VPO_STUB_SLEEP": str(remux_seconds),
        **{f"VPO_TOOLS_{t.upper()}": str(STUBS / t) for t in ("mkvmerge", "mkvpropedit")},
    }
    argv = [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy)]
    process = subprocess.Popen(
        [*argv, "-w", "1", *extra, str(media)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    return process, log


def wait_for_tool_start(log: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log.exists() and "start mkvmerge" in log.read_text(encoding="utf-8"):
            return
        assert process.poll() is None, "vpo ended before the remux started"
        time.sleep(0.05)
    pytest.fail("the remux never started")


@pytest.fixture
def media(media_factory: MediaFactory) -> Path:
    for i in range(3):
        media_factory(FOREIGN_FIRST, f"media/f{i}.mkv")
    return media_factory(FOREIGN_FIRST, "media/f3.mkv").parent


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".vpo-"))


def test_first_ctrl_c_finishes_the_active_file_and_starts_no_new_one(
    media: Path, tmp_path: Path
) -> None:
    originals = {p.name: digest(p) for p in media.iterdir()}
    process, log = start_vpo(media, tmp_path, "--json", remux_seconds=1.5)
    wait_for_tool_start(log, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == ExitCode.INTERRUPTED, err
    doc = json.loads(out)
    assert doc["summary"]["stopped_early"] is True
    assert doc["summary"]["stop_reason"] == "interrupted"
    assert [(Path(f["path"]).name, f["status"]) for f in doc["files"]] == [("f0.mkv", "changed")]
    assert "Interrupted" in err.decode()
    assert digest(media / "f0.mkv") != originals["f0.mkv"]  # completely replaced
    for name in ("f1.mkv", "f2.mkv", "f3.mkv"):
        assert digest(media / name) == originals[name]
    assert leftovers(media) == []
    assert log.read_text(encoding="utf-8").count("start mkvmerge") == 1


def test_second_ctrl_c_aborts_the_tool_and_keeps_the_original(media: Path, tmp_path: Path) -> None:
    originals = {p.name: digest(p) for p in media.iterdir()}
    process, log = start_vpo(media, tmp_path, remux_seconds=20)
    wait_for_tool_start(log, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - started < 10, "the tool was not aborted (it sleeps 20 s)"
    assert process.returncode == ExitCode.INTERRUPTED, err
    text = out.decode()
    assert "Stopped early: interrupted" in text
    assert text.startswith("1 file: 0 changed, 0 unchanged, 0 skipped, 1 failed")
    assert "f0.mkv: phase 'order': aborted: mkvmerge was stopped (signal 9)" in text
    assert "Aborting" in err.decode() and "Traceback" not in err.decode()
    assert {p.name: digest(p) for p in media.iterdir()} == originals
    assert leftovers(media) == []
