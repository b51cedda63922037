"""Issue 10 item 9: the library counts a file once however its path was typed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: defaults
    default_flags: {set_preferred_audio_default: true}
"""


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


def vpo(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def status(db: Path) -> Any:
    result = vpo("status", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def library_dir(media_factory: MediaFactory, tmp_path: Path) -> Path:
    spec = MediaSpec(audio=(AudioSpec(language="eng"),))
    media_factory(spec, "films/a.mkv")
    media_factory(spec, "films/b.mkv")
    (tmp_path / "films-link").symlink_to(tmp_path / "films")
    return tmp_path / "films"


def test_process_dot_then_absolute_then_symlink_then_scan_counts_each_file_once(
    library_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "lib.db"
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(library_dir)
    for target in (".", library_dir, tmp_path / "films-link"):
        result = vpo("process", "--db", db, "-p", policy, "-q", target)
        assert result.exit_code == 0, result.output
        assert status(db)["files"] == 2, f"after process {target}"
    for target in (".", os.fspath(tmp_path / "films-link")):
        result = vpo("scan", "--db", db, "-q", target)
        assert result.exit_code == 0, result.output
        assert status(db)["files"] == 2, f"after scan {target}"
