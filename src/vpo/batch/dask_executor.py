"""A Dask cluster as the coordinator's executor (imported only for ``dask://``).

The coordinator keeps everything else (library, display, ``on_error``, Ctrl-C,
records); this executor only connects, checks the workers, submits the per-file
work to the workers that passed and hands back ``concurrent.futures`` futures.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from distributed import Client

from vpo.batch.executors import ExecutorError
from vpo.tools.progress import EncodeProgress


@dataclass(frozen=True, slots=True)
class DaskWorker:
    address: str
    name: str
    threads: int
    resources: Mapping[str, float] = field(default_factory=dict)  # dask worker --resources

    @property
    def label(self) -> str:
        return self.name if self.name and self.name != self.address else self.address


class DaskExecutor(Executor):
    """Submits to the cluster's workers that passed the preflight (all until then)."""

    def __init__(self, client: Client, address: str) -> None:
        self._client = client
        self.address = address
        self._allowed: list[DaskWorker] = self.workers()
        self._token = uuid.uuid4().hex  # the tasks hold_queued() can hold back
        self._submitted = False  # a task was submitted with this token
        self._executor = self._make_executor()

    @classmethod
    @contextlib.contextmanager
    def connect(cls, address: str, *, timeout: float) -> Iterator[DaskExecutor]:
        """Connected to the scheduler at ``address``, or ExecutorError in one line."""
        try:
            client = Client(  # type: ignore[no-untyped-call]
                f"tcp://{address}" if "://" not in address else address,
                timeout=f"{timeout}s",
                set_as_default=False,
            )
        except (OSError, TimeoutError) as error:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at dask://{address}: {_reason(error)}"
            ) from None
        try:
            executor = cls(client, address)
            if not executor._allowed:
                raise ExecutorError(f"the Dask scheduler at dask://{address} has no workers")
            yield executor
        finally:
            client.close()  # type: ignore[no-untyped-call]

    def workers(self) -> list[DaskWorker]:
        """Every worker the scheduler knows now."""
        info: Mapping[str, Any] = self._client.scheduler_info(n_workers=-1)["workers"]
        return [
            DaskWorker(
                address,
                str(item.get("name", address)),
                int(item.get("nthreads", 1)),
                {str(k): float(v) for k, v in (item.get("resources") or {}).items()},
            )
            for address, item in sorted(info.items())
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
        answers = self._client.run(check, on_error="return")
        failed: list[tuple[DaskWorker, str]] = []
        passed: list[DaskWorker] = []
        for worker in workers:
            answer = answers.get(worker.address, "did not answer the check")
            if isinstance(answer, BaseException):
                answer = f"the check failed: {type(answer).__name__}: {answer}"
            if answer is None:
                passed.append(worker)
            else:
                failed.append((worker, str(answer)))
        self._allowed = passed
        self._executor = self._make_executor()
        return failed

    @contextlib.contextmanager
    def progress_events(self, receive: Callable[[EncodeProgress], None]) -> Iterator[str]:
        """A fresh event topic whose messages (encode progress sent by the workers)
        reach ``receive`` on the client's thread while the block runs."""
        from vpo.batch.remote import progress_of

        topic = f"vpo-progress-{uuid.uuid4().hex}"

        def handler(event: tuple[float, Any]) -> None:
            with contextlib.suppress(Exception):  # a display hiccup never ends the batch
                receive(progress_of(event[1]))

        self._client.subscribe_topic(topic, handler)  # type: ignore[no-untyped-call]
        try:
            yield topic
        finally:
            self._client.unsubscribe_topic(topic)  # type: ignore[no-untyped-call]

    def stop_tools(self) -> None:
        """Ask every worker that got files to stop its running tools (no waiting:
        called from the Ctrl-C handler)."""
        from vpo.batch.remote import stop_tools

        self._client.run(
            stop_tools, workers=[worker.address for worker in self._allowed], wait=False
        )

    def _make_executor(self) -> Executor:
        return self._client.get_executor(  # type: ignore[no-untyped-call,no-any-return]
            workers=[worker.address for worker in self._allowed],
            allow_other_workers=False,
            pure=False,
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """``fn(*args)`` on a worker (``kwargs``: Dask's submit options). The future is
        cancelled, not failed, when the task was held back by :meth:`hold_queued`."""
        from vpo.batch.remote import gated, unless_held

        resources = getattr(fn, "resources", None)  # RemoteWork of a file that encodes
        if resources:
            kwargs["resources"] = dict(resources)
        self._submitted = True
        return unless_held(self._executor.submit(gated, self._token, fn, *args, **kwargs))

    def hold_queued(self, timeout: float = 5.0) -> None:
        """Start no file that is only queued on the cluster: every worker is told
        (at most ``timeout`` seconds are waited for the answers), and a queued task it
        picks up later comes back as a cancelled future. Files already running go on.
        Called on the first Ctrl-C and when the coordinator stops starting files."""
        if not self._submitted:
            return
        from vpo.batch.remote import hold

        token, self._token, self._submitted = self._token, uuid.uuid4().hex, False
        telling = threading.Thread(
            target=self._client.run,
            args=(hold, token),
            kwargs={"workers": [worker.address for worker in self._allowed], "on_error": "return"},
            name="vpo-dask-hold",
            daemon=True,
        )
        telling.start()
        telling.join(timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
