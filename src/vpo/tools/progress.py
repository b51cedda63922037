"""Long ffmpeg runs: progress from ``-progress pipe:1 -nostats``, stall detection,
an overall timeout, lower CPU priority, and a kill on Ctrl-C.

The parsers are pure (tested on captured output); ``run_with_progress`` is the
only I/O here. The child is registered with the runner, so terminate_all_tools()
(second Ctrl-C) reaches it like any other tool.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from vpo.tools.runner import (
    ToolError,
    ToolNotFoundError,
    ToolResult,
    ToolStalledError,
    ToolTimeoutError,
    check_result,
    spawn,
    tracked_process,
)

_STDERR_KEEP = 64 * 1024  # the tail of stderr kept for the error line and logs
_EOF = None


@dataclass(frozen=True, slots=True)
class EncodeProgress:
    """One progress report of one file's encode (what the live display draws)."""

    path: Path
    percent: float | None  # None while the position or the duration is unknown
    fps: float | None
    speed: float | None  # 2.0 = twice real time
    eta_seconds: float | None
    out_time: float | None  # seconds of output written


@dataclass(frozen=True, slots=True)
class ProgressBlock:
    """One ``key=value`` block ffmpeg writes (ends with ``progress=continue|end``)."""

    out_time: float | None
    fps: float | None
    speed: float | None
    frame: int | None
    total_size: int | None
    finished: bool

    @property
    def position(self) -> tuple[float | None, int | None, int | None]:
        """What must change for the encode to count as moving."""
        return (self.out_time, self.frame, self.total_size)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("x"))
    except ValueError:
        return None  # "N/A"
    return value if value == value and value >= 0 else None  # NaN and negatives: unknown


def parse_block(fields: Mapping[str, str]) -> ProgressBlock:
    """A block's fields → ProgressBlock; ``N/A`` and garbage become None."""
    micros = _number(fields.get("out_time_us") or fields.get("out_time_ms"))
    frame = _number(fields.get("frame"))
    size = _number(fields.get("total_size"))
    return ProgressBlock(
        out_time=micros / 1_000_000 if micros is not None else None,
        fps=_number(fields.get("fps")),
        speed=_number(fields.get("speed")),
        frame=int(frame) if frame is not None else None,
        total_size=int(size) if size is not None else None,
        finished=fields.get("progress") == "end",
    )


def parse_blocks(lines: Iterable[str]) -> list[ProgressBlock]:
    """Every complete block in ``lines`` (a captured ``-progress`` stream)."""
    blocks: list[ProgressBlock] = []
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        fields[key] = value
        if key == "progress":
            blocks.append(parse_block(fields))
            fields = {}
    return blocks


def to_progress(
    path: Path, block: ProgressBlock, duration: float | None, share: tuple[float, float] = (0, 1)
) -> EncodeProgress:
    """Percent and ETA of the whole job; ``share`` is the part of the job this run
    covers (pass 2 of two is ``(0.5, 1.0)``)."""
    percent = eta = None
    if duration and duration > 0 and block.out_time is not None:
        done = min(block.out_time / duration, 1.0)
        start, end = share
        percent = round(100.0 * (start + done * (end - start)), 1)
        if block.speed:
            remaining = (1.0 - done) * duration + (1.0 - end) / (end - start) * duration
            eta = remaining / block.speed
    if block.finished and share[1] >= 1.0:
        percent, eta = 100.0, 0.0
    return EncodeProgress(path, percent, block.fps, block.speed, eta, block.out_time)


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """When to give up on a run: no movement for ``stall_seconds``, or longer than
    ``timeout`` overall; ``niceness`` (None: unchanged) lowers its CPU priority."""

    stall_seconds: float
    timeout: float
    niceness: int | None = None
    report_interval: float = 0.5  # at most two callbacks a second


