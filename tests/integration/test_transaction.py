"""One transaction per file: every phase planned first, one write, one replace.

Results are checked with ``mkvmerge -J`` run here, independently of vpo.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.spec import MediaSpec
from vpo.testmedia.two_phase import METADATA_POLICY as TWO_PHASE_METADATA
from vpo.testmedia.two_phase import NAME_FRENCH, REMUX_POLICY, SPEC
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

# French first and default, a German subtitle to drop: phase 1 filters, phase 2
# reorders, sets the default and names the French track.
TWO_PHASE_REMUX = REMUX_POLICY + textwrap.indent(NAME_FRENCH, "    ")  # in the order phase


FINAL_REMUX = [
    ("video", "und", None, True),
    ("audio", "eng", None, True),
    ("audio", "fre", "Francais", False),
    ("subtitles", "eng", None, False),
]


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(tmp_path / "lib.sqlite"), *args])


def document(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def tracks_on_disk(tools: ToolPaths, path: Path) -> list[tuple[str, str | None, str | None, bool]]:
    data = json.loads(
        subprocess.run(
            [tools.require("mkvmerge"), "-J", str(path)], capture_output=True, check=True
        ).stdout
    )
    return [
        (
            t["type"],
            t["properties"].get("language"),
            t["properties"].get("track_name"),
            bool(t["properties"].get("default_track")),
        )
        for t in data["tracks"]
    ]


@pytest.fixture
def policy(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_two_phases_at_four_workers_never_report_busy_and_apply_both(
    media_factory: MediaFactory,
    policy: Callable[[str], Path],
    tools: ToolPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reported bug: at -w 4 a 2-phase policy said 'busy' and applied phase 1 only."""
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "4")
    paths = [media_factory(SPEC, f"lib/f{i:02d}.mkv") for i in range(12)]
    result = run(
        tmp_path, "-p", str(policy(TWO_PHASE_REMUX)), "-w", "4", "--json", str(paths[0].parent)
    )
    files = document(result)["files"]
    assert [f.get("skip_reason") for f in files if f["status"] != "changed"] == []
    assert result.exit_code == ExitCode.OK, result.stderr
    for path in paths:
        assert tracks_on_disk(tools, path) == FINAL_REMUX, path.name


ENCODE_THEN_TITLE = """\
schema_version: 12
phases:
  - name: shrink
    transcode:
      video:
        target_codec: hevc
        quality: {mode: bitrate, bitrate: 40k, preset: ultrafast}
  - name: titles
    conditional:
      - name: name-french
        when: {exists: {track_type: audio, language: fre}}
        then:
          - set_title: {track_type: audio, language: fre, to: "Francais"}
"""
STUBS = Path(__file__).resolve().parents[1] / "stubs" / "process"


def test_after_an_encode_the_next_phase_edits_the_private_temp_and_one_replace_follows(
    media_factory: MediaFactory,
    policy: Callable[[str], Path],
    tools: ToolPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    log = tmp_path / "tools.log"
    for tool in ("mkvmerge", "mkvpropedit", "ffmpeg", "ffprobe"):
        monkeypatch.setenv(f"VPO_TOOLS_{tool.upper()}", str(STUBS / tool))
    monkeypatch.setenv("VPO_STUB_LOG", str(log))
    spec = MediaSpec(width=128, height=96, duration=2.0, audio=SPEC.audio)
    movie = media_factory(spec, "lib/movie.mkv")
    original = movie.read_bytes()
    result = run(
        tmp_path, "-p", str(policy(ENCODE_THEN_TITLE)), "--keep-backup", "--json", str(movie)
    )
    assert result.exit_code == ExitCode.OK, result.stderr
    (entry,) = document(result)["files"]
    assert [(p["phase"], p["status"], p["tool"]) for p in entry["phases"]] == [
        ("shrink", "changed", "ffmpeg"),
        ("titles", "changed", "mkvpropedit"),
    ]
    edits = [
        line.split(" ", 4)[4]
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith("start mkvpropedit")
    ]
    assert len(edits) == 1 and "/.vpo-tmp-" in edits[0]  # the temp copy, never the original
    assert "/movie.mkv " not in edits[0] + " "
    on_disk = json.loads(
        subprocess.run(
            [tools.require("mkvmerge"), "-J", str(movie)], capture_output=True, check=True
        ).stdout
    )
    assert on_disk["tracks"][0]["codec"] == "HEVC/H.265/MPEG-H"
    assert [t["properties"].get("track_name") for t in on_disk["tracks"][1:]] == ["Francais", None]
    (backup,) = [p for p in movie.parent.iterdir() if p != movie]  # one replace, one backup
    assert backup.read_bytes() == original


def test_two_metadata_phases_are_one_in_place_edit_per_file(
    media_factory: MediaFactory,
    policy: Callable[[str], Path],
    tools: ToolPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    log = tmp_path / "tools.log"
    for tool in ("mkvmerge", "mkvpropedit", "ffmpeg", "ffprobe"):
        monkeypatch.setenv(f"VPO_TOOLS_{tool.upper()}", str(STUBS / tool))
    monkeypatch.setenv("VPO_STUB_LOG", str(log))
    paths = [media_factory(MediaSpec(audio=SPEC.audio), f"lib/f{i}.mkv") for i in range(3)]
    inodes = [path.stat().st_ino for path in paths]
    result = run(tmp_path, "-p", str(policy(TWO_PHASE_METADATA)), "-w", "2", str(paths[0].parent))
    assert result.exit_code == ExitCode.OK, result.stderr
    writes = [
        line.split(" ")[1]
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith("start ") and " -J " not in line and " ffprobe " not in line
    ]
    assert writes == ["mkvpropedit"] * 3  # one edit per file for both phases
    assert [path.stat().st_ino for path in paths] == inodes  # in place
    for path in paths:
        assert tracks_on_disk(tools, path)[1:] == [
            ("audio", "fre", "Francais", False),
            ("audio", "eng", None, True),
        ]
