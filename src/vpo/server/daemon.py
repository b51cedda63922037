"""``vpo serve``: the coordinator kept running, with a queue and an API in front.

Start: check the bind (token), take the daemon lock on the library, requeue
interrupted jobs (their leftovers recovered), start the runner, the daily
backup timer and the HTTP server. SIGTERM/SIGINT: no new file starts at once;
the HTTP server stops; active files get ``[server] shutdown_timeout`` seconds,
then their tools are stopped (originals intact) and the job is marked
interrupted; exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from vpo.apply.recovery import RecoveryKind, recover_leftovers
from vpo.config.models import VPOConfig
from vpo.integrations.notify import Notifier
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.runner import JobRunner
from vpo.jobs.window import parse_window
from vpo.library import Library, LibraryError
from vpo.library.maintenance import daemon_lock, daily_backup, optimize_planner
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.security import check_bind
from vpo.server.services import Services, policy_dir_of
from vpo.tools.locate import ToolPaths

if TYPE_CHECKING:
    from vpo.watch.watcher import Watcher

log = logging.getLogger("vpo.server")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    bind: str
    port: int
    config: VPOConfig
    config_file: Path
    tools: ToolPaths
    announce: Callable[[str], None]  # one line for the user (stderr)
    config_sources: Mapping[str, str] = field(default_factory=dict)  # for the settings page


class _Server(uvicorn.Server):
    """uvicorn, with vpo's own signal handling: a signal also stops the job runner
    starting files, and is not re-raised after shutdown (exit 0)."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_signal = on_signal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit = asyncio.Event()

    async def main_loop(self) -> None:
        """Sleep until a signal instead of uvicorn's 0.1 s tick: an idle daemon wakes
        for nothing (the tick only refreshes the Date header, which vpo turns off)."""
        self._loop = asyncio.get_running_loop()
        await self.on_tick(0)
        if not self.should_exit:
            await self._exit.wait()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum: int, frame: FrameType | None) -> None:
            log.info(
                "received %s: finishing active files, starting no new ones",
                signal.Signals(signum).name,
            )
            self._on_signal()
            self.should_exit = True
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._exit.set)

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _DailyBackup:
    """Once a day (and at start), a backup of the library; sleeps on an event."""

    def __init__(self, library: Library, keep: int) -> None:
        self._library = library
        self._keep = keep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vpo-backup", daemon=True)

    def start(self) -> None:
        if self._keep > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                made = daily_backup(self._library, self._keep)
                if made is not None:
                    log.info("daily backup written: %s", made)
            except LibraryError as error:
                log.error("daily backup failed: %s", error)
            now = datetime.now()
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=5, second=0)
            self._stop.wait((tomorrow - now).total_seconds())


def serve(options: ServeOptions) -> None:
    """Run until SIGTERM/SIGINT; raises a FatalError (exit 2) when it cannot start."""
    config = options.config
    check_bind(options.bind, config.server.token)
    window = parse_window(config.jobs.window) if config.jobs.window else None
    listener = _listen(options.bind, options.port)
    host, port = listener.getsockname()[:2]
    address = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    with (
        contextlib.closing(listener),
        Library.open(config.library.database) as library,
        daemon_lock(config.library.database, address),
    ):
        _recover(library)
        optimize_planner(library)  # fresh statistics for the API's filter queries
        events = EventBus()
        notifier = Notifier.from_config(config.notifications)  # a bad URL: exit 2 now
        runner = JobRunner(
            JobEnvironment(library, config, options.tools),
            events,
            window=window,
            on_changed=_media_servers(config),
            notifier=notifier,
        )
        services = Services(
            library=library,
            config=config,
            runner=runner,
            events=events,
            policy_dir=policy_dir_of(config, options.config_file),
            config_sources=options.config_sources,
            tools=options.tools,
        )
        app = create_app(services, token=config.server.token, max_body=config.server.max_body)
        server = _Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
                date_header=False,
            ),
            on_signal=partial(_on_signal, runner, events),
        )
        backups = _DailyBackup(library, config.server.backup_keep)
        watcher = _watcher(library, config, runner, services.policy_dir)
        runner.start()
        backups.start()
        if watcher is not None:
            watcher.start()
        log.info("vpo serve listening on %s (library %s)", address, library.path)
        options.announce(f"vpo serve: listening on {address}")
        try:
            server.run(sockets=[listener])
        finally:
            events.close()
            started = time.monotonic()
            if watcher is not None:
                watcher.stop()
            runner.shutdown(config.server.shutdown_timeout)
            if notifier is not None:
                notifier.close()
            backups.stop()
            log.info("vpo serve stopped (%.1f s to shut down)", time.monotonic() - started)


def _media_servers(config: VPOConfig) -> Callable[[Path], None] | None:
    """``[integrations.jellyfin|plex]``: told about every file a job changes."""
    from vpo.integrations.media_servers import MediaServers

    servers = MediaServers.from_config(config.integrations)
    return servers.changed if servers else None


def _watcher(
    library: Library, config: VPOConfig, runner: JobRunner, policy_dir: Path
) -> Watcher | None:
    """``[watch] folders``: settled files become jobs on this daemon's queue."""
    if not config.watch.folders:
        return None
    from vpo.watch.sink import QueueSink, watch_settings
    from vpo.watch.watcher import Watcher

    settings = watch_settings(config, config.watch.folders, config.watch.policy)
    sink = QueueSink(library, policy_dir, runner.wake)
    sink.check(settings.folders)  # a bad policy stops the start (exit 2), not a file later
    return Watcher(library, settings, sink)


def _on_signal(runner: JobRunner, events: EventBus) -> None:
    """SIGTERM/SIGINT: no new file starts, and event streams end so the server can stop."""
    runner.begin_shutdown()
    events.close()


def _listen(bind: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((bind, port))
    except OSError as error:
        listener.close()
        from vpo.errors import ConfigError

        raise ConfigError(f"cannot listen on {bind}:{port}: {error.strerror or error}") from None
    listener.listen(128)
    return listener


def _recover(library: Library) -> None:
    """Jobs cut short by a crash or SIGTERM: leftovers recovered, jobs queued again;
    runs whose vpo died are closed as interrupted."""
    for run_id in library.close_abandoned_runs():
        log.info("run %d did not finish (its vpo is gone): recorded as interrupted", run_id)
    for job_id in library.jobs.recover():
        job = library.jobs.get(job_id)
        if job is None:
            continue
        for name in job.options.files or job.paths:
            path = Path(name)
            if not path.exists():
                continue
            for action in recover_leftovers(path):
                level = logging.ERROR if action.kind is RecoveryKind.FAILED else logging.INFO
                log.log(level, "recovery: %s: %s", action.path, action.detail)
        log.info("job %d requeued after an interruption", job_id)
