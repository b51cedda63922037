"""``vpo watch DIR... -p POLICY``: watch in the foreground until SIGTERM or Ctrl-C.

With a ``vpo serve`` on the library, settled files are queued to it (and it is
woken over its API). Without one, a job runner inside this process runs them
(the same runner as the daemon's, without HTTP). SIGTERM/Ctrl-C: no new file
starts, active files get ``[server] shutdown_timeout`` seconds to finish, exit 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from vpo.config.models import VPOConfig
from vpo.integrations.media_servers import MediaServers
from vpo.integrations.notify import Notifier
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.model import JobEvent
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.library.maintenance import running_daemon
from vpo.server.client import ClientError, call
from vpo.tools.locate import ToolPaths
from vpo.watch.sink import QueueSink, watch_settings
from vpo.watch.watcher import Watcher

log = logging.getLogger("vpo.watch")


@dataclass(frozen=True, slots=True)
class WatchOptions:
    folders: Sequence[Path]
    policy: str
    config: VPOConfig
    policy_dir: Path
    tools: ToolPaths
    announce: Callable[[str], None]


_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class _NoEvents:
    def publish(self, event: JobEvent) -> None:
        """No HTTP clients to tell: the runner's log lines are the record."""


def watch_foreground(options: WatchOptions) -> None:
    config = options.config
    settings = watch_settings(config, [str(folder) for folder in options.folders], options.policy)
    stop = threading.Event()
    with Library.open(config.library.database) as library:
        daemon = running_daemon(config.library.database)
        runner: JobRunner | None = None
        notifier: Notifier | None = None
        if daemon is None:  # with a daemon, its runner notifies
            servers = MediaServers.from_config(config.integrations)
            notifier = Notifier.from_config(config.notifications)
            runner = JobRunner(
                JobEnvironment(library, config, options.tools),
                _NoEvents(),
                on_changed=servers.changed if servers else None,
                notifier=notifier,
            )
            wake = runner.wake
        else:
            wake = _remote_wake(daemon, config.server.token)
        sink = QueueSink(library, options.policy_dir, wake)
        sink.check(settings.folders)
        watcher = Watcher(library, settings, sink)
        previous = _on_signals(stop)
        try:
            if runner is not None:
                runner.start()
            watcher.start()
            watcher.wait_ready()
            where = f"queued to vpo serve at {daemon}" if daemon else "processed here"
            options.announce(
                f"vpo watch: watching {len(settings.folders)} folder(s); settled files are {where}"
            )
            stop.wait()
            log.info("stopping: finishing active files, starting no new ones")
        finally:
            watcher.stop()
            if runner is not None:
                runner.shutdown(config.server.shutdown_timeout)
            if notifier is not None:
                notifier.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _remote_wake(address: str, token: str | None) -> Callable[[], None]:
    def wake() -> None:
        try:
            call(address, "POST", "/queue/wake", token)
        except ClientError as error:
            log.warning("%s; the job waits until the daemon looks again", error)

    return wake


def _on_signals(stop: threading.Event) -> dict[signal.Signals, _Handler]:
    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
