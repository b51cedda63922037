"""``vpo process`` with several workers: real overlap, strict order, on_error, output, config.

Concurrency is proven from the log of the wrapper tools in tests/stubs/process
(start/end time of every call), never from timing ratios.
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.policies import FOREIGN_FIRST
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs" / "process"
VPO = Path(sys.executable).with_name("vpo")

# FOREIGN_FIRST: the policy puts English first (a remux) and makes it default.
# Right order, wrong default: a metadata-only edit.
WRONG_DEFAULT = MediaSpec(
    audio=(AudioSpec(language="eng"), AudioSpec(language="fre", default=True))
)

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  on_error: {on_error}
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {{set_preferred_audio_default: true, clear_other_defaults: true}}
"""

TWO_PHASES = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  on_error: {on_error}
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {{set_preferred_audio_default: true, clear_other_defaults: true}}
  - name: titles
    conditional:
      - name: name-french
        when: {{exists: {{track_type: audio, language: fre}}}}
        then:
          - set_title: {{track_type: audio, language: fre, to: "Français"}}
"""


@dataclass(frozen=True, slots=True)
class Call:
    """One writing tool call from the wrapper log: which file, when it started and ended."""

    tool: str
    pid: str
    start: float
    end: float | None
    args: str

    def touches(self, name: str) -> bool:
        return f"/{name} " in f"{self.args} "


def read_calls(log: Path) -> list[Call]:
    """Writing calls (not probes) in start order, paired by pid."""
    if not log.exists():
        return []
    starts: dict[str, tuple[str, float, str]] = {}
    ends: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        event, tool, pid, stamp, *rest = line.split(" ")
        args = " ".join(rest)
        if tool == "ffprobe" or " -J " in f" {args} ":
            continue
        if event == "start":
            starts[pid] = (tool, float(stamp), args)
        else:
            ends[pid] = float(stamp)
    calls = [
        Call(tool, pid, start, ends.get(pid), args) for pid, (tool, start, args) in starts.items()
    ]
    return sorted(calls, key=lambda call: call.start)


def call_for(calls: list[Call], name: str) -> Call:
    matching = [call for call in calls if call.touches(name)]
    assert len(matching) == 1, f"{name}: expected one tool call, got {matching}"
    return matching[0]


@pytest.fixture
def stub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Route every tool through the logging wrappers; returns the log path."""
    log = tmp_path / "tools.log"
    for tool in ("mkvmerge", "mkvpropedit", "ffmpeg", "ffprobe"):
        monkeypatch.setenv(f"VPO_TOOLS_{tool.upper()}", str(STUBS / tool))
    monkeypatch.setenv("VPO_STUB_LOG", str(log))
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    return log


@pytest.fixture
def policy(tmp_path: Path) -> Callable[..., Path]:
    def write(on_error: str = "skip", template: str = POLICY) -> Path:
        path = tmp_path / f"policy-{on_error}.yaml"
        path.write_text(template.format(on_error=on_error), encoding="utf-8")
        return path

    return write


def make_batch(media_factory: MediaFactory, count: int, spec: MediaSpec = FOREIGN_FIRST) -> Path:
    paths = [media_factory(spec, f"media/f{i:02d}.mkv") for i in range(count)]
    return paths[0].parent


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(tmp_path / "lib.sqlite"), *args])


