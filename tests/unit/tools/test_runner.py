"""The one seam for processes: results, one-line errors, timeouts, signals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vpo.tools.runner import (
    ToolError,
    ToolNotFoundError,
    ToolTimeoutError,
    run_tool,
    summarize_stderr,
)

PY = sys.executable


def test_success_captures_both_streams() -> None:
    result = run_tool(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"], timeout=10
    )
    assert (result.returncode, result.stdout_text, result.stderr_text) == (0, "out\n", "err\n")


def test_failure_is_one_line_naming_file_tool_exit_and_last_meaningful_stderr() -> None:
    script = (
        "import sys; print('frame= 1', file=sys.stderr); "
        "print('No space left', file=sys.stderr); sys.exit(2)"
    )
    with pytest.raises(ToolError) as caught:
        run_tool([PY, "-c", script], timeout=10, path=Path("/m/movie.mkv"))
    tool = Path(PY).name
    assert str(caught.value) == f"/m/movie.mkv: {tool} failed (exit 2): No space left"
    assert "frame= 1" in caught.value.stderr  # the whole output stays for logs


def test_a_process_killed_by_a_signal_says_so() -> None:
    with pytest.raises(ToolError) as caught:
        run_tool([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], timeout=10)
    assert "(killed by SIGKILL)" in str(caught.value)


def test_ok_codes_and_check_false() -> None:
    assert run_tool([PY, "-c", "raise SystemExit(1)"], timeout=10, ok_codes=(0, 1)).returncode == 1
    assert run_tool([PY, "-c", "raise SystemExit(3)"], timeout=10, check=False).returncode == 3


def test_timeout_kills_the_child_and_raises() -> None:
    with pytest.raises(ToolTimeoutError, match="timed out after 0 s"):
        run_tool([PY, "-c", "import time; time.sleep(30)"], timeout=0.3)


def test_missing_executable_is_a_tool_not_found_error_with_a_hint() -> None:
    with pytest.raises(ToolNotFoundError, match="vpo doctor"):
        run_tool(["/nonexistent/mkvmerge", "-J"], timeout=5)


def test_summarize_stderr_skips_progress_noise_and_truncates() -> None:
    assert summarize_stderr("frame=1\nreal error\nsize=2\n") == "real error"
    assert summarize_stderr("") == "no error output"
    assert summarize_stderr("x" * 500).endswith("…")
