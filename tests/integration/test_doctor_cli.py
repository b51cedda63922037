"""``vpo doctor`` against the real tools, missing tools and stub tools that are too old."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.doctor_cmd import (
    CheckResult,
    Level,
    database_result,
    exit_code_for,
    temp_dir_result,
    tool_result,
    writable_blocker,
)
from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.tools.locate import TOOL_NAMES
from vpo.tools.versions import ToolVersion, assess_tool


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


@pytest.mark.integration
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


@pytest.mark.integration
def test_json_report(tools: object, tmp_path: Path) -> None:
    result = doctor("--json")
    assert result.exit_code == ExitCode.OK
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["exit_code"] == 0
    checks = checks_by_name(result)
    assert set(TOOL_NAMES) <= set(checks)
    mkvmerge = checks["mkvmerge"]
    assert mkvmerge["level"] == "ok"
    assert mkvmerge["path"] == shutil.which("mkvmerge")
    assert mkvmerge["state"] == "ok"
    assert mkvmerge["minimum"] == "60.0"
    assert mkvmerge["summary"] == f"{mkvmerge['version']}  {mkvmerge['path']}"
    number = mkvmerge["version_number"]
    assert isinstance(number, list) and number[0] >= 60
    assert checks["config file"]["exists"] is False
    assert checks["database"]["exists"] is False
    assert checks["database"]["summary"] == (
        f"{tmp_path / 'data' / 'library.db'}  (not created yet; created by the first scan)"
    )


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.integration
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
    assert check["version_number"] == [4, 4, 2]
    assert check["state"] == "too old"
    assert checks_by_name(result)["ffprobe"]["level"] == "ok"


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.integration
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


# Pure verdicts: no tools needed.


def test_tool_result_levels_and_exit_codes() -> None:
    ok = tool_result(assess_tool("ffmpeg", "/usr/bin/ffmpeg", ToolVersion("ffmpeg", "5.1", (5, 1))))
    assert (ok.level, ok.summary, ok.exit_code) == (Level.OK, "5.1  /usr/bin/ffmpeg", ExitCode.OK)
    git = tool_result(assess_tool("ffmpeg", "/x/ffmpeg", ToolVersion("ffmpeg", "N-1-gabc", None)))
    assert git.level is Level.WARN and git.exit_code is ExitCode.OK
    old = tool_result(
        assess_tool("mkvmerge", "/x/mkvmerge", ToolVersion("mkvmerge", "v50.0.0", (50, 0, 0)))
    )
    assert old.level is Level.FAIL and old.exit_code is ExitCode.TOOL_MISSING
    assert old.details == ("without it: probing Matroska/WebM files and remuxing them",)
    missing = tool_result(assess_tool("ffprobe", None))
    assert missing.summary == "missing: not on PATH"
    assert missing.exit_code is ExitCode.TOOL_MISSING


def test_exit_code_is_decided_by_failures_only() -> None:
    warn = CheckResult("database", Level.WARN, "x")
    fail = CheckResult("ffmpeg", Level.FAIL, "x", exit_code=ExitCode.TOOL_MISSING)
    assert exit_code_for([warn]) is ExitCode.OK
    assert exit_code_for([warn, fail]) is ExitCode.TOOL_MISSING
    assert exit_code_for([]) is ExitCode.OK


def test_writable_blocker(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert writable_blocker(tmp_path / "new" / "deeper" / "db.sqlite", directory=False) is None
    assert writable_blocker(plain, directory=False) is None
    assert writable_blocker(plain, directory=True) == "not a directory"
    assert writable_blocker(tmp_path, directory=False) == "is a directory"
    assert writable_blocker(plain / "db", directory=False) == (
        f"cannot be created: {plain} is not a directory"
    )


def test_database_and_temp_dir_results() -> None:
    db = Path("/data/vpo.db")
    assert database_result(db, True, None).summary == "/data/vpo.db  (exists)"
    assert (
        database_result(db, False, "cannot be created: /data is not writable").level is Level.WARN
    )
    assert temp_dir_result(None, None).level is Level.OK
    assert temp_dir_result(Path("/scratch"), "not writable").summary == "/scratch  (not writable)"
