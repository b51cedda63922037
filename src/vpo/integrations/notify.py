"""Notifications when a job finishes or a file fails, through apprise (issue 15, item 5).

The message text is pure (``run_message``, ``file_message``, ``run_messages``);
``Notifier`` sends it from one background thread of its own, never from a
worker or the job runner, each URL with ``[notifications] timeout`` seconds to
connect and to answer. A message that cannot be sent is one warning in the log
(``notification to json://…/ not sent: …``); the job and its files are not
affected. apprise is imported only when URLs are configured: it loads its ~190
service plugins, which takes a second or two.
"""

from __future__ import annotations

import enum
import logging
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpo.errors import ConfigError
from vpo.text import one_line

if TYPE_CHECKING:
    from vpo.config.models import NotificationsConfig

log = logging.getLogger("vpo.notify")

LISTED_FAILURES = 5  # failed files named in a job's message; the rest are counted


class NotifyEvent(str, enum.Enum):
    JOB_FINISHED = "job_finished"  # every job or run that ends, with its counts
    JOB_FAILED = "job_failed"  # a job with failed files, or one that failed as a whole
    FILE_FAILED = "file_failed"  # each failed file, as it fails


@dataclass(frozen=True, slots=True)
class RunReport:
    """How one job (or inline run) ended, as a notification tells it."""

    what: str  # "job 12 (process, policy films)", "vpo hook radarr", "vpo process"
    end: str  # "completed", "failed", "interrupted", "cancelled"
    counts: Mapping[str, int]  # in display order: changed, unchanged, skipped, failed
    failures: tuple[tuple[str, str], ...] = ()  # (file, cause) of the first failed files
    reason: str | None = None  # why the job failed or stopped

    @property
    def failed(self) -> int:
        return max(self.counts.get("failed", 0), self.counts.get("errors", 0), len(self.failures))

    @property
    def troubled(self) -> bool:
        return self.failed > 0 or self.end == "failed"


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    failure: bool  # sent as apprise's "failure" type (red in most services)


def run_messages(report: RunReport, on: Collection[NotifyEvent]) -> tuple[Message, ...]:
    """The message ``report`` deserves under ``[notifications] on`` (none or one)."""
    if NotifyEvent.JOB_FINISHED in on or (NotifyEvent.JOB_FAILED in on and report.troubled):
        return (run_message(report),)
    return ()


def run_message(report: RunReport) -> Message:
    counts = ", ".join(f"{number} {name}" for name, number in report.counts.items())
    title = f"vpo: {report.what} {report.end}" + (f": {counts}" if counts else "")
    reason = f" ({one_line(report.reason)})" if report.reason else ""
    lines = [f"{report.what} {report.end}{reason}"]
    if counts:
        lines.append(f"files: {counts}")
    if report.failures:
        lines.append("failed:")
        shown = report.failures[:LISTED_FAILURES]
        lines.extend(f"- {one_line(path)}: {one_line(cause)}" for path, cause in shown)
        more = report.failed - len(shown)
        if more > 0:
            lines.append(f"… and {more} more (vpo report shows them all)")
    return Message(title, "\n".join(lines), report.troubled)


def file_message(what: str, path: str, cause: str) -> Message:
    name = one_line(path)
    return Message(f"vpo: {name} failed", f"{what}: {name}: {one_line(cause)}", failure=True)


@dataclass(frozen=True, slots=True)
class _Target:
    plugin: Any  # an apprise NotifyBase, ready to send
    name: str  # its URL with secrets masked, for the log


