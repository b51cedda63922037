"""Ctrl-C or SIGTERM during ``vpo scan``: finished probes are kept, the summary says so,
exit 130 (143 after SIGTERM)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from vpo.library import Library, LibraryError
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VPO = str(Path(sys.executable).parent / "vpo")
FILES = 4000


def stored_files(database: Path) -> int:
    try:
        with Library.open(database) as library:
            return library.totals().files
    except LibraryError:
        return 0  # not created yet


@pytest.mark.parametrize(
    ("signum", "code", "notice"),
    [
        (signal.SIGINT, 130, "Interrupted: finishing the files in progress"),
        (signal.SIGTERM, 143, "SIGTERM received: starting no new files"),
    ],
)
def test_first_ctrl_c_or_sigterm_stops_cleanly(
    media_factory: Any, tmp_path: Path, signum: signal.Signals, code: int, notice: str
) -> None:
    source = media_factory(MediaSpec(container="mkv", audio=(AudioSpec(),)), "source.mkv")
    for n in range(FILES):
        folder = tmp_path / "lib" / f"{n // 100:03}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / f"{n:05}.mkv")
    database = tmp_path / "library.db"

    scan = subprocess.Popen(
        [VPO, "scan", "--db", str(database), "--json", str(tmp_path / "lib")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while stored_files(database) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until the first batch is written: the handler is installed
    scan.send_signal(signum)
    stdout, stderr = scan.communicate(timeout=60)

    assert scan.returncode == code, stderr
    assert notice in stderr
    assert "Traceback" not in stderr
    summary = json.loads(stdout)
    assert summary["interrupted"] is True
    assert 0 < summary["found"] < FILES
    assert summary["new"] == summary["found"]
    assert stored_files(database) == summary["new"]  # every finished probe was written
