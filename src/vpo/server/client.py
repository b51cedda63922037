"""A tiny client of a running ``vpo serve`` for ``vpo jobs`` and ``--queue`` (stdlib only).

The address comes from the daemon lock beside the library; the token from
``[server] token``. Errors are one line (ClientError).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from vpo.errors import FatalError


class ClientError(FatalError):
    """The daemon refused the request or cannot be reached."""


def call(
    address: str, method: str, path: str, token: str | None, body: object | None = None
) -> Any:
    """``METHOD address/api/v1/path`` with a JSON body; the decoded JSON answer."""
    if not address.startswith("http://"):
        raise ClientError(f"unexpected daemon address {address!r}")
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(f"{address}/api/v1{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as error:
        detail = _detail(error.read())
        raise ClientError(f"vpo serve at {address}: {detail} (HTTP {error.code})") from None
    except (urllib.error.URLError, OSError) as error:
        raise ClientError(f"vpo serve at {address} cannot be reached: {error}") from None
    return json.loads(raw) if raw else None


def _detail(raw: bytes) -> str:
    try:
        return str(json.loads(raw)["detail"])
    except (ValueError, KeyError, TypeError):
        return raw.decode("utf-8", "replace")[:200]
