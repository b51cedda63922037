"""One seam for every external process vpo starts.

Argument lists only (never a shell), stdin closed, both streams captured, a
timeout, and one error type that names the tool, the file and the cause.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        process = spawn(argv, env=env)
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


# ------------------------------------------------------------ process lifetime
#
# Tools must never outlive vpo, whatever ends it (kill -9 included). On Linux
# every tool is started with PR_SET_PDEATHSIG = SIGKILL: the kernel kills it when
# the *thread* that forked it ends. Tools are therefore forked by one long-lived
# spawner thread (it lives as long as the vpo process), never by the worker
# threads of a ThreadPoolExecutor, which may end while a tool still runs.
# See docs/apply.md ("Tools never outlive vpo").

_PR_SET_PDEATHSIG = 1


@functools.cache
def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up before the first tool starts (not at import: ctypes and
    ``find_library``, which runs ``ldconfig -p``, cost every command's start-up)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)  # glibc: no search needed
    except OSError:
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        except OSError:
            return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """The child-side step (runs between fork and exec): ask the kernel for SIGKILL
    when the forking thread ends, and leave at once if vpo already died before
    that request could be made. Only pre-built objects are used (no imports, no
    allocation-heavy work) since it runs in a forked child of a threaded process."""
    prctl = _load_prctl()
    assert prctl is not None
    kill = int(signal.SIGKILL)
    getppid = os.getppid
    leave = os._exit

    def step() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if getppid() != parent_pid:
            leave(255)

    return step


_Request = tuple[list[str], dict[str, Any], "Future[subprocess.Popen[bytes]]"]


class _Spawner:
    """One long-lived daemon thread that forks every tool (see above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def popen(self, argv: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
        if _load_prctl() is None:  # no parent-death signal on this platform: fork in place
            return _popen(argv, kwargs)
        thread = self._ensure_thread()
        if threading.current_thread() is thread:
            return _popen(argv, {**kwargs, "preexec_fn": _die_with_parent(os.getpid())})
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((argv, kwargs, future))
        return future.result()

    def _ensure_thread(self) -> threading.Thread:
        with self._lock:
            # A forked child (a process pool worker) inherits no threads: start anew.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._requests = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=self._serve, args=(self._requests,), name="vpo-spawner", daemon=True
                )
                self._pid = os.getpid()
                self._thread.start()
            return self._thread

    @staticmethod
    def _serve(requests: queue.SimpleQueue[_Request]) -> None:
        parent = os.getpid()
        while True:
            argv, kwargs, future = requests.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                process = _popen(argv, {**kwargs, "preexec_fn": _die_with_parent(parent)})
            except BaseException as error:  # handed to the caller's thread
                future.set_exception(error)
            else:
                future.set_result(process)


def _popen(argv: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, **kwargs)  # noqa: S603 - the one seam: argv list, no shell


_spawner = _Spawner()


def spawn(
    argv: Sequence[str],
    *,
    stdout: int = subprocess.PIPE,
    stderr: int = subprocess.PIPE,
    env: dict[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start a tool: stdin closed, in its own session (the terminal's Ctrl-C reaches
    only vpo), and killed by the kernel if vpo dies (Linux). ``pass_fds``: descriptors
    the child keeps (vpo's own helper processes). Raises what Popen raises."""
    kwargs: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stdout": stdout,
        "stderr": stderr,
        "env": env,
        "start_new_session": True,
        "pass_fds": tuple(pass_fds),
    }
    return _spawner.popen(list(argv), kwargs)


HelperProcess = subprocess.Popen[bytes]  # a vpo helper process from spawn_python


def exit_code_within(process: HelperProcess, timeout: float) -> int | None:
    """The helper's exit code once it has ended, or None if it runs on past ``timeout``."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def end_helper(process: HelperProcess, timeout: float) -> None:
    """Give a helper that was told to exit ``timeout`` seconds, then kill it."""
    if exit_code_within(process, timeout) is None:
        process.kill()
        process.wait()


def spawn_python(module: str, args: Sequence[str], *, pass_fds: Sequence[int]) -> HelperProcess:
    """Start ``python -m module args`` (a vpo helper process, e.g. the Dask client) with
    this interpreter: like a tool (own session, dies with vpo), stdout discarded, stderr
    captured for the reason it ended."""
    return spawn(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
    )
