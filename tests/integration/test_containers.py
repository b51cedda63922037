"""A library of AVI, MPEG-TS, MOV and Ogg files next to Matroska: the example
policies process it with no failure, and a second run (fresh library, so every
file is probed again) changes nothing. Results are checked with ffprobe."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"

MIXED = {
    "film.mkv": MediaSpec(
        audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng")),
        subtitles=(SubtitleSpec(language="eng"), SubtitleSpec(language="ger")),
    ),
    "old.avi": MediaSpec(
        container="avi",
        video_codec="mpeg4",
        audio=(AudioSpec(codec="mp3", language=None, title="Main"),),
    ),
    "broadcast.ts": MediaSpec(
        container="ts",
        audio=(
            AudioSpec(codec="ac3", language="fre"),
            AudioSpec(language="eng", hearing_impaired=True),
        ),
    ),
    "camera.mov": MediaSpec(
        container="mov",
        audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng")),
        subtitles=(SubtitleSpec(codec="mov_text", language="eng", default=True),),
    ),
    "free.ogv": MediaSpec(
        container="ogg",
        video_codec="theora",
        audio=(
            AudioSpec(codec="vorbis", language="fre", title="Français"),
            AudioSpec(codec="opus", language="eng"),
        ),
    ),
}


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


@pytest.fixture
def mixed_library(media_factory: MediaFactory) -> Path:
    for name, spec in MIXED.items():
        media_factory(spec, f"lib/{name}")
    return media_factory(MIXED["film.mkv"], "lib/film.mkv").parent


def process(database: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(database), *args])


def statuses(result: Result) -> dict[str, str]:
    files: list[dict[str, Any]] = json.loads(result.stdout)["files"]
    return {Path(f["path"]).name: f["status"] for f in files}


def streams(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(out.stdout)["streams"]
    return [s for s in found if s["codec_type"] != "data"]


@pytest.mark.parametrize("policy", ["english-first", "strip-foreign", "mp4-old-devices"])
def test_mixed_container_library_processes_and_converges(
    mixed_library: Path, tmp_path: Path, policy: str
) -> None:
    policy_path = str(EXAMPLES / f"{policy}.yaml")
    dry = process(
        tmp_path / "dry.sqlite", "-p", policy_path, "--dry-run", "--json", str(mixed_library)
    )
    assert dry.exit_code == ExitCode.OK, dry.stdout + dry.stderr
    planned = {Path(f["path"]).name: f["kind"] for f in json.loads(dry.stdout)["files"]}
    first = process(tmp_path / "first.sqlite", "-p", policy_path, "--json", str(mixed_library))
    assert first.exit_code == ExitCode.OK, first.stdout + first.stderr
    found = statuses(first)
    assert {Path(name).stem for name in found} == {Path(name).stem for name in MIXED}
    assert "failed" not in found.values(), first.stdout
    for name, kind in planned.items():  # dry-run said what the real run did
        assert found[name] == ("unchanged" if kind == "noop" else "changed"), name

    again = process(tmp_path / "second.sqlite", "-p", policy_path, "--json", str(mixed_library))
    assert again.exit_code == ExitCode.OK, again.stdout + again.stderr
    assert set(statuses(again).values()) == {"unchanged"}, again.stdout


def test_english_first_on_avi_is_a_noop_with_a_dry_run_warning(
    mixed_library: Path, tmp_path: Path
) -> None:
    avi = mixed_library / "old.avi"
    before = avi.read_bytes()
    policy = str(EXAMPLES / "english-first.yaml")
    dry = process(tmp_path / "db.sqlite", "-p", policy, "--dry-run", str(avi))
    assert dry.exit_code == ExitCode.OK, dry.stdout + dry.stderr
    assert "phase order: no change (container avi)" in dry.stdout
    assert (
        "warning: AVI cannot store track default flags; not planned: video #0 default on, "
        "audio #1 default on"
    ) in dry.stdout
    real = process(tmp_path / "db.sqlite", "-p", policy, "--json", str(avi))
    assert real.exit_code == ExitCode.OK, real.stdout + real.stderr
    assert statuses(real) == {"old.avi": "unchanged"}
    assert avi.read_bytes() == before


def test_english_first_reorders_mpegts_languages_and_drops_no_flag_it_can_keep(
    mixed_library: Path, tmp_path: Path
) -> None:
    ts = mixed_library / "broadcast.ts"
    policy = str(EXAMPLES / "english-first.yaml")
    result = process(tmp_path / "db.sqlite", "-p", policy, "--json", str(ts))
    assert statuses(result) == {"broadcast.ts": "changed"}, result.stdout
    found = [
        (s["codec_name"], s.get("tags", {}).get("language"), s["disposition"]["hearing_impaired"])
        for s in streams(ts)
    ]
    assert found == [("h264", None, 0), ("aac", "eng", 1), ("ac3", "fre", 0)]


SUBRIP_MKV = MediaSpec(
    audio=(AudioSpec(language="eng", default=True),),
    subtitles=(SubtitleSpec(language="eng", title="Full"), SubtitleSpec(language="ger")),
)
TO_MP4 = """\
schema_version: 12
phases:
  - name: to-mp4
    container: {target: mp4}
"""


def test_matroska_with_subrip_converts_to_mp4_with_mov_text(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    source = media_factory(SUBRIP_MKV, "lib/subs.mkv")
    policy = tmp_path / "to-mp4.yaml"
    policy.write_text(TO_MP4, encoding="utf-8")
    result = process(tmp_path / "db.sqlite", "-p", str(policy), "--json", str(source))
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    output = source.with_suffix(".mp4")
    assert not source.exists()
    found = [
        (s["codec_name"], s.get("tags", {}).get("language"), s.get("tags", {}).get("handler_name"))
        for s in streams(output)
    ]
    assert [f[:2] for f in found] == [
        ("h264", "und"),
        ("aac", "eng"),
        ("mov_text", "eng"),
        ("mov_text", "ger"),
    ]
    assert found[2][2] == "Full"
