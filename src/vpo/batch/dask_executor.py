"""A Dask cluster as the coordinator's executor, through a client process.

The coordinator never imports ``distributed``: :class:`ClientProcess` starts
``python -m vpo.batch.dask_client`` (which imports it and connects to the
scheduler in parallel with the coordinator's own start-up) and talks to it over
a socket (vpo.batch.channel). :class:`DaskExecutor` is its proxy: it connects,
checks the workers, submits the per-file work as pickled bytes to the workers
that passed and hands back ``concurrent.futures`` futures; the coordinator keeps
everything else (library, display, ``on_error``, Ctrl-C, records).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import pickle
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from vpo.batch.channel import Channel, ChannelClosedError
from vpo.batch.executors import ExecutorError, ExecutorLostError
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import HelperProcess, end_helper, exit_code_within

START_SECONDS = 60.0  # beyond the connect timeout: the client process's own start-up
CLOSE_SECONDS = 2.0  # a closed client process's exit is waited for that long


@dataclass(frozen=True, slots=True)
class DaskWorker:
    address: str
    name: str
    threads: int
    resources: Mapping[str, float] = field(default_factory=dict)  # dask worker --resources

    @property
    def label(self) -> str:
        return self.name if self.name and self.name != self.address else self.address


@dataclass(frozen=True, slots=True)
class LastWorker:
    """The worker a killed task was last on (what Dask's KilledWorker names)."""

    name: str | None
    address: str | None


class KilledWorker(Exception):  # the name runner.lost_worker_error knows
    """Dask's KilledWorker as plain data: (task, LastWorker, allowed failures)."""


class RemoteError(Exception):
    """Any other Dask error of a task, by its Dask name (a subclass named after it)."""


_REMOTE_ERRORS: dict[str, type[RemoteError]] = {}


def remote_error(name: str, text: str) -> RemoteError:
    """An exception whose type is named ``name`` (the Dask error's name) saying ``text``."""
    kind = _REMOTE_ERRORS.get(name)
    if kind is None:
        kind = _REMOTE_ERRORS[name] = type(name, (RemoteError,), {})
    return kind(text)


class ClientProcess:
    """The Dask client process for one scheduler: started at once, connecting in the
    background; :meth:`ready` waits for the connection."""

    def __init__(
        self, process: HelperProcess, channel: Channel, address: str, timeout: float
    ) -> None:
        self.address = address
        self._process = process
        self._channel = channel
        self._timeout = timeout
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._futures: dict[int, Future[Any]] = {}
        self._replies: dict[int, Future[Any]] = {}
        self._topics: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._hello: Future[None] = Future()
        self._gone: str | None = None  # why the client process is no longer usable
        self._closing = False
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._threads = [
            threading.Thread(target=self._read, name="vpo-dask-client", daemon=True),
            threading.Thread(target=self._drain, name="vpo-dask-client-log", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls, address: str, *, timeout: float) -> ClientProcess:
        """Start the client process for ``dask://address`` (it connects on its own)."""
        from vpo.tools.runner import spawn_python

        ours, theirs = socket.socketpair()
        try:
            process = spawn_python(
                "vpo.batch.dask_client",
                [str(theirs.fileno()), address, str(timeout)],
                pass_fds=(theirs.fileno(),),
            )
        except OSError as error:
            ours.close()
            raise ExecutorError(f"cannot start the Dask client process: {error}") from None
        finally:
            theirs.close()
        return cls(process, Channel(ours), address, timeout)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._gone is None and self._process.poll() is None

    def answers(self, timeout: float = 5.0) -> bool:
        """Whether the client process is there and answers (a round trip to it alone)."""
        try:
            self.request("ping", timeout=timeout)
        except (ExecutorError, TimeoutError):
            return False
        return True

    def ready(self) -> None:
        """Wait until connected to the scheduler; ExecutorError in one line if not."""
        try:
            self._hello.result(timeout=self._timeout + START_SECONDS)
        except TimeoutError:
            raise ExecutorError(
                f"the Dask client process did not connect to dask://{self.address} within "
                f"{self._timeout + START_SECONDS:.0f} s"
            ) from None

    # ------------------------------------------------------------ requests

    def request(self, kind: str, *args: Any, timeout: float | None = None) -> Any:
        """Ask the client process; its answer (ExecutorLostError if it died)."""
        number = next(self._numbers)
        reply: Future[Any] = Future()
        with self._lock:
            if self._gone is not None:
                raise ExecutorLostError(self._gone)
            self._replies[number] = reply
        self._send((kind, number, *args))
        try:
            return reply.result(timeout=timeout)
        finally:
            with self._lock:
                self._replies.pop(number, None)

    def tell(self, *message: Any) -> None:
        """A message with no answer (lost if the client process is gone)."""
        self._send(message)

    def submit(
        self, token: str, payload: bytes, workers: Sequence[str], options: Mapping[str, Any]
    ) -> Future[Any]:
        """The pickled work on a worker: a future of its unpickled return value."""
        number = next(self._numbers)
        future: Future[Any] = Future()
        with self._lock:
            gone = self._gone
            if gone is None:
                self._futures[number] = future
        if gone is not None:
            future.set_exception(ExecutorLostError(gone))
            return future
        future.add_done_callback(lambda done: self._forget(number, done))
        self._send(("submit", number, token, payload, list(workers), dict(options)))
        return future

    def listen(self, topic: str, receive: Callable[[dict[str, Any]], None] | None) -> None:
        with self._lock:
            if receive is None:
                self._topics.pop(topic, None)
            else:
                self._topics[topic] = receive

    def close(self) -> None:
        """End the client process (it closes its Dask client and exits)."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._channel.send(("close",))
        self._channel.close()
        end_helper(self._process, CLOSE_SECONDS)
        for thread in self._threads:
            thread.join(timeout=CLOSE_SECONDS)

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self._channel.send(message)
        except OSError:
            self._lost()  # the reader names the cause; fail everything waiting now

    def _forget(self, number: int, future: Future[Any]) -> None:
        with self._lock:
            self._futures.pop(number, None)
        if future.cancelled() and self._gone is None:
            self._send(("cancel", number))

    # ------------------------------------------------------------ the reader

    def _read(self) -> None:
        while True:
            try:
                message = self._channel.receive()
            except (ChannelClosedError, OSError, ValueError, EOFError):
                self._lost()
                return
            try:
                self._dispatch(message)
            except Exception:  # a malformed message is the client process's bug
                continue

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done":
            with self._lock:
                future = self._futures.pop(message[1], None)
            if future is not None:
                _settle(future, message[2:])
        elif kind == "progress":
            receive = self._topics.get(message[1])
            if receive is not None:
                with contextlib.suppress(Exception):  # a display hiccup never ends the batch
                    receive(message[2])
        elif kind in ("reply", "reply_error"):
            with self._lock:
                reply = self._replies.get(message[1])
            if reply is not None:
                with contextlib.suppress(InvalidStateError):
                    if kind == "reply":
                        reply.set_result(message[2])
                    else:
                        reply.set_exception(ExecutorError(str(message[2])))
        elif kind == "ready":
            self._hello.set_result(None)
        elif kind == "failed":
            self._gone = str(message[1])
            self._hello.set_exception(ExecutorError(self._gone))

    def _lost(self) -> None:
        """The client process is gone: every waiting future and request fails in one line."""
        with self._lock:
            if self._gone is None:
                self._gone = (
                    "the Dask client was closed"
                    if self._closing
                    else f"the Dask client process exited: {self._why()}"
                )
            futures = list(self._futures.values())
            replies = list(self._replies.values())
            self._futures.clear()
        error = ExecutorLostError(self._gone)
        for waiting in [self._hello, *futures, *replies]:
            with contextlib.suppress(InvalidStateError):
                waiting.set_exception(error)

    def _why(self) -> str:
        code = exit_code_within(self._process, 1.0)
        if code is None:
            return "its connection closed"
        last = next((line for line in reversed(self._stderr) if line.strip()), "")
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}"
        return last.strip() or f"exit code {code}"

    def _drain(self) -> None:
        stream = self._process.stderr
        if stream is None:
            return
        for raw in stream:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())


def _settle(future: Future[Any], outcome: tuple[Any, ...]) -> None:
    """A task's outcome (plain data from the client process) on its future."""
    kind = outcome[0]
    with contextlib.suppress(InvalidStateError):  # cancelled by its holder meanwhile
        if kind == "ok":
            future.set_result(pickle.loads(outcome[1]))  # our worker's result
        elif kind == "raised":
            future.set_exception(_unpickled_error(outcome[1]))
        elif kind in ("held", "cancelled"):
            _cancel(future)
        elif kind == "killed":
            _task, name, address, allowed = outcome[1:]
            future.set_exception(KilledWorker(_task, LastWorker(name, address), allowed))
        elif kind == "lost":
            future.set_exception(ExecutorLostError(str(outcome[1])))
        else:
            future.set_exception(remote_error(str(outcome[1]), str(outcome[2])))


def _unpickled_error(data: bytes) -> BaseException:
    try:
        error = pickle.loads(data)  # our worker's exception
    except Exception as failure:
        return RuntimeError(f"a worker's error could not be read: {failure}")
    return error if isinstance(error, BaseException) else RuntimeError(str(error))


def _cancel(future: Future[Any]) -> None:
    future.cancel()
    future.set_running_or_notify_cancel()  # wakes wait() and as_completed()


class DaskExecutor(Executor):
    """Submits to the cluster's workers that passed the preflight (all until then)."""

    def __init__(self, process: ClientProcess, address: str) -> None:
        self._process = process
        self.address = address
        self._allowed: list[DaskWorker] = self.workers()
        self._token = uuid.uuid4().hex  # the tasks hold_queued() can hold back
        self._submitted = False  # a task was submitted with this token
        self._pending: set[Future[Any]] = set()

    @classmethod
    @contextlib.contextmanager
    def connect(
        cls, address: str, *, timeout: float, process: ClientProcess | None = None
    ) -> Iterator[DaskExecutor]:
        """Connected to the scheduler at ``address``, or ExecutorError in one line.
        ``process``: a client process started earlier for it (the caller closes it);
        without one, a client process is started and closed here."""
        own = process is None
        client = ClientProcess.start(address, timeout=timeout) if process is None else process
        try:
            client.ready()
            executor = cls(client, address)
            if not executor._allowed:
                raise ExecutorError(f"the Dask scheduler at dask://{address} has no workers")
            yield executor
        finally:
            if own:
                client.close()

    def workers(self) -> list[DaskWorker]:
        """Every worker the scheduler knows now."""
        return [
            DaskWorker(str(address), str(name), int(threads), dict(resources))
            for address, name, threads, resources in self._process.request("workers")
        ]

    def offers(self, resources: Sequence[tuple[str, float]]) -> bool:
        """Whether a worker that passed the check has ``resources`` (GPU=1)."""
        from vpo.batch.resources import offered

        return any(offered(tuple(resources), worker.resources) for worker in self._allowed)

    @property
    def capacity(self) -> int:
        """Worker threads of the workers that may get files."""
        return sum(worker.threads for worker in self._allowed)

    def preflight(self, check: Callable[..., str | None]) -> list[tuple[DaskWorker, str]]:
        """Run ``check`` on every worker; keep only those it passes; return the others
        with the reason."""
        workers = self.workers()
        answers: Mapping[str, str | None] = self._process.request("check", _pickled(check))
        failed: list[tuple[DaskWorker, str]] = []
        passed: list[DaskWorker] = []
        for worker in workers:
            answer = answers.get(worker.address, "did not answer the check")
            if answer is None:
                passed.append(worker)
            else:
                failed.append((worker, str(answer)))
        self._allowed = passed
        return failed

    @contextlib.contextmanager
    def progress_events(self, receive: Callable[[EncodeProgress], None]) -> Iterator[str]:
        """A fresh event topic whose messages (encode progress sent by the workers)
        reach ``receive`` on the client process's reading thread while the block runs."""
        from vpo.batch.remote import progress_of

        topic = f"vpo-progress-{uuid.uuid4().hex}"
        self._process.listen(topic, lambda message: receive(progress_of(message)))
        try:
            self._process.request("subscribe", topic)
            yield topic
        finally:
            self._process.listen(topic, None)
            with contextlib.suppress(ExecutorError):
                self._process.tell("unsubscribe", 0, topic)

    def stop_tools(self) -> None:
        """Ask every worker that got files to stop its running tools (no waiting:
        called from the Ctrl-C handler, so the message is sent from a thread)."""
        workers = [worker.address for worker in self._allowed]
        threading.Thread(
            target=self._process.tell, args=("stop_tools", workers), daemon=True
        ).start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """``fn(*args)`` on a worker (``kwargs``: Dask's submit options, plain data). The
        future is cancelled, not failed, when the task was held back by :meth:`hold_queued`."""
        resources = getattr(fn, "resources", None)  # RemoteWork of a file that encodes
        if resources:
            kwargs["resources"] = dict(resources)
        self._submitted = True
        future = self._process.submit(
            self._token,
            _pickled((fn, args)),
            [worker.address for worker in self._allowed],
            kwargs,
        )
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def hold_queued(self, timeout: float = 5.0) -> None:
        """Start no file that is only queued on the cluster: every worker is told
        (at most ``timeout`` seconds are waited for the answers), and a queued task it
        picks up later comes back as a cancelled future. Files already running go on.
        Called on the first Ctrl-C and when the coordinator stops starting files."""
        if not self._submitted:
            return
        token, self._token, self._submitted = self._token, uuid.uuid4().hex, False
        workers = [worker.address for worker in self._allowed]

        def tell() -> None:
            with contextlib.suppress(ExecutorError, TimeoutError):
                self._process.request("hold", token, workers, timeout=timeout)

        telling = threading.Thread(target=tell, name="vpo-dask-hold", daemon=True)
        telling.start()
        telling.join(timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pending = list(self._pending)
        if cancel_futures:
            for future in pending:
                future.cancel()
        elif wait:
            for future in pending:
                with contextlib.suppress(BaseException):
                    future.exception()


def _pickled(value: object) -> bytes:
    """The coordinator's work as bytes. cloudpickle (a Dask dependency) only for what
    plain pickle refuses (a closure) or could only name, not carry (a function of a
    script's ``__main__``, which a worker cannot import), as Dask itself would."""
    try:
        data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        data = None
    if data is not None and b"__main__" not in data:
        return data
    import cloudpickle  # type: ignore[import-untyped]

    return bytes(cloudpickle.dumps(value, pickle.HIGHEST_PROTOCOL))
