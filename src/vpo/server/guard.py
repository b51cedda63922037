"""The API's front door, as one ASGI middleware: request log, body limit, token, CSRF.

Runs before any body is parsed. The request log never contains headers (so no
token), only method, path, status and time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("vpo.server.requests")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "vpo_session"
# Pages anyone may load on a public bind: the token form and what it needs.
_OPEN_PATHS = frozenset({"/login", "/static/vpo.css", "/static/vpo.js", "/favicon.ico"})


def session_value(token: str) -> str:
    """The web session cookie: an HMAC of the token (changing the token ends every session)."""
    return hmac.new(token.encode("utf-8"), b"vpo web session", hashlib.sha256).hexdigest()


class Guard:
    def __init__(self, app: ASGIApp, *, token: str | None, max_body: int) -> None:
        self._app = app
        self._token = token.encode("utf-8") if token else None
        self._session = session_value(token).encode("ascii") if token else None
        self._max_body = max_body
        self._too_large = f"request body larger than {max_body} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.monotonic()
        status = {"code": 0}
        cut = {"body": False}
        seen = 0

        async def logged_send(message: Message) -> None:
            if cut["body"]:
                return  # the 413 is out; the app's answer to a cut body is dropped
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._max_body:
                    if status["code"] == 0:
                        await _answer(logged_send, 413, self._too_large, {})
                    cut["body"] = True
                    return {"type": "http.disconnect"}
            return message

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _answer(logged_send, *refusal)
                return
            await self._app(scope, limited, logged_send)
        finally:
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status["code"],
                (time.monotonic() - started) * 1000,
            )

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        headers = _headers(scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self._max_body):
            return 413, self._too_large, {}
        if self._token is not None and not self._authorised(headers):
            path = scope["path"]
            if path.startswith("/api/"):
                return 401, "missing or wrong access token", {"www-authenticate": "Bearer"}
            if path not in _OPEN_PATHS:  # a page: ask for the token once (web session)
                return 303, "sign in with the access token", {"location": "/login"}
        if scope["method"] not in SAFE_METHODS:
            return _cross_site(headers)
        return None

    def _authorised(self, headers: dict[str, str]) -> bool:
        """``Authorization: Bearer <token>``, or the web session cookie the token gave."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if (
            self._token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(value.strip().encode("utf-8"), self._token)
        ):
            return True
        cookie = _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        return (
            self._session is not None
            and cookie is not None
            and hmac.compare_digest(cookie.encode("utf-8"), self._session)
        )


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _cross_site(headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
    """State changes only from the API's own origin, with a JSON body (no HTML form can
    send one, and a cross-site script cannot without a CORS preflight we never grant)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return 403, "cross-site request refused", {}
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "")
        if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
            return 403, "cross-site request refused (Origin does not match Host)", {}
    content_type = headers.get("content-type")
    if content_type is not None and content_type.split(";")[0].strip() != "application/json":
        return 415, "request bodies must be application/json", {}
    return None


def _headers(scope: Scope) -> dict[str, str]:
    return {
        key.decode("latin-1").lower(): value.decode("latin-1")
        for key, value in scope.get("headers", [])
    }


async def _answer(send: Send, status: int, detail: str, extra: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
