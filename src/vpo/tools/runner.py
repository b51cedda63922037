"""One seam for every external process vpo starts.

Argument lists only (never a shell), stdin closed, both streams captured, a
timeout, and one error type that names the tool, the file and the cause.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vpo.errors import ExitCode, VpoError

_active_lock = threading.Lock()
_active: set[subprocess.Popen[bytes]] = set()


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What one finished process did."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


class ToolError(VpoError):
    """An external tool could not run, failed, or timed out.

    ``str()`` is one line for users; ``stderr`` keeps the whole output for logs.
    A per-file error (exit 1 when it fails a file); a missing tool is fatal (exit 3).
    """

    exit_code = ExitCode.FILES_FAILED

    def __init__(
        self,
        tool: str,
        cause: str,
        *,
        path: Path | None = None,
        returncode: int | None = None,
        stderr: str = "",
        argv: Sequence[str] = (),
    ) -> None:
        self.tool = tool
        self.cause = cause
        self.path = path
        self.returncode = returncode
        self.stderr = stderr
        self.argv = tuple(argv)
        super().__init__(self._line())

    def _line(self) -> str:
        where = f"{self.path}: " if self.path is not None else ""
        return f"{where}{self.without_path()}"

    def without_path(self) -> str:
        return f"{self.tool} failed{_exit_text(self.returncode)}: {self.cause}"


def _exit_text(returncode: int | None) -> str:
    """`` (exit 2)``, or `` (killed by SIGKILL)`` for a process ended by a signal."""
    if returncode is None:
        return ""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f" (killed by {name})"
    return f" (exit {returncode})"


class ToolNotFoundError(ToolError):
    """The executable is not installed or not where the configuration says (exit 3)."""

    exit_code = ExitCode.TOOL_MISSING

    def __init__(self, tool: str, searched: str) -> None:
        super().__init__(
            tool,
            f"not found ({searched}); install it or set its path in [tools], then run 'vpo doctor'",
        )

    def without_path(self) -> str:
        return f"{self.tool} {self.cause}"


class ToolTimeoutError(ToolError):
    """The process ran longer than allowed and was killed."""


class ToolStalledError(ToolError):
    """A long run (an encode) made no progress for too long and was killed; a
    hardware-encoder fallback does not retry it."""


def summarize_stderr(stderr: str, limit: int = 200) -> str:
    """The last meaningful stderr line: the one that usually says why."""
    noise = ("warning:", "frame=", "size=", "press [q]", "progress")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.lower().startswith(noise)]
    chosen = (meaningful or lines or ["no error output"])[-1]
    return chosen if len(chosen) <= limit else chosen[: limit - 1] + "…"


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    path: Path | None = None,
    check: bool = True,
    ok_codes: Sequence[int] = (0,),
    env: dict[str, str] | None = None,
) -> ToolResult:
    """Run ``argv`` to completion and return its result.

    With ``check`` a return code outside ``ok_codes`` raises ToolError naming
    ``path`` (the media file the call was about) and the last stderr line.
    """
    tool = Path(argv[0]).name
    started = time.monotonic()
    try:
        process = subprocess.Popen(  # noqa: S603 - the one seam: argv list, never a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise ToolNotFoundError(tool, argv[0]) from error
    except PermissionError as error:
        raise ToolError(tool, f"cannot execute {argv[0]}: permission denied", path=path) from error
    with _active_lock:
        _active.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        _kill_group(process)
        stdout, stderr = process.communicate()
        raise ToolTimeoutError(
            tool,
            f"timed out after {timeout:.0f} s",
            path=path,
            stderr=stderr.decode("utf-8", errors="replace"),
            argv=argv,
        ) from error
    except BaseException:
        _kill_group(process)
        process.wait()
        raise
    finally:
        with _active_lock:
            _active.discard(process)
    result = ToolResult(tuple(argv), process.returncode, stdout, stderr, time.monotonic() - started)
    return check_result(result, path=path, ok_codes=ok_codes) if check else result


def check_result(
    result: ToolResult, *, path: Path | None, ok_codes: Sequence[int] = (0,)
) -> ToolResult:
    """``result``, or ToolError naming the file, the exit and the last stderr line."""
    if result.returncode in ok_codes:
        return result
    text = result.stderr_text or result.stdout_text
    raise ToolError(
        Path(result.argv[0]).name,
        summarize_stderr(text),
        path=path,
        returncode=result.returncode,
        stderr=text,
        argv=result.argv,
    )


@contextlib.contextmanager
def tracked_process(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Register a process started elsewhere in the tools layer (the streaming ffmpeg
    runner) so terminate_all_tools() reaches it too."""
    with _active_lock:
        _active.add(process)
    try:
        yield
    finally:
        with _active_lock:
            _active.discard(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the child and anything it started (it runs in its own session)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def terminate_all_tools() -> int:
    """Kill every tool process still running (second Ctrl-C); returns how many."""
    with _active_lock:
        running = [p for p in _active if p.poll() is None]
    for process in running:
        _kill_group(process)
    return len(running)
