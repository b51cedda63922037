"""``vpo process --dry-run`` on generated media: plans shown, nothing modified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.cli.main import main
from vpo.errors import ExitCode
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

FOREIGN_FIRST = MediaSpec(
    container="mkv",
    audio=(
        AudioSpec(language="fre", default=True),
        AudioSpec(language="eng"),
        AudioSpec(language="eng", title="Commentary"),
    ),
    subtitles=(SubtitleSpec(language="ger"), SubtitleSpec(language="eng")),
)
FLAGS_ONLY = MediaSpec(
    container="mkv",
    audio=(AudioSpec(language="eng"),),
    subtitles=(SubtitleSpec(language="eng", default=True),),
)
ALREADY_FINE = MediaSpec(container="mp4", audio=(AudioSpec(language="eng", default=True),))

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  subtitle_language_preference: [eng]
phases:
  - name: strip
    audio_filter: {languages: [eng]}
    subtitle_filter: {languages: [eng]}
  - name: order
    track_order: [video, audio_main, audio_commentary, subtitle_main]
    default_flags: {set_subtitle_default_when_audio_differs: true}
"""


def run_vpo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def fingerprint(directory: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(directory)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def library(media_factory: MediaFactory, tmp_path: Path) -> Path:
    media_factory(FOREIGN_FIRST, "films/Foreign First.mkv")
    media_factory(FLAGS_ONLY, "films/sub dir/flags 'only' ü.mkv")
    media_factory(ALREADY_FINE, "clip.mp4")
    (tmp_path / "notes.txt").write_text("not media", encoding="utf-8")
    return tmp_path


@pytest.fixture
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_dry_run_shows_plans_and_summary_without_touching_files(
    capsys: pytest.CaptureFixture[str], library: Path, policy_file: Path
) -> None:
    before = fingerprint(library)
    code, out, err = run_vpo(capsys, "process", "-p", str(policy_file), "--dry-run", str(library))
    assert (code, err) == (ExitCode.OK, "")
    assert fingerprint(library) == before
    assert out.splitlines()[-1] == "3 files: 1 metadata-only, 1 remux, 1 no change, 0 errors"
    foreign = out[out.index("Foreign First.mkv") :]
    assert "removed: audio language fre not in [eng]" in foreign
    assert "removed: subtitle language ger not in [eng]" in foreign
    flags_block = out[out.index("flags 'only' ü.mkv") :]
    assert "phase order: metadata only" in flags_block
    assert "notes.txt" not in out


def test_json_is_the_only_thing_on_stdout(
    capsys: pytest.CaptureFixture[str], library: Path, policy_file: Path
) -> None:
    code, out, err = run_vpo(
        capsys, "process", "-p", str(policy_file), "--dry-run", "--json", str(library)
    )
    assert (code, err) == (ExitCode.OK, "")
    doc = json.loads(out)
    assert doc["summary"] == {
        "files": 3,
        "noop": 1,
        "metadata": 1,
        "remux": 1,
        "encode": 0,
        "errors": 0,
    }
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    strip = by_name["Foreign First.mkv"]["phases"][0]["plan"]
    assert [r["reason"] for r in strip["removed"]] == [
        "audio language fre not in [eng]",
        "subtitle language ger not in [eng]",
    ]
    order = by_name["Foreign First.mkv"]["phases"][1]["plan"]
    audio = [t for t in order["tracks"] if t["type"] == "audio"]
    assert [(t["title"], t["flags"]["default"]) for t in audio] == [
        (None, True),
        ("Commentary", False),
    ]


def test_phases_option_selects_and_rejects_unknown(
    capsys: pytest.CaptureFixture[str], library: Path, policy_file: Path
) -> None:
    code, out, _ = run_vpo(
        capsys, "process", "-p", str(policy_file), "--dry-run", "--phases", "order", str(library)
    )
    assert code == ExitCode.OK
    assert "phase strip" not in out and "phase order" in out
    code, out, err = run_vpo(
        capsys,
        "process",
        "-p",
        str(policy_file),
        "--dry-run",
        "--phases",
        "order,strp",
        str(library),
    )
    assert (code, out) == (ExitCode.USAGE, "")
    assert err == "vpo: unknown phase(s): strp; the policy has strip, order\n"


def test_bad_inputs_are_one_line_each_and_exit_1(
    capsys: pytest.CaptureFixture[str],
    broken_factory: Callable[..., Path],
    media_factory: MediaFactory,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    media_factory(FLAGS_ONLY, "good.mkv")
    empty = broken_factory(BrokenKind.ZERO_BYTES, "empty.mkv")
    truncated = broken_factory(BrokenKind.TRUNCATED_MKV, "cut.mkv")
    missing = tmp_path / "gone.mkv"
    code, out, err = run_vpo(
        capsys, "process", "-p", str(policy_file), "--dry-run", str(tmp_path), str(missing)
    )
    assert code == ExitCode.FILES_FAILED
    lines = err.splitlines()
    assert len(lines) == 3
    assert any(line.startswith(f"vpo: {empty}: empty file") for line in lines)
    assert any(line.startswith(f"vpo: {truncated}: truncated") for line in lines)
    assert any(line.startswith(f"vpo: {missing}:") for line in lines)
    assert out.splitlines()[-1] == "4 files: 1 metadata-only, 0 remux, 0 no change, 3 errors"


def test_invalid_policy_stops_before_any_file(
    capsys: pytest.CaptureFixture[str], library: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 12\nphases:\n  - name: a\n    track_order: [vidoe]\n")
    code, out, err = run_vpo(capsys, "process", "-p", str(bad), "--dry-run", str(library))
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.startswith(f"vpo: {bad}:4: phases[0].track_order[0]: 'vidoe' is not allowed")


def test_on_error_fail_stops_the_batch(
    capsys: pytest.CaptureFixture[str], media_factory: MediaFactory, tmp_path: Path
) -> None:
    media_factory(FLAGS_ONLY, "a.mkv")
    media_factory(FLAGS_ONLY, "b.mkv")
    policy = tmp_path / "strict.yaml"
    policy.write_text(
        "schema_version: 12\nconfig: {on_error: fail}\nphases:\n  - name: jpn\n"
        "    audio_filter: {languages: [jpn], fallback: {mode: error}}\n"
    )
    code, out, err = run_vpo(capsys, "process", "-p", str(policy), "--dry-run", str(tmp_path))
    assert code == ExitCode.FILES_FAILED
    assert "on_error is 'fail': stopping the batch" in err
    assert out.count("phase jpn: failed") == 1
    assert out.splitlines()[-1] == "1 file: 0 metadata-only, 0 remux, 0 no change, 1 error"
