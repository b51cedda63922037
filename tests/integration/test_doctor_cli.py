"""``vpo doctor`` against the real tools, missing tools and stub tools that are too old."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.tools.locate import TOOL_NAMES

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def clean_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("VPO_"):
            monkeypatch.delenv(name)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("VPO_CONFIG", str(path))
    monkeypatch.setenv("VPO_LIBRARY_DATABASE", str(tmp_path / "data" / "library.db"))
    return path


def doctor(*args: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", *args], catch_exceptions=False)


def write_stub(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def checks_by_name(result: Result) -> dict[str, dict[str, object]]:
    document = json.loads(result.stdout)
    assert document["schema"] == "vpo.doctor/1"
    return {check["name"]: check for check in document["checks"]}


def test_all_tools_present_exits_0(tools: object, tmp_path: Path) -> None:
    result = doctor()
    assert result.exit_code == ExitCode.OK, result.output
    lines = result.stdout.splitlines()
    for name in TOOL_NAMES:
        line = next(line for line in lines if line.split()[1:2] == [name])
        assert line.startswith("ok"), line
        assert line.endswith(f"  {shutil.which(name)}"), line
    assert any(str(tmp_path / "config.toml") in line for line in lines)
    assert any(str(tmp_path / "data" / "library.db") in line for line in lines)
    assert lines[-1] == "vpo is ready"


def test_json_report(tools: object, tmp_path: Path) -> None:
    result = doctor("--json")
    assert result.exit_code == ExitCode.OK
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["exit_code"] == 0
    checks = checks_by_name(result)
    assert set(TOOL_NAMES) <= set(checks)
    assert checks["mkvmerge"]["level"] == "ok"
    assert "v" in str(checks["mkvmerge"]["summary"])
    assert checks["database"]["summary"] == (
        f"{tmp_path / 'data' / 'library.db'}  (not created yet; created by the first scan)"
    )


def test_configured_path_that_does_not_exist(
    tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "mkvpropedit"
    monkeypatch.setenv("VPO_TOOLS_MKVPROPEDIT", str(missing))
    result = doctor("--json")
    assert result.exit_code == ExitCode.TOOL_MISSING
    check = checks_by_name(result)["mkvpropedit"]
    assert check["level"] == "fail"
    assert check["summary"] == f"missing: configured path {missing} not found"
    assert check["details"] == [
        "needs 60.0 or newer",
        "without it: in-place metadata edits of Matroska files (flags, languages, titles)",
    ]


def test_tool_missing_from_path(
    tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("ffprobe", "ffmpeg", "mkvpropedit"):
        real = shutil.which(name)
        assert real is not None
        (bin_dir / name).symlink_to(real)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = doctor()
    assert result.exit_code == ExitCode.TOOL_MISSING
    mkvmerge_line = next(line for line in result.stdout.splitlines() if " mkvmerge " in line)
    assert mkvmerge_line.split() == ["FAIL", "mkvmerge", "missing:", "not", "on", "PATH"]
    assert "without it: probing Matroska/WebM files and remuxing them" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("1 problem(s)")


def test_stub_that_reports_an_old_version(
    tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stub = write_stub(
        tmp_path / "old tools", "ffmpeg", 'echo "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright"'
    )
    monkeypatch.setenv("VPO_TOOLS_FFMPEG", str(stub))
    result = doctor("--json")
    assert result.exit_code == ExitCode.TOOL_MISSING
    check = checks_by_name(result)["ffmpeg"]
    assert check["level"] == "fail"
    assert check["summary"] == (
        f"too old: version 4.4.2-0ubuntu0.22.04.1 is older than the minimum 5.0  ({stub})"
    )
    assert checks_by_name(result)["ffprobe"]["level"] == "ok"


def test_stub_mkvtoolnix_too_old_in_config_file(
    tools: object, clean_config: Path, tmp_path: Path
) -> None:
    stub = write_stub(
        tmp_path / "bin", "mkvmerge", "echo \"mkvmerge v59.0.0 ('Shining Star') 64-bit\""
    )
    clean_config.write_text(f'[tools]\nmkvmerge = "{stub}"\n')
    result = doctor()
    assert result.exit_code == ExitCode.TOOL_MISSING
    assert "too old: version v59.0.0 is older than the minimum 60.0" in result.stdout


def test_stub_that_crashes(tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stub = write_stub(
        tmp_path / "bin", "ffprobe", 'echo "error while loading shared libraries" >&2; exit 127'
    )
    monkeypatch.setenv("VPO_TOOLS_FFPROBE", str(stub))
    result = doctor("--json")
    assert result.exit_code == ExitCode.TOOL_MISSING
    assert checks_by_name(result)["ffprobe"]["summary"] == (
        "broken: 'ffprobe -version' failed (exit 127): "
        f"error while loading shared libraries  ({stub})"
    )


def test_git_build_without_a_version_number_is_a_warning(
    tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stub = write_stub(
        tmp_path / "bin", "ffmpeg", 'echo "ffmpeg version N-113000-g1a2b3c4d Copyright"'
    )
    monkeypatch.setenv("VPO_TOOLS_FFMPEG", str(stub))
    result = doctor("--json")
    assert result.exit_code == ExitCode.OK
    assert checks_by_name(result)["ffmpeg"]["level"] == "warn"


def test_database_that_cannot_be_created_is_a_warning(
    tools: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    monkeypatch.setenv("VPO_LIBRARY_DATABASE", str(blocker / "library.db"))
    monkeypatch.setenv("VPO_JOBS_TEMP_DIR", str(blocker))
    result = doctor("--json")
    assert result.exit_code == ExitCode.OK
    checks = checks_by_name(result)
    assert checks["database"]["level"] == "warn"
    assert checks["database"]["summary"] == (
        f"{blocker / 'library.db'}  (cannot be created: {blocker} is not a directory)"
    )
    assert checks["temp dir"]["summary"] == f"{blocker}  (not a directory)"


def test_broken_config_exits_2_with_one_line(clean_config: Path) -> None:
    clean_config.write_text("[tools]\nffmpeg = 3\n")
    result = doctor()
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"vpo: {clean_config}:2: tools.ffmpeg must be a path (string), got 3\n"