def document(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def overlaps(first: Call, second: Call) -> bool:
    assert first.end is not None and second.end is not None
    return first.start < second.end and second.start < first.end


def test_two_workers_really_run_two_files_at_once(
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "4")
    monkeypatch.setenv("VPO_STUB_SLEEP", "1.0")
    media = make_batch(media_factory, 2)
    result = run(tmp_path, "-p", str(policy()), "--workers", "2", "--json", str(media))
    assert result.exit_code == ExitCode.OK, result.stderr
    summary = document(result)["summary"]
    assert (summary["changed"], summary["workers"]) == (2, 2)
    calls = read_calls(stub_env)
    assert overlaps(call_for(calls, "f00.mkv"), call_for(calls, "f01.mkv"))


def test_one_worker_is_strictly_sequential_in_discovery_order(
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "4")
    monkeypatch.setenv("VPO_STUB_SLEEP", "0.2")
    media = make_batch(media_factory, 4)
    result = run(tmp_path, "-p", str(policy()), "--workers", "1", "--json", str(media))
    assert result.exit_code == ExitCode.OK, result.stderr
    calls = read_calls(stub_env)
    names = [f"f{i:02d}.mkv" for i in range(4)]
    assert [next(n for n in names if c.touches(n)) for c in calls] == names
    for earlier, later in itertools.pairwise(calls):
        assert earlier.end is not None and earlier.end <= later.start
    assert [Path(f["path"]).name for f in document(result)["files"]] == names


@pytest.mark.parametrize("workers", [1, 2])
def test_on_error_fail_stops_the_batch_after_the_failing_file(
    workers: int,
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "4")
    # f00 sleeps while f01 fails at once: with two workers f00 is in flight when the
    # failure is seen, so nothing may start after it and f00 must still finish.
    monkeypatch.setenv("VPO_STUB_SLEEP", "1.5")  # ample margin on a loaded machine
    monkeypatch.setenv("VPO_STUB_FAIL_MATCH", "/f01.mkv")
    media = make_batch(media_factory, 10)
    result = run(tmp_path, "-p", str(policy("fail")), "-w", str(workers), "--json", str(media))
    assert result.exit_code == ExitCode.FILES_FAILED
    doc = document(result)
    calls = read_calls(stub_env)
    failing = call_for(calls, "f01.mkv")
    assert failing.end is not None
    # f00 was in flight when f01 failed (its tool may even start after f01's ended,
    # on a loaded machine); no other file may have been started at all.
    assert {
        name for name in (f"f{i:02d}.mkv" for i in range(10)) if any(c.touches(name) for c in calls)
    } == {"f00.mkv", "f01.mkv"}
    processed = {Path(f["path"]).name: f["status"] for f in doc["files"]}
    assert processed == {"f00.mkv": "changed", "f01.mkv": "failed"}
    summary = doc["summary"]
    assert summary["stopped_early"] is True
    assert "on_error is 'fail'" in summary["stop_reason"] and "f01.mkv" in summary["stop_reason"]
    human = run(tmp_path, "-p", str(policy("fail")), "-w", str(workers), str(media))
    assert "Stopped early: on_error is 'fail'" in human.stdout


def test_on_error_skip_reports_every_result_and_every_failure(
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "4")
    monkeypatch.setenv("VPO_STUB_FAIL_MATCH", "/f0")  # f00..f09 match; f1x does not
    media = make_batch(media_factory, 10)
    for i in range(3):
        media_factory(FOREIGN_FIRST, f"media/f1{i}.mkv")
    result = run(tmp_path, "-p", str(policy("skip")), "-w", "2", str(media))
    assert result.exit_code == ExitCode.FILES_FAILED
    lines = result.stdout.splitlines()
    assert lines[0].startswith("13 files: 3 changed, 0 unchanged, 0 skipped, 10 failed")
    failed_block = lines[lines.index("Failed:") + 1 :]
    assert sorted(Path(line.split(":")[0].strip()).name for line in failed_block) == [
        f"f{i:02d}.mkv" for i in range(10)
    ]
    assert all("stub failure" in line for line in failed_block)
    assert not any(line.startswith("Stopped early") for line in lines)


@pytest.mark.parametrize("on_error", ["continue", "skip"])
def test_a_failed_write_fails_every_phase_it_carries_and_leaves_the_original(
    on_error: str,
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_STUB_FAIL_MATCH", "--output")  # every mkvmerge remux fails
    media = make_batch(media_factory, 1)
    result = run(tmp_path, "-p", str(policy(on_error, TWO_PHASES)), "--json", str(media))
    assert result.exit_code == ExitCode.FILES_FAILED
    (entry,) = document(result)["files"]
    assert entry["status"] == "failed"
    phases = {p["phase"]: p for p in entry["phases"]}
    # one transaction: order and titles are one mkvmerge write; when it fails, neither
    # is applied (on_error continue/skip decide on phases that cannot be planned)
    assert (phases["order"]["status"], phases["titles"]["status"]) == ("failed", "failed")
    assert entry["error"].startswith("phase 'order+titles': ")
    identified = subprocess.run(
        ["mkvmerge", "-J", str(media / "f00.mkv")], capture_output=True, check=True
    )
    tracks = json.loads(identified.stdout)["tracks"]
    french = next(t for t in tracks if t["properties"].get("language") == "fre")
    assert [t["properties"].get("language") for t in tracks[1:]] == ["fre", "eng"]  # not reordered
    assert french["properties"].get("track_name") is None
    assert phases["titles"]["tool"] is None


def test_json_stays_one_document_while_progress_runs(
    media_factory: MediaFactory, stub_env: Path, policy: Callable[..., Path], tmp_path: Path
) -> None:
    media = make_batch(media_factory, 3)
    env = {**os.environ, "VPO_PROCESSING_MAX_WORKERS": "2"}
    argv = [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy())]
    done = subprocess.run([*argv, "-w", "2", "--json", str(media)], capture_output=True, env=env)
    assert done.returncode == ExitCode.OK, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "vpo.process/1" and doc["summary"]["changed"] == 3
    err = done.stderr.decode()
    assert err.count("f0") == 3  # one plain progress line per file
    assert "\r" not in err and "\x1b" not in err


def test_quiet_prints_no_progress_and_a_pipe_gets_no_redraws(
    media_factory: MediaFactory, stub_env: Path, policy: Callable[..., Path], tmp_path: Path
) -> None:
    media = make_batch(media_factory, 3)
    argv = [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy())]
    plain = subprocess.run([*argv, str(media)], capture_output=True)
    assert plain.returncode == ExitCode.OK, plain.stderr
    err = plain.stderr.decode()
    assert len(err.splitlines()) == 3 and "\r" not in err and "\x1b" not in err
    assert plain.stdout.decode().startswith("3 files: 3 changed")
    quiet = subprocess.run([*argv, "--quiet", str(media)], capture_output=True)
    assert quiet.returncode == ExitCode.OK
    assert quiet.stderr == b""
    assert quiet.stdout.decode().startswith("3 files: 0 changed, 3 unchanged")


