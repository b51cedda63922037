"""A Sonarr/Radarr v3 API client: GET requests with ``X-Api-Key``, a timeout, one retry.

Every failure is one :class:`ArrUnavailable` whose text is the warning line the
caller prints (the server is unreachable, too slow, refuses the key, or answers
something that is not its API); the parsing of the bodies is in
:mod:`vpo.integrations.arr_parse`. Only GETs: vpo never changes anything there.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from vpo.integrations.arr import Arr

TIMEOUT_SECONDS = 10.0
ATTEMPTS = 2  # a second try after a connection problem, a timeout or a 5xx answer


class ArrUnavailable(Exception):
    """The server could not answer usefully: the text is one warning line."""


class ArrClient:
    """One server; a context manager holding one httpx connection pool."""

    def __init__(
        self, arr: Arr, url: str, api_key: str | None, *, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.arr = arr
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self.requests = 0  # answered by the server (retries too), for the caller's summary

    def __enter__(self) -> ArrClient:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["X-Api-Key"] = self._api_key
        try:
            self._client = httpx.Client(
                base_url=self.url, timeout=self._timeout, headers=headers, follow_redirects=False
            )
        except (httpx.InvalidURL, ValueError) as error:
            raise ArrUnavailable(self._bad_url(error)) from None
        return self

    def _bad_url(self, error: Exception) -> str:
        return (
            f"{self.arr.program} at {self.url}: not a usable URL ({error}); set "
            f"[integrations.{self.arr.value}] url to e.g. http://host:port"
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, endpoint: str, **params: int) -> object:
        """The JSON body of ``GET /api/v3/<endpoint>``; ArrUnavailable otherwise."""
        assert self._client is not None, "use ArrClient as a context manager"
        where = f"{self.arr.program} at {self.url}"
        if not self._api_key:
            raise ArrUnavailable(
                f"{where}: no API key; set [integrations.{self.arr.value}] api_key "
                f"({self.arr.program}: Settings > General > API Key)"
            )
        path = f"/api/v3/{endpoint}"
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                answer = self._client.get(path, params=params or None)
            except httpx.InvalidURL as error:
                raise ArrUnavailable(self._bad_url(error)) from None
            except httpx.TimeoutException:
                if last:
                    raise ArrUnavailable(
                        f"{where}: no answer to {path} within {self._timeout:g} s "
                        f"(tried {ATTEMPTS} times)"
                    ) from None
                continue
            except httpx.TransportError as error:
                if last:
                    reason = str(error) or type(error).__name__
                    raise ArrUnavailable(f"{where} is unreachable ({reason})") from None
                continue
            self.requests += 1  # only answers: an unreachable server was asked nothing
            if answer.status_code >= 500 and not last:
                continue
            return self._body(answer, where, path)
        raise AssertionError("unreachable")

    def _body(self, answer: httpx.Response, where: str, path: str) -> object:
        status = answer.status_code
        if status == 401:
            raise ArrUnavailable(
                f"{where} refused the API key (HTTP 401): check [integrations.{self.arr.value}] "
                f"api_key ({self.arr.program}: Settings > General > API Key)"
            )
        if status == 404:
            raise ArrUnavailable(
                f"{where}: {path} not found (HTTP 404): is [integrations.{self.arr.value}] url "
                f"the address of {self.arr.program} (with its URL base), version 3 or later?"
            )
        if status >= 400:
            raise ArrUnavailable(f"{where}: HTTP {status} for {path}")
        try:
            return answer.json()
        except ValueError:
            kind = answer.headers.get("content-type", "no content type").split(";")[0]
            raise ArrUnavailable(
                f"{where}: {path} answered {kind}, not JSON: is "
                f"[integrations.{self.arr.value}] url the address of {self.arr.program}?"
            ) from None
