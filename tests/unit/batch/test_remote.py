"""What runs on a Dask worker, run here in-process (no cluster needed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vpo.batch import remote
from vpo.batch.pathmap import PathMap
from vpo.batch.remote import Preflight

COUNTING_MKVMERGE = """#!/bin/sh
# mkvmerge that notes each call in $STUB_CALLS, then runs the real one.
echo "$*" >> "$STUB_CALLS"
exec "$REAL_MKVMERGE" "$@"
"""


@pytest.fixture
def counting_mkvmerge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A counting mkvmerge first on PATH; the stub and its log of calls."""
    real = shutil.which("mkvmerge")
    assert real is not None
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "mkvmerge"
    stub.write_text(COUNTING_MKVMERGE, encoding="utf-8")
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{stub_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_CALLS", str(calls))
    monkeypatch.setenv("REAL_MKVMERGE", real)
    monkeypatch.setattr(remote, "_TOOLS_PASSED", set())
    return stub, calls


def version_calls(calls: Path) -> int:
    return calls.read_text(encoding="utf-8").count("--version") if calls.exists() else 0


def test_a_worker_checks_each_tool_binary_once_and_a_replaced_one_again(
    counting_mkvmerge: tuple[Path, Path],
) -> None:
    stub, calls = counting_mkvmerge
    check = Preflight(None, (), PathMap(), ("mkvmerge",))
    assert check() is None
    assert check() is None  # the next batch on this worker: no second -version
    assert version_calls(calls) == 1
    stub.write_text(COUNTING_MKVMERGE + "# replaced\n", encoding="utf-8")  # a new binary
    assert check() is None
    assert version_calls(calls) == 2


def test_a_tool_that_failed_its_check_is_checked_again(
    counting_mkvmerge: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, calls = counting_mkvmerge
    check = Preflight(None, (), PathMap(), ("mkvmerge",))
    monkeypatch.setenv("REAL_MKVMERGE", "/bin/false")  # fails its -version
    first = check()
    assert first is not None and first.startswith("mkvmerge ")
    monkeypatch.setenv("REAL_MKVMERGE", str(shutil.which("true")))
    assert check() is not None  # still checked: prints no version
    assert version_calls(calls) == 2
