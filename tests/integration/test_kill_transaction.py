"""kill -9 at random instants during 2-phase batches never leaves a half-applied file.

A real ``vpo process`` (two workers) runs on a small batch and is killed with
SIGKILL at an instant drawn (fixed seed) from the time an uninterrupted run spends
after its first tool starts; every other round kills the running tool instead.
After the kill, recovery runs
as the next ``vpo process`` would start with; then every file, read with
``mkvmerge -J``, is the original or the complete final result, and nothing of
vpo's is left beside it. In-place header edits are put back from their journal by
that recovery (docs/apply.md); rewrites never touch the original before the one
rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.apply.recovery import RecoveryKind, recover_leftovers
from vpo.testmedia.spec import MediaSpec
from vpo.testmedia.two_phase import METADATA_POLICY as METADATA
from vpo.testmedia.two_phase import REMUX_POLICY as REMUX
from vpo.testmedia.two_phase import SPEC
from vpo.tools.locate import ToolPaths

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")
FILES = 6
KILLS = 15


Summary = list[tuple[str, str | None, str | None, bool, str]]


def summary(tools: ToolPaths, path: Path) -> Summary:
    identified = subprocess.run(
        [tools.require("mkvmerge"), "-J", str(path)], capture_output=True, check=False
    )
    assert identified.returncode == 0, f"{path.name} is not readable Matroska"
    data = json.loads(identified.stdout)
    return [
        (
            t["type"],
            t["properties"].get("language"),
            t["properties"].get("track_name"),
            bool(t["properties"].get("default_track")),
            t["codec"],
        )
        for t in data["tracks"]
    ]


def start(directory: Path, policy: Path, database: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VPO_JOBS_STABLE_SECONDS": "0", "VPO_PROCESSING_MAX_WORKERS": "2"}
    return subprocess.Popen(
        [
            str(VPO),
            "process",
            "-q",
            "-w",
            "2",
            "--db",
            str(database),
            "-p",
            str(policy),
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def children(pid: int, directory: Path) -> list[int]:
    """Running tools started by ``pid`` on a file of ``directory`` (tools run in
    sessions of their own; version checks at start-up do not count)."""
    found = []
    needle = os.fsencode(directory)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and needle in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def first_tool(process: subprocess.Popen[bytes], directory: Path) -> float:
    """Wait until vpo has started its first tool on the batch (start-up and probing
    are over); returns the moment (time.monotonic)."""
    while process.poll() is None and not children(process.pid, directory):
        time.sleep(0.002)
    return time.monotonic()


def recover(directory: Path) -> list[RecoveryKind]:
    """What the next run does first; waits while an orphaned tool still holds a file."""
    deadline = time.monotonic() + 30
    while True:
        actions = recover_leftovers(directory)
        if not any(a.kind is RecoveryKind.BUSY for a in actions) or time.monotonic() > deadline:
            return [a.kind for a in actions]
        time.sleep(0.05)


def batch(media_factory: MediaFactory, spec: MediaSpec) -> Path:
    paths = [media_factory(spec, f"template/f{i}.mkv") for i in range(FILES)]
    return paths[0].parent


@pytest.mark.parametrize(
    ("policy_text", "spec"),
    [(REMUX, SPEC), (METADATA, MediaSpec(audio=SPEC.audio))],
    ids=["remux", "metadata"],
)
def test_random_kill_9_leaves_each_file_original_or_final(
    policy_text: str, spec: MediaSpec, media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    template = batch(media_factory, spec)
    original = summary(tools, template / "f0.mkv")
    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    process = start(reference, policy, tmp_path / "ref.sqlite")
    began = first_tool(process, reference)
    assert process.wait(timeout=120) == 0
    length = time.monotonic() - began  # from the first tool to the end
    final = summary(tools, reference / "f0.mkv")
    assert final != original
    names = sorted(p.name for p in template.iterdir())

    rng = random.Random(11)
    seen = {"original": 0, "final": 0, "tool killed": 0}
    for round_number in range(KILLS):
        work = tmp_path / f"round{round_number}"
        shutil.copytree(template, work)
        process = start(work, policy, tmp_path / f"round{round_number}.sqlite")
        first_tool(process, work)
        if round_number % 2:
            time.sleep(rng.uniform(0.0, 0.03))  # somewhere in a tool's life
            tools_running = children(process.pid, work)
            for pid in tools_running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            seen["tool killed"] += bool(tools_running)
            process.wait(timeout=120)  # vpo goes on with the other files
        else:
            time.sleep(rng.uniform(0.0, length))
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        kinds = recover(work)
        assert RecoveryKind.FAILED not in kinds and RecoveryKind.BUSY not in kinds, kinds
        assert sorted(p.name for p in work.iterdir()) == names, f"round {round_number}"
        for name in names:
            state = summary(tools, work / name)
            assert state in (original, final), f"round {round_number}: {name} is half-applied"
            seen["original" if state == original else "final"] += 1
    print(seen, f"length {length:.2f} s")
    assert seen["original"] and seen["final"]  # the kills did land mid-batch
