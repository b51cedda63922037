"""``vpo process`` options of the batch coordinator: one policy, limits, the policy hash."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.cli.process_cmd import end_by_timestamp
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.policy import loader
from vpo.policy.schema import Policy
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
FOREIGN_DEFAULT = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: flags
    default_flags:
      set_preferred_audio_default: true
      clear_other_defaults: true
"""


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(tmp_path / "lib.sqlite"), *args])


def write_policy(tmp_path: Path, name: str = "policy.yaml", text: str = POLICY) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_second_policy_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    first, second = write_policy(tmp_path, "a.yaml"), write_policy(tmp_path, "b.yaml")
    result = run(tmp_path, "-p", str(first), "-p", str(second), str(tmp_path))
    assert result.exit_code == ExitCode.USAGE
    assert "one policy per run, got 2" in result.output and "--phases" in result.output
    assert not (tmp_path / "lib.sqlite").exists()  # refused before anything is opened


def test_max_files_processes_that_many_and_says_it_stopped(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    for name in ("a", "b", "c"):
        media_factory(FOREIGN_DEFAULT, f"lib/{name}.mkv")
    policy = write_policy(tmp_path)
    result = run(tmp_path, "-p", str(policy), "--max-files", "2", str(tmp_path / "lib"))
    assert result.exit_code == ExitCode.FILES_FAILED, result.output
    assert result.stdout.startswith("2 files: 2 changed")
    assert "Stopped early: limit reached: 2 files" in result.stdout


def test_a_bad_end_time_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "-p", str(write_policy(tmp_path)), "--end-by", "25:99", str(tmp_path))
    assert result.exit_code == ExitCode.USAGE
    assert "'25:99' is not a time like 06:30" in result.output


def test_end_by_is_the_next_such_local_time() -> None:
    now = dt.datetime(2026, 12, 3, 22, 15, tzinfo=dt.UTC)
    assert end_by_timestamp("23:00", now) == now.replace(hour=23, minute=0).timestamp()
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=6, minute=30)
    assert end_by_timestamp("06:30", now) == tomorrow.timestamp()


def test_the_run_records_the_hash_of_the_bytes_that_were_parsed(
    media_factory: MediaFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_factory(FOREIGN_DEFAULT, "lib/a.mkv")
    policy_path = write_policy(tmp_path)
    parsed = policy_path.read_bytes()
    real_parse = loader.parse_policy

    def parse_then_edit(text: str, name: str = "<policy>") -> Policy:
        policy = real_parse(text, name)
        policy_path.write_text(POLICY + "# saved again by an editor\n", encoding="utf-8")
        return policy

    monkeypatch.setattr(loader, "parse_policy", parse_then_edit)
    result = run(tmp_path, "-p", str(policy_path), str(tmp_path / "lib"))
    assert result.exit_code == ExitCode.OK, result.output
    with Library.open(tmp_path / "lib.sqlite") as library:
        (run_row,) = library.runs()
    assert run_row.policy_hash == hashlib.sha256(parsed).hexdigest()[:16]
