"""The Dask client process: ``python -m vpo.batch.dask_client FD ADDRESS TIMEOUT``.

Started by the coordinator (vpo.batch.dask_executor) as soon as it knows the
executor is ``dask://``, so ``import distributed`` and the connection to the
scheduler run on another core while the coordinator loads the policy and the
library. It serves the coordinator's DaskExecutor over the socket FD
(vpo.batch.channel): submits the pickled work as bytes (vpo.batch.dask_tasks),
forwards results as bytes and encode progress as plain data, and turns Dask's
own errors into data. It ignores SIGINT and SIGTERM (the coordinator decides
what a signal means) and ends when the socket closes, or with the coordinator.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from vpo.batch.channel import Channel, ChannelClosedError

NEEDS_DASK = "needs dask.distributed: pip install 'vpo[dask]'"


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fd, address, timeout = int(argv[0]), argv[1], float(argv[2])
    channel = Channel(socket.socket(fileno=fd))
    # Importing Dask makes many objects that live as long as the process and almost
    # no garbage, yet the collector would scan them again and again: off until the
    # client is connected (measured: import distributed 0.27 s instead of 0.37 s),
    # then what was made is frozen out of every later collection.
    gc.disable()
    try:
        from distributed import Client
    except ImportError:
        channel.send(("failed", f"--executor dask://{address} {NEEDS_DASK}"))
        return 1
    try:
        client = Client(  # type: ignore[no-untyped-call]
            f"tcp://{address}" if "://" not in address else address,
            timeout=f"{timeout}s",
            set_as_default=False,
        )
    except Exception as error:  # OSError, TimeoutError, ValueError (a malformed address)
        channel.send(
            ("failed", f"cannot reach the Dask scheduler at dask://{address}: {_reason(error)}")
        )
        return 1
    gc.freeze()
    gc.enable()
    channel.send(("ready",))
    server = _Server(client, channel, address)
    try:
        server.serve()
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=2)  # type: ignore[no-untyped-call]
    return 0


class _Server:
    """Answers the coordinator's messages (one reading thread; slow calls in threads)."""

    def __init__(self, client: Any, channel: Channel, address: str) -> None:
        from vpo.batch import dask_tasks

        self._client = client
        self._channel = channel
        self._address = address
        self._tasks = dask_tasks
        self._futures: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._lost: str | None = None  # the scheduler connection is gone: why

    def serve(self) -> None:
        while True:
            try:
                message = self._channel.receive()
            except (ChannelClosedError, OSError):
                return  # the coordinator is gone or done
            kind = message[0]
            if kind == "close":
                return
            if kind == "submit":
                self._submit(*message[1:])
            elif kind == "cancel":
                self._cancel(message[1])
            elif kind == "stop_tools":
                self._stop_tools(list(message[1]))
            else:
                self._call(kind, message[1], message[2:])

    def _send(self, message: tuple[Any, ...]) -> None:
        with contextlib.suppress(OSError):  # the coordinator is gone: nobody to tell
            self._channel.send(message)

    def _safely(self, call: Callable[[], object]) -> None:
        with contextlib.suppress(Exception):
            call()

    def _stop_tools(self, workers: list[str]) -> None:
        self._safely(lambda: self._client.run(self._tasks.stop_tools, workers=workers, wait=False))

    # ---------------------------------------------------------------- requests

    def _call(self, kind: str, request: int, args: tuple[Any, ...]) -> None:
        def answer() -> None:
            try:
                value = self._answer(kind, args)
            except Exception as error:
                self._send(("reply_error", request, f"{type(error).__name__}: {_reason(error)}"))
            else:
                self._send(("reply", request, value))

        threading.Thread(target=answer, name=f"vpo-dask-{kind}", daemon=True).start()

    def _answer(self, kind: str, args: tuple[Any, ...]) -> object:
        client = self._client
        if kind == "workers":
            info = client.scheduler_info(n_workers=-1)["workers"]
            return [
                (
                    str(address),
                    str(item.get("name", address)),
                    int(item.get("nthreads", 1)),
                    {str(k): float(v) for k, v in (item.get("resources") or {}).items()},
                )
                for address, item in sorted(info.items())
            ]
        if kind == "check":
            answers = client.run(self._tasks.run_check, args[0], on_error="return")
            return {
                str(address): answer
                if answer is None or isinstance(answer, str)
                else f"the check failed: {type(answer).__name__}: {answer}"
                for address, answer in answers.items()
            }
        if kind == "subscribe":
            topic = str(args[0])

            def forward(event: tuple[float, Any]) -> None:
                self._send(("progress", topic, event[1]))

            client.subscribe_topic(topic, forward)
            return None
        if kind == "ping":
            return None
        if kind == "unsubscribe":
            client.unsubscribe_topic(str(args[0]))
            return None
        if kind == "hold":
            token, workers = args
            client.run(self._tasks.hold, token, workers=list(workers), on_error="return")
            return None
        raise ValueError(f"unknown request {kind!r}")

    # ------------------------------------------------------------------- tasks

    def _submit(
        self, number: int, token: str, payload: bytes, workers: list[str], options: dict[str, Any]
    ) -> None:
        if self._lost is not None:
            self._send(("done", number, "lost", self._lost))
            return
        try:
            future = self._client.submit(
                self._tasks.run_task,
                token,
                payload,
                workers=list(workers),
                allow_other_workers=False,
                pure=False,
                **options,
            )
        except Exception as error:
            self._send(("done", number, "error", type(error).__name__, _reason(error)))
            return
        with self._lock:
            self._futures[number] = future
        # awaited on the client's event loop (as Dask's own ClientExecutor does): no
        # thread hop per result
        self._client.loop.add_callback(self._watch, number, future)

    def _cancel(self, number: int) -> None:
        with self._lock:
            future = self._futures.get(number)
        if future is not None:
            self._safely(future.cancel)

    async def _watch(self, number: int, future: Any) -> None:
        result = await future._result(raiseit=False)
        with self._lock:
            self._futures.pop(number, None)
        try:
            outcome = self._outcome(future.status, result, future)
        except Exception as error:  # never leave the coordinator waiting
            outcome = ("error", type(error).__name__, _reason(error))
        self._send(("done", number, *outcome))

    def _outcome(self, status: str, result: Any, future: Any) -> tuple[Any, ...]:
        """A finished Dask future as plain data (no Dask class reaches the coordinator)."""
        if status == "finished":
            kind, value = result
            return (kind, value)
        if status == "cancelled":
            error = getattr(getattr(future, "_state", None), "exception", None)
            if getattr(error, "reason", None) == "scheduler-connection-lost":
                self._lost = (
                    f"the Dask scheduler at dask://{self._address} is gone (connection lost); "
                    "the file is the original or the finished result"
                )
                return ("lost", self._lost)
            return ("cancelled",)
        _kind, error, _traceback = result
        if type(error).__name__ == "KilledWorker" and len(error.args) == 3:
            task, last, allowed = error.args
            name = getattr(last, "name", None)
            where = getattr(last, "address", None)
            return (
                "killed",
                str(task),
                None if name is None else str(name),
                None if where is None else str(where),
                int(allowed),
            )
        return ("error", type(error).__name__, _reason(error))


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # no slow interpreter teardown with Dask loaded
