"""The API's front door: token, cross-site requests, body size, logs without secrets."""

from __future__ import annotations

import logging

import pytest

from vpo.errors import ConfigError
from vpo.server.security import check_bind, is_loopback

from .conftest import TOKEN, VALID_POLICY, ApiFactory


def test_without_the_token_every_api_request_is_401(make_api: ApiFactory) -> None:
    api = make_api(token=TOKEN)
    for method, path in (
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
    ):
        answer = api.client.request(method, path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    wrong = api.client.get("/api/v1/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    basic = api.client.get("/api/v1/health", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    good = api.client.get("/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 200


def test_the_request_log_never_holds_the_token(
    make_api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    api = make_api(token=TOKEN)
    with caplog.at_level(logging.INFO, logger="vpo"):
        api.client.get("/api/v1/jobs?limit=3", headers={"Authorization": f"Bearer {TOKEN}"})
        api.client.get("/api/v1/jobs", headers={"Authorization": "Bearer wrong-guess"})
    lines = [r.getMessage() for r in caplog.records if r.name == "vpo.server.requests"]
    assert lines[0].startswith("GET /api/v1/jobs 200 ")
    assert lines[1].startswith("GET /api/v1/jobs 401 ")
    assert not any(TOKEN in line or "wrong-guess" in line for line in caplog.text.splitlines())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://testserver.evil.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
    ],
)
def test_cross_site_state_changes_are_refused(
    make_api: ApiFactory, headers: dict[str, str], status: int
) -> None:
    api = make_api()
    job = api.client.post("/api/v1/jobs", json={"type": "scan", "paths": [str(api.root)]}).json()
    answer = api.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=headers)
    assert answer.status_code == status
    assert api.library.jobs.get(job["id"]).status.value == "queued"  # type: ignore[union-attr]


def test_same_origin_and_non_browser_clients_may_change_state(make_api: ApiFactory) -> None:
    api = make_api()
    body = {"type": "scan", "paths": [str(api.root)]}
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert api.client.post("/api/v1/jobs", json=body, headers=same).status_code == 201
    assert api.client.post("/api/v1/jobs/1/cancel").status_code == 200  # curl: no Origin
    assert api.client.get("/api/v1/jobs", headers={"Origin": "http://evil"}).status_code == 200


def test_oversized_bodies_are_413(make_api: ApiFactory) -> None:
    api = make_api(max_body=2048)
    text = VALID_POLICY + "#" * 4096
    answer = api.client.put("/api/v1/policies/big", json={"text": text})
    assert answer.status_code == 413
    assert not (api.policies / "big.yaml").exists()

    def chunks() -> object:  # no Content-Length: the limit is counted while reading
        yield b'{"text": "'
        for _ in range(10):
            yield b"#" * 1024
        yield b'"}'

    streamed = api.client.put(
        "/api/v1/policies/big", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert not (api.policies / "big.yaml").exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_bind_needs_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "t")
    with pytest.raises(
        ConfigError, match=r"refusing to listen on 0\.0\.0\.0 without an access token"
    ):
        check_bind("0.0.0.0", None)