def test_zero_workers_is_a_usage_error(
    media_factory: MediaFactory, policy: Callable[..., Path], tmp_path: Path
) -> None:
    media = make_batch(media_factory, 1)
    before = (media / "f00.mkv").read_bytes()
    result = run(tmp_path, "-p", str(policy()), "-w", "0", str(media))
    assert result.exit_code == ExitCode.USAGE
    assert "-w" in result.stderr and "0" in result.stderr
    assert (media / "f00.mkv").read_bytes() == before


@pytest.mark.parametrize(
    ("env_workers", "option", "expected"),
    [("3", (), 3), ("3", ("-w", "2"), 2), (None, ("-w", "4"), 4)],
)
def test_worker_count_comes_from_option_then_environment(
    env_workers: str | None,
    option: tuple[str, ...],
    expected: int,
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "8")
    if env_workers is not None:
        monkeypatch.setenv("VPO_PROCESSING_WORKERS", env_workers)
    media = make_batch(media_factory, 5, WRONG_DEFAULT)
    result = run(tmp_path, "-p", str(policy()), *option, "--json", str(media))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert document(result)["summary"]["workers"] == expected
    assert "instead of" not in result.stderr


def test_never_more_workers_than_files(
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "8")
    media = make_batch(media_factory, 2, WRONG_DEFAULT)
    result = run(tmp_path, "-p", str(policy()), "-w", "6", "--json", str(media))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert document(result)["summary"]["workers"] == 2


def test_cap_warning_names_requested_and_capped_values_and_the_way_out(
    media_factory: MediaFactory, stub_env: Path, policy: Callable[..., Path], tmp_path: Path
) -> None:
    cap = max(1, (os.cpu_count() or 2) // 2)
    media = make_batch(media_factory, 2, WRONG_DEFAULT)
    result = run(tmp_path, "-p", str(policy()), "-w", "64", "--json", str(media))
    assert result.exit_code == ExitCode.OK, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "instead of 64" in line)
    assert f"using {cap} worker" in warning
    assert "max_workers" in warning and "VPO_PROCESSING_MAX_WORKERS" in warning
    assert document(result)["summary"]["workers"] == min(cap, 2)


@pytest.fixture
def many_copies(media_factory: MediaFactory) -> Iterator[Path]:
    yield make_batch(media_factory, 100, WRONG_DEFAULT)


def test_eight_workers_record_every_file_without_database_locks(
    many_copies: Path, policy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
    monkeypatch.setenv("VPO_PROCESSING_MAX_WORKERS", "8")
    result = run(tmp_path, "-p", str(policy()), "-w", "8", "--json", str(many_copies))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "locked" not in result.stderr
    assert document(result)["summary"]["changed"] == 100
    report = CliRunner().invoke(
        cli, ["report", "files", "--json", "--db", str(tmp_path / "lib.sqlite")]
    )
    assert report.exit_code == 0, report.stderr
    rows = json.loads(report.stdout)
    assert len(rows) == 100
    assert {Path(row["path"]).name for row in rows} == {f"f{i:02d}.mkv" for i in range(100)}


def test_a_terminal_gets_the_live_line_and_json_mode_does_not(
    media_factory: MediaFactory,
    stub_env: Path,
    policy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_STUB_SLEEP", "0.4")  # long enough for a redraw (4 a second)
    media = make_batch(media_factory, 2)
    argv = [str(VPO), "process", "--db", str(tmp_path / "lib.sqlite"), "-p", str(policy())]
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}

    def on_terminal(*extra: str) -> tuple[int, str, str]:
        controller, terminal = pty.openpty()
        with subprocess.Popen(
            [*argv, *extra, str(media)], stdout=subprocess.PIPE, stderr=terminal, env=env
        ) as process:
            os.close(terminal)
            chunks: list[bytes] = []
            while True:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            out = process.stdout.read() if process.stdout else b""
            code = process.wait(timeout=60)
        os.close(controller)
        return code, out.decode(), b"".join(chunks).decode(errors="replace")

    code, out, err = on_terminal("--json", "-w", "1")
    assert code == ExitCode.OK, err
    assert json.loads(out)["summary"]["changed"] == 2
    assert "Processing:" not in err
    assert not re.search(r"\r(?!\n)|\x1b\[(2K|1A|\?25l)", err), (
        "an in-place redraw"
    )  # colour is fine
    for path in media.iterdir():  # undo: back to the starting point for the live run
        shutil.copyfile(media_factory(FOREIGN_FIRST, "spare.mkv"), path)
    code, out, err = on_terminal("-w", "1")
    assert code == ExitCode.OK, err
    assert "Processing: 0/2 files [1 active]" in err
    assert re.search(r"\x1b\[(2K|1A)", err), "no in-place redraw on a terminal"
    assert out.startswith("2 files: 2 changed")
