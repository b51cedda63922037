"""Stop requests during a batch: Ctrl-C, SIGTERM (systemd, Docker) and SIGHUP (a closed
terminal).

The first request stops starting files; files in progress finish. A second request
(any of the three) stops the running tools at once; after SIGTERM or SIGHUP they
are also stopped when ``[jobs] stop_seconds`` have passed, because the service
manager that sent it will not wait forever. Tool processes run in their own
sessions, so the terminal's SIGINT and SIGHUP reach only vpo; this handler decides
what happens to them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from vpo.errors import ExitCode
from vpo.tools.runner import terminate_all_tools

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_EXIT_CODES = {
    signal.SIGINT: ExitCode.INTERRUPTED,
    signal.SIGTERM: ExitCode.TERMINATED,
    signal.SIGHUP: ExitCode.HANGUP,
}
DEFAULT_STOP_SECONDS = 5.0


class InterruptController:
    """Installs handlers for SIGINT, SIGTERM and SIGHUP while a batch runs (main thread
    only). ``notify`` may be replaced while installed (e.g. once a live display is up)."""

    def __init__(
        self,
        stop: threading.Event,
        notify: Callable[[str], None],
        *,
        stop_seconds: float = DEFAULT_STOP_SECONDS,
        on_abort: Callable[[], None] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._stop = stop
        self.notify = notify
        self._stop_seconds = stop_seconds
        self._on_abort = (
            on_abort  # when tools are stopped: also stop tools elsewhere (Dask workers)
        )
        self._on_stop = on_stop  # on the first request: hold files queued elsewhere (Dask)
        self.presses = 0
        self.first_signal: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}
        self._timer: threading.Timer | None = None

    @property
    def interrupted(self) -> bool:
        return self.presses > 0

    @property
    def exit_code(self) -> ExitCode:
        """130 after Ctrl-C, 143 after SIGTERM, 129 after SIGHUP (the first one counts)."""
        if self.first_signal is None:
            return ExitCode.INTERRUPTED
        return _EXIT_CODES[self.first_signal]

    def __enter__(self) -> InterruptController:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        self._stop.set()
        if self.presses > 1:
            self._abort()
            return
        self.first_signal = signal.Signals(signum)
        if self._on_stop is not None:
            self._on_stop()  # before the message: what is queued never starts after it
        if self.first_signal is signal.SIGINT:
            self.notify(
                "Interrupted: finishing the files in progress, starting no new ones "
                "(press Ctrl-C again to abort them; originals stay intact)"
            )
            return
        self.notify(
            f"{self.first_signal.name} received: starting no new files; files in progress "
            f"have {self._stop_seconds:g} s to finish before their tools are stopped "
            "(originals stay intact)"
        )
        self._timer = threading.Timer(self._stop_seconds, self._abort)
        self._timer.daemon = True
        self._timer.start()

    def _abort(self) -> None:
        killed = terminate_all_tools()
        if self._on_abort is not None:
            self._on_abort()
        self.notify(f"Aborting: stopped {killed} running tool process(es); cleaning up")
