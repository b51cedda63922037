"""One error model: tool errors are vpo errors, the path is a field, exit codes in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vpo.apply.errors import PreflightError
from vpo.cli.main import cli
from vpo.errors import ExitCode, FileError, VpoError
from vpo.media.model import Container, MediaFile
from vpo.policy.evaluate import EvaluationError
from vpo.probe.errors import NotMediaError
from vpo.tools.runner import ToolError, ToolNotFoundError, ToolStalledError, ToolTimeoutError

MOVIE = Path("/library/films/Movie.mkv")


def test_tool_errors_are_vpo_errors_with_their_exit_codes() -> None:
    assert issubclass(ToolError, VpoError)
    assert ToolError("mkvmerge", "x").exit_code is ExitCode.FILES_FAILED
    assert ToolNotFoundError("ffmpeg", "not on PATH").exit_code is ExitCode.TOOL_MISSING
    assert issubclass(ToolStalledError, ToolError) and not issubclass(
        ToolStalledError, ToolTimeoutError
    )


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            ToolError("mkvmerge", "no space left", path=MOVIE, returncode=2),
            "mkvmerge failed (exit 2): no space left",
        ),
        (
            NotMediaError(MOVIE, "EBML header damaged"),
            "not a media file or corrupt: EBML header damaged",
        ),
        (PreflightError(MOVIE, "read-only file"), "read-only file"),
        (
            EvaluationError(
                MediaFile(path=MOVIE, container=Container.MATROSKA, size=1, mtime_ns=0, tracks=()),
                "check",
                "rule 'x': no German audio",
            ),
            "rule 'x': no German audio",
        ),
    ],
)
def test_the_path_is_a_field_and_the_text_without_it_needs_no_stripping(
    error: VpoError, text: str
) -> None:
    assert error.path == MOVIE
    assert error.without_path() == text
    assert str(error).startswith(f"{MOVIE}: ") and str(error).endswith(text)
    assert str(MOVIE) not in error.without_path()


def test_a_file_error_without_a_path_is_its_message() -> None:
    assert FileError("does not converge").without_path() == "does not converge"


def test_a_missing_tool_is_one_line_and_exit_3_for_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPO_TOOLS_MKVPROPEDIT", str(tmp_path / "no-such-mkvpropedit"))
    policy = tmp_path / "p.yaml"
    policy.write_text("schema_version: 12\nphases:\n  - name: a\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["process", "--db", str(tmp_path / "db"), "-p", str(policy), str(tmp_path)]
    )
    assert result.exit_code == ExitCode.TOOL_MISSING
    assert result.stderr.splitlines() == [
        "vpo: mkvpropedit not found (not on PATH and no path configured); install it or set "
        "its path in [tools], then run 'vpo doctor'"
    ]


def test_the_workflow_and_the_library_share_one_outcome_vocabulary() -> None:
    from vpo.library.records import FileOutcome
    from vpo.workflow.result import FileStatus

    assert FileStatus is FileOutcome
