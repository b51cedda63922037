"""``vpo inspect`` end to end: CliRunner for most cases, one real process for the entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.cli.render.tracks import media_to_dict
from vpo.errors import ExitCode
from vpo.probe.probe import probe_file
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

MKV = MediaSpec(
    container="mkv",
    audio=(
        AudioSpec(language="eng", title="Main", default=True, channels=6),
        AudioSpec(codec="ac3", language="fre", language_ietf="fr-CA", commentary=True),
    ),
    subtitles=(SubtitleSpec(language="ger", title="[bold]SDH[/bold]", hearing_impaired=True),),
    font_attachment=True,
    chapters=2,
    title="Inspect Me",
)
MP4 = MediaSpec(container="mp4", audio=(AudioSpec(language="spa", default=True),))


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["inspect", *args], catch_exceptions=False)


def test_table_shows_header_and_every_track(media_factory: MediaFactory) -> None:
    path = media_factory(MKV)
    result = run(str(path))
    assert result.exit_code == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}: Matroska, 0:00:02, ")
    assert "1 attachment, 2 chapters, title 'Inspect Me'" in lines[0]
    rows = [line.split() for line in lines[2:6]]
    assert [row[:3] for row in rows] == [
        ["0", "video", "H.264/AVC"],
        ["1", "audio", "AAC"],
        ["2", "audio", "AC-3"],
        ["3", "subtitle", "SubRip"],
    ]
    assert lines[3].split()[3:6] == ["eng", "Main", "D"]
    assert "6 ch" in lines[3] and "48 kHz" in lines[3]
    assert "fre (fr-CA)" in lines[4] and " C " in lines[4]
    assert "[bold]SDH[/bold]" in lines[5] and " HI " in lines[5]  # markup shown, not applied
    assert lines[-1].startswith("flags: D default")
    assert result.stderr == ""


def test_several_files_and_a_bad_one(
    media_factory: MediaFactory, broken_factory: Callable[..., Path], tmp_path: Path
) -> None:
    good_mkv = media_factory(MKV)
    good_mp4 = media_factory(MP4)
    broken = broken_factory(BrokenKind.TRUNCATED_MKV, "cut.mkv")
    result = run(str(good_mkv), str(broken), str(good_mp4))
    assert result.exit_code == ExitCode.FILES_FAILED
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"vpo: {broken}: truncated Matroska file: segment declares ")
    assert f"{good_mkv}: Matroska" in result.stdout
    assert f"{good_mp4}: MP4" in result.stdout
    assert str(broken) not in result.stdout


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (BrokenKind.ZERO_BYTES, "empty file (0 bytes)"),
        (BrokenKind.RANDOM_BYTES, "not a media file or corrupt: Invalid data found"),
        (BrokenKind.TEXT_AS_MKV, "not a media file or corrupt: Invalid data found"),
    ],
)
def test_bad_files_give_one_line_and_exit_1(
    kind: BrokenKind, message: str, broken_factory: Callable[..., Path]
) -> None:
    path = broken_factory(kind, "bad file.mkv")
    result = run(str(path))
    assert result.exit_code == ExitCode.FILES_FAILED
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"vpo: {path}: {message}")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.mkv"), str(tmp_path))
    assert result.exit_code == ExitCode.FILES_FAILED
    assert result.stderr.splitlines() == [
        f"vpo: {tmp_path / 'nope.mkv'}: file not found",
        f"vpo: {tmp_path}: not a regular file: it is a directory",
    ]


def test_newline_in_a_name_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "two\nlines.mkv"
    path.write_bytes(b"")
    result = run(str(path))
    assert result.stderr.splitlines() == [f"vpo: {tmp_path}/two\\nlines.mkv: empty file (0 bytes)"]


def test_leading_dash_after_double_dash(
    media_factory: MediaFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media_factory(MP4, "-dash.mp4")
    monkeypatch.chdir(path.parent)
    result = run("--", "-dash.mp4")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert result.stdout.startswith("-dash.mp4: MP4")


def test_json_document(
    media_factory: MediaFactory, broken_factory: Callable[..., Path], tools: ToolPaths
) -> None:
    mkv = media_factory(MKV)
    empty = broken_factory(BrokenKind.ZERO_BYTES, "empty.mkv")
    result = run("--json", str(mkv), str(empty))
    assert result.exit_code == ExitCode.FILES_FAILED
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["schema"] == "vpo.inspect/1"
    assert document["files"] == [media_to_dict(probe_file(mkv, tools))]
    assert document["errors"] == [
        {"path": str(empty), "error": "empty", "message": "empty file (0 bytes)"}
    ]
    (entry,) = document["files"]
    assert entry["container"] == "mkv"
    assert entry["title"] == "Inspect Me"
    assert [t["language"] for t in entry["tracks"]] == ["und", "eng", "fre", "ger"]
    assert entry["tracks"][2]["language_ietf"] == "fr-CA"
    assert entry["tracks"][3]["flags"]["hearing_impaired"] is True
    assert entry["attachments"][0]["mime_type"]
    assert result.stderr.splitlines() == [f"vpo: {empty}: empty file (0 bytes)"]


def test_json_with_only_good_files_exits_0(media_factory: MediaFactory) -> None:
    result = run("--json", str(media_factory(MP4)))
    assert result.exit_code == ExitCode.OK
    document = json.loads(result.stdout)
    assert document["errors"] == []
    assert document["files"][0]["container"] == "mp4"


def test_missing_tool_stops_before_any_file(
    media_factory: MediaFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VPO_TOOLS_MKVMERGE", str(tmp_path / "no-such-mkvmerge"))
    result = run("--json", str(media_factory(MP4)))
    assert result.exit_code == ExitCode.TOOL_MISSING
    assert result.stdout == ""
    assert result.stderr.startswith("vpo: mkvmerge not found")
    assert "vpo doctor" in result.stderr


def test_no_arguments_is_a_usage_error() -> None:
    result = run()
    assert result.exit_code == ExitCode.USAGE
    assert "Missing argument 'FILES...'" in result.stderr


def test_real_process_exit_codes_and_json(
    media_factory: MediaFactory, broken_factory: Callable[..., Path]
) -> None:
    vpo = Path(sys.executable).parent / "vpo"
    good = media_factory(MKV)
    bad = broken_factory(BrokenKind.RANDOM_BYTES, "noise.mkv")
    completed = subprocess.run(
        [str(vpo), "inspect", "--json", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),  # the isolated HOME/XDG/VPO_CONFIG of this test
        check=False,
    )
    assert completed.returncode == ExitCode.FILES_FAILED
    document = json.loads(completed.stdout)
    assert [f["path"] for f in document["files"]] == [str(good)]
    assert [e["error"] for e in document["errors"]] == ["not_media"]
    assert completed.stderr.count("\n") == 1
    assert "Traceback" not in completed.stderr

    ok = subprocess.run(
        [str(vpo), "inspect", str(good)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == ExitCode.OK
    assert f"{good}: Matroska" in ok.stdout


def test_crashing_tool_is_reported_per_file(
    media_factory: MediaFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stub = tmp_path / "mkvmerge"
    stub.write_text("#!/bin/sh\necho 'killed by a cosmic ray' >&2\nexit 9\n", encoding="utf-8")
    stub.chmod(0o755)
    monkeypatch.setenv("VPO_TOOLS_MKVMERGE", str(stub))
    mkv = media_factory(MKV)
    mp4 = media_factory(MP4)
    result = run("--json", str(mkv), str(mp4))
    assert result.exit_code == ExitCode.FILES_FAILED
    document = json.loads(result.stdout)
    assert [f["container"] for f in document["files"]] == ["mp4"]
    assert document["errors"] == [
        {
            "path": str(mkv),
            "error": "tool_error",
            "message": "mkvmerge failed (exit 9): killed by a cosmic ray",
        }
    ]


def test_noise_with_a_newline_in_its_name_is_one_line(broken_factory: Callable[..., Path]) -> None:
    path = broken_factory(BrokenKind.RANDOM_BYTES, "noise\nfile: x.mp4")
    result = run(str(path))
    assert result.exit_code == ExitCode.FILES_FAILED
    assert result.stderr.splitlines() == [
        f"vpo: {path.parent}/noise\\nfile: x.mp4: not a media file or corrupt: "
        "Invalid data found when processing input (moov atom not found)"
    ]