def run_with_progress(
    argv: Sequence[str],
    *,
    path: Path,
    duration: float | None,
    limits: StreamLimits,
    on_progress: Callable[[EncodeProgress], None] | None = None,
    share: tuple[float, float] = (0.0, 1.0),
) -> ToolResult:
    """Run an ffmpeg argv that has ``-progress pipe:1 -nostats``; raise ToolError on
    failure or stall, ToolTimeoutError on timeout. Any exception in here (Ctrl-C
    included) kills the child and its process group before it propagates."""
    tool = Path(argv[0]).name
    started = time.monotonic()
    try:
        process = spawn(argv)
    except FileNotFoundError as error:
        raise ToolNotFoundError(tool, argv[0]) from error
    except PermissionError as error:
        raise ToolError(tool, f"cannot execute {argv[0]}: permission denied", path=path) from error
    with tracked_process(process):
        _lower_priority(process, limits.niceness)
        lines: queue.Queue[str | None] = queue.Queue()
        stderr = bytearray()
        readers = [
            threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True),
            threading.Thread(target=_read_tail, args=(process.stderr, stderr), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            _follow(process, lines, path, duration, limits, on_progress, share, argv, stderr)
            process.wait()
        except BaseException:
            _kill(process)
            raise
        finally:
            for reader in readers:
                reader.join(timeout=5)
    result = ToolResult(
        tuple(argv), process.returncode, b"", bytes(stderr), time.monotonic() - started
    )
    return check_result(result, path=path)


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[str | None],
    path: Path,
    duration: float | None,
    limits: StreamLimits,
    on_progress: Callable[[EncodeProgress], None] | None,
    share: tuple[float, float],
    argv: Sequence[str],
    stderr: bytearray,
) -> None:
    """Read progress until ffmpeg closes its stdout; kill it on stall or timeout."""
    tool = Path(argv[0]).name
    started = last_move = time.monotonic()
    last_report = 0.0
    position: tuple[float | None, int | None, int | None] | None = None
    fields: dict[str, str] = {}
    while True:
        now = time.monotonic()
        if now - last_move > limits.stall_seconds:
            _kill(process)
            raise ToolStalledError(
                tool,
                f"stalled: no progress for {limits.stall_seconds:.0f} s",
                path=path,
                stderr=stderr.decode("utf-8", errors="replace"),
                argv=argv,
            )
        if now - started > limits.timeout:
            _kill(process)
            raise ToolTimeoutError(
                tool,
                f"timed out after {limits.timeout:.0f} s",
                path=path,
                stderr=stderr.decode("utf-8", errors="replace"),
                argv=argv,
            )
        wait = min(0.25, limits.stall_seconds, max(0.01, limits.timeout - (now - started)))
        try:
            line = lines.get(timeout=wait)
        except queue.Empty:
            continue
        if line is _EOF:
            return
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        fields[key] = value
        if key != "progress":
            continue
        block = parse_block(fields)
        fields = {}
        if block.position != position:
            position, last_move = block.position, time.monotonic()
        due = time.monotonic() - last_report >= limits.report_interval
        if on_progress is not None and (due or block.finished):
            last_report = time.monotonic()
            on_progress(to_progress(path, block, duration, share))


def _read_lines(stream: IO[bytes] | None, sink: queue.Queue[str | None]) -> None:
    if stream is not None:
        for raw in stream:
            sink.put(raw.decode("utf-8", errors="replace"))
    sink.put(_EOF)


def _read_tail(stream: IO[bytes] | None, sink: bytearray) -> None:
    if stream is None:
        return
    for chunk in iter(lambda: stream.read(4096), b""):
        sink += chunk
        if len(sink) > _STDERR_KEEP:
            del sink[: len(sink) - _STDERR_KEEP]


def _lower_priority(process: subprocess.Popen[bytes], niceness: int | None) -> None:
    """Renice the child's whole process group (its own session: pgid == pid).

    PRIO_PGRP reaches every thread that exists already, and threads started later
    inherit the value; set after start rather than in preexec_fn, which is unsafe
    with threads in the parent.
    """
    if niceness is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone, or not allowed
        os.setpriority(os.PRIO_PGRP, process.pid, niceness)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.wait()
