"""A loopback HTTP server that records every request, for tests of what vpo sends.

Notifications (apprise ``json://``), Jellyfin/Emby and Plex refreshes are real
HTTP calls; the tests check them against this stand-in instead of a mock. It
answers ``status`` (or what ``answer`` returns for a request), can stay silent
until closed (a client with a short timeout sees a timeout), and lets a test
wait for the calls it expects, since most arrive from other threads or processes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # with the query string
    headers: Mapping[str, str]
    body: object  # the JSON body parsed; None when empty; the text when not JSON


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"


class Recorder:
    """Start with ``with Recorder() as server:``; ``server.url`` is ``http://127.0.0.1:PORT``."""

    def __init__(
        self, status: int = 200, answer: Callable[[Request], Answer | None] | None = None
    ) -> None:
        self.status = status  # the answer to every request ``answer`` leaves alone
        self.silent = False  # True: requests get no answer until close()
        self._answer = answer
        self._requests: list[Request] = []
        self._arrived = threading.Condition()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Request]:
        with self._arrived:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Request]:
        """The first ``count`` requests, once they have arrived (AssertionError if not)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self._requests) >= count, timeout)
            assert arrived, f"{len(self._requests)} of {count} requests within {timeout:g} s"
            return list(self._requests)

    def __enter__(self) -> Recorder:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: Request) -> Answer | None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
        if self.silent:
            self._released.wait(WAIT_SECONDS)
            return None
        answer = self._answer(request) if self._answer is not None else None
        return answer or Answer(self.status)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # the tests read the requests, not a log

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                answer = recorder._record(
                    Request(self.command, self.path, dict(self.headers), _body(raw))
                )
                if answer is None:
                    return  # silent: the client times out
                self.send_response(answer.status)
                if answer.body:
                    self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def _body(raw: bytes) -> object:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
