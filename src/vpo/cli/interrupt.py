"""Ctrl-C during a batch: the first press stops starting files, the second kills tools.

Tool processes run in their own sessions, so the terminal's SIGINT reaches only
vpo; this handler decides what happens to them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from vpo.tools.runner import terminate_all_tools


class InterruptController:
    """Installs a SIGINT handler for the duration of a batch (main thread only)."""

    def __init__(
        self,
        stop: threading.Event,
        notify: Callable[[str], None],
        *,
        on_abort: Callable[[], None] | None = None,
    ) -> None:
        self._stop = stop
        self._notify = notify
        self._on_abort = on_abort  # the second press: also stop tools elsewhere (Dask workers)
        self.presses = 0
        self._previous: Any = None

    @property
    def interrupted(self) -> bool:
        return self.presses > 0

    def __enter__(self) -> InterruptController:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        self._stop.set()
        if self.presses == 1:
            self._notify(
                "Interrupted: finishing the files in progress, starting no new ones "
                "(press Ctrl-C again to abort them; originals stay intact)"
            )
        else:
            killed = terminate_all_tools()
            if self._on_abort is not None:
                self._on_abort()
            self._notify(f"Aborting: stopped {killed} running tool process(es); cleaning up")
