"""Draws batch progress on stderr: a live line on a terminal, plain lines elsewhere.

The batch coordinator only calls the ProcessObserver methods; everything visible
is decided here, so stdout stays free for results (JSON stays valid). Off a
terminal (a log file, a pipe), files that already conform get no line of their
own: the summary counts them, and a no-op rerun of a large library stays fast.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from vpo.batch.progress import ProgressSnapshot, ProgressTracker, format_duration
from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult, FileStatus

_STATUS_STYLE = {
    FileStatus.CHANGED: "green",
    FileStatus.UNCHANGED: "dim",
    FileStatus.SKIPPED: "yellow",
    FileStatus.FAILED: "bold red",
}
_MAX_ACTIVE_SHOWN = 4


def describe_result(result: FileResult) -> str:
    """One line for one finished file: status, path, what happened, time."""
    detail: str
    if result.status is FileStatus.FAILED:
        detail = result.error or "failed"
    elif result.status is FileStatus.SKIPPED:
        detail = result.skip_reason or "skipped"
    else:
        changes = [change for phase in result.phases for change in phase.changes]
        tools = ", ".join(dict.fromkeys(result.tools))
        detail = "; ".join(changes) if changes else "already conforms"
        if tools:
            detail += f" [{tools}]"
    seconds = f"{result.seconds:.2f} s"
    return f"{result.status.value:<9} {display_path(result.path)}: {detail} ({seconds})"


def display_path(path: Path) -> str:
    """A path on one line: control characters (a newline in a name) are escaped."""
    text = str(path)
    if any(ord(char) < 32 for char in text):
        return repr(text)[1:-1]
    return text


class BatchProgressDisplay:
    """BatchObserver that draws progress; use as a context manager around the batch."""

    def __init__(
        self,
        tracker: ProgressTracker,
        console: Console,
        *,
        live: bool,
        quiet: bool = False,
    ) -> None:
        self._tracker = tracker
        self._console = console
        self._live_enabled = live and not quiet
        self._quiet = quiet
        self._live: Live | None = None
        self._print_lock = threading.Lock()

    def __enter__(self) -> BatchProgressDisplay:
        if self._live_enabled:
            self._live = Live(
                get_renderable=self._render,
                console=self._console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def batch_started(self, total: int) -> None:
        self._tracker.set_total(total)

    def file_started(self, path: Path) -> None:
        self._tracker.start_file(path)

    def file_finished(self, result: FileResult) -> None:
        self._tracker.finish_file(result)
        if self._quiet or (result.status is FileStatus.UNCHANGED and not self._live_enabled):
            return  # off a terminal, a file that already conforms is only counted
        snapshot = self._tracker.snapshot()
        total = "?" if snapshot.total is None else snapshot.total
        line = Text(f"[{snapshot.completed}/{total}] ")
        line.append(describe_result(result), style=_STATUS_STYLE[result.status])
        with self._print_lock:
            # Live prints above its own line, so finished files never tear the progress line.
            self._console.print(line, soft_wrap=True, highlight=False)

    def encode_progress(self, progress: EncodeProgress) -> None:
        """Called from worker threads while ffmpeg encodes; shown on the live line only."""
        self._tracker.set_detail(progress.path, describe_encode(progress))

    def progress(self, progress: EncodeProgress) -> None:
        """ProcessObserver's name for ``encode_progress``."""
        self.encode_progress(progress)

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        """``vpo: [TOPIC: ]PATH: TEXT``, shown even with ``-q`` if important."""
        if self._quiet and not important:
            return
        where = f"{topic}: " if topic else ""
        with self._print_lock:
            self._console.print(f"vpo: {where}{display_path(path)}: {text}", markup=False)

    def message(self, text: str, style: str | None = None) -> None:
        """A log line that does not tear the live display."""
        if self._quiet:
            return
        with self._print_lock:
            self._console.print(Text(text, style=style or ""), soft_wrap=True, highlight=False)

    def _render(self) -> Group:
        snapshot = self._tracker.snapshot()
        return Group(Text(snapshot.line(), style="bold"), *_active_lines(snapshot))


def describe_encode(progress: EncodeProgress) -> str:
    """``43% 120 fps 2.1× ETA 0:35`` (parts that ffmpeg has not reported are left out)."""
    parts: list[str] = []
    if progress.percent is not None:
        parts.append(f"{progress.percent:.0f}%")
    if progress.fps is not None:
        parts.append(f"{progress.fps:.0f} fps")
    if progress.speed is not None:
        parts.append(f"{progress.speed:.1f}×")
    if progress.eta_seconds is not None:
        parts.append(f"ETA {format_duration(progress.eta_seconds)}")
    return "encoding " + " ".join(parts) if parts else "encoding"


def _active_lines(snapshot: ProgressSnapshot) -> list[Text]:
    shown = snapshot.active[:_MAX_ACTIVE_SHOWN]
    lines = []
    for path in shown:
        detail = snapshot.details.get(path)
        suffix = f"  {detail}" if detail else ""
        lines.append(Text(f"  ↳ {display_path(path)}{suffix}", style="cyan"))
    hidden = len(snapshot.active) - len(shown)
    if hidden > 0:
        lines.append(Text(f"  … and {hidden} more", style="cyan"))
    return lines