class Notifier:
    """Queues messages; one daemon thread sends them. Every method is thread-safe."""

    def __init__(
        self,
        targets: Sequence[_Target],
        on: Collection[NotifyEvent],
        timeout: float,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._warn = warn or log.warning  # one line per message not sent
        self._targets = tuple(targets)
        self._on = frozenset(on)
        self._timeout = timeout
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending = 0

    @classmethod
    def from_config(
        cls, settings: NotificationsConfig, warn: Callable[[str], None] | None = None
    ) -> Notifier | None:
        """None without URLs; ConfigError (one line) for a URL apprise cannot use.
        ``warn`` gets the line of a message not sent (default: the log, as a warning)."""
        if not settings.urls:
            return None
        targets = _load(settings.urls, settings.timeout)
        on = [NotifyEvent(word) for word in settings.on]
        return cls(targets, on, settings.timeout, warn)

    @property
    def wants_files(self) -> bool:
        return NotifyEvent.FILE_FAILED in self._on

    def file_failed(self, what: str, path: str, cause: str) -> None:
        if self.wants_files:
            self._put(file_message(what, path, cause))

    def run_finished(self, report: RunReport) -> None:
        for message in run_messages(report, self._on):
            self._put(message)

    def close(self, wait: float | None = None) -> None:
        """Send what is queued, waiting at most ``wait`` seconds (default: every queued
        message's timeout per URL); what is still unsent then is one warning."""
        with self._lock:
            thread, pending = self._thread, self._pending
            if thread is None:
                return
            self._queue.put(None)
            self._thread = None
        if wait is None:
            wait = 2 * self._timeout * len(self._targets) * max(pending, 1) + 1
        thread.join(wait)
        if thread.is_alive():
            self._warn(
                f"{self._pending} notification(s) not sent: vpo stopped waiting for them "
                f"after {wait:g} s"
            )

    # ------------------------------------------------------------------ thread

    def _put(self, message: Message) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="vpo-notify", daemon=True)
                self._thread.start()
            self._pending += 1
        self._queue.put(message)

    def _loop(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self._send(message)
            finally:
                with self._lock:
                    self._pending -= 1

    def _send(self, message: Message) -> None:
        import apprise

        kind = apprise.NotifyType.FAILURE if message.failure else apprise.NotifyType.INFO
        for target in self._targets:
            with _apprise_lines() as lines:
                try:
                    sent = bool(
                        target.plugin.notify(
                            title=message.title, body=message.body, notify_type=kind
                        )
                    )
                except Exception as error:  # a plugin bug must not end the sender
                    sent = False
                    lines.append(f"{type(error).__name__}: {error}")
            if sent:
                log.info("notification sent to %s: %s", target.name, message.title)
            else:
                reason = lines[-1] if lines else "the service did not accept it"
                self._warn(f"notification to {target.name} not sent: {reason}")


def _load(urls: Sequence[str], timeout: float) -> list[_Target]:
    import apprise

    _quiet_apprise()
    targets = []
    for url in urls:
        with _apprise_lines():
            plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            scheme = url.partition("://")[0]
            raise ConfigError(
                f"[notifications] urls: {one_line(scheme)}://… is not a URL apprise can "
                "use (see the apprise wiki for each service's URL)"
            )
        if "cto=" not in url:
            plugin.socket_connect_timeout = timeout
        if "rto=" not in url:
            plugin.socket_read_timeout = timeout
        name = str(plugin.url(privacy=True)).partition("?")[0]  # type: ignore[no-untyped-call]
        targets.append(_Target(plugin, one_line(name)))
    return targets


_CAUSE = re.compile(r"\[Errno -?\d+\] [^'\")]+|Read timed out|timed out")


class _ThreadLines(logging.Handler):
    """apprise's warnings of one thread, kept as the reason of a failed send; the
    socket error it logs at debug level is added in short ("[Errno 111] Connection
    refused", "Read timed out")."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread:
            return
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.lines.append(one_line(text))
        elif text.startswith("Socket Exception") and self.lines:
            cause = _CAUSE.search(text)
            if cause is not None:
                self.lines[-1] = f"{self.lines[-1].rstrip('.')}: {one_line(cause.group(0))}"


@contextmanager
def _apprise_lines() -> Iterator[list[str]]:
    logger = logging.getLogger("apprise")
    handler = _ThreadLines()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def _quiet_apprise() -> None:
    """apprise logs each failure in several lines of its own; vpo says it once."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())  # not logging's last resort on stderr
    logger.setLevel(logging.DEBUG)  # its socket errors are at debug level
