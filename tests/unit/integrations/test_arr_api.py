"""The Sonarr/Radarr client over real HTTP against the stand-in server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from vpo.integrations.arr import Arr
from vpo.integrations.arr_api import ATTEMPTS, ArrClient, ArrUnavailable
from vpo.testmedia.arr_standin import ArrStandIn, Film, serve_arr


@pytest.fixture
def radarr() -> Iterator[ArrStandIn]:
    state = ArrStandIn(films=[Film(1, "Spirited Away", 2001, "Japanese", "/movies/a.mkv")])
    with serve_arr(state) as running:
        yield running


def client(state: ArrStandIn, *, key: str | None = None, timeout: float = 5.0) -> ArrClient:
    return ArrClient(Arr.RADARR, state.url + "/", key or state.api_key, timeout=timeout)


def test_sends_the_api_key_and_returns_the_json_body(radarr: ArrStandIn) -> None:
    with client(radarr) as api:
        body = api.get("movie")
    assert isinstance(body, list)
    assert body[0]["originalLanguage"] == {"id": 8, "name": "Japanese"}
    assert radarr.requests["/api/v3/movie"] == 1


def test_query_parameters_are_passed(radarr: ArrStandIn) -> None:
    with client(radarr) as api:
        api.get("moviefile", movieId=1)
    assert radarr.requests["/api/v3/moviefile?movieId=1"] == 1


def test_a_5xx_answer_is_retried_once(radarr: ArrStandIn) -> None:
    radarr.fail_next("/api/v3/movie", [503])
    with client(radarr) as api:
        assert isinstance(api.get("movie"), list)
    assert radarr.requests["/api/v3/movie"] == 2
    assert api.requests == 2  # both were answered


def test_a_5xx_answer_twice_is_one_line(radarr: ArrStandIn) -> None:
    radarr.fail_next("/api/v3/movie", [500] * ATTEMPTS)
    with client(radarr) as api, pytest.raises(ArrUnavailable) as raised:
        api.get("movie")
    assert str(raised.value) == f"Radarr at {radarr.url}: HTTP 500 for /api/v3/movie"
    assert radarr.requests["/api/v3/movie"] == ATTEMPTS


def test_a_wrong_key_names_the_setting(radarr: ArrStandIn) -> None:
    with client(radarr, key="wrong") as api, pytest.raises(ArrUnavailable) as raised:
        api.get("movie")
    text = str(raised.value)
    assert "\n" not in text
    assert text == (
        f"Radarr at {radarr.url} refused the API key (HTTP 401): check "
        "[integrations.radarr] api_key (Radarr: Settings > General > API Key)"
    )
    assert radarr.requests["/api/v3/movie"] == 1  # a refusal is not retried


def test_no_key_at_all_asks_nothing(radarr: ArrStandIn) -> None:
    api = ArrClient(Arr.SONARR, radarr.url, None)
    with (
        api,
        pytest.raises(ArrUnavailable, match=r"no API key; set \[integrations.sonarr\] api_key"),
    ):
        api.get("series")
    assert radarr.count() == 0


def test_a_server_that_does_not_answer_is_a_timeout_after_a_retry(radarr: ArrStandIn) -> None:
    radarr.hold("/api/v3/movie")  # never answers while the test runs
    with client(radarr, timeout=0.2) as api, pytest.raises(ArrUnavailable) as raised:
        api.get("movie")
    assert str(raised.value) == (
        f"Radarr at {radarr.url}: no answer to /api/v3/movie within 0.2 s (tried 2 times)"
    )
    assert radarr.requests["/api/v3/movie"] == ATTEMPTS


def test_an_unreachable_server_is_one_line() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    api = ArrClient(Arr.RADARR, f"http://127.0.0.1:{port}", "key", timeout=1)
    with (
        api,
        pytest.raises(ArrUnavailable, match=r"^Radarr at http://127.0.0.1:\d+ is unreachable"),
    ):
        api.get("movie")
    assert api.requests == 0  # the run's summary counts answers: none came


def test_a_wrong_url_is_named(radarr: ArrStandIn) -> None:
    with client(radarr) as api, pytest.raises(ArrUnavailable, match=r"not found \(HTTP 404\)"):
        api.get("nothing-here")
