"""A Radarr webhook fetches its film's metadata (by ``movie.id``) before queueing the job;
a Radarr that cannot answer still gets its job queued. Real HTTP to the stand-in."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpo.config.models import ArrConfig, IntegrationsConfig, LibraryConfig, ServerConfig, VPOConfig
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.services import Services
from vpo.testmedia.arr_standin import ArrStandIn, Film, serve_arr
from vpo.tools.locate import ToolPaths

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "hook-token"
THEIRS = "/movies/Amelie (2001)/Amelie (2001).mkv"


@pytest.fixture
def radarr() -> Iterator[ArrStandIn]:
    with serve_arr(ArrStandIn(films=[Film(5, "Amélie", 2001, "French", THEIRS)])) as running:
        yield running


def post(tmp_path: Path, url: str, key: str) -> tuple[int, dict[str, object], Library]:
    root, policies = tmp_path / "films", tmp_path / "policies"
    (root / "Amelie (2001)").mkdir(parents=True)
    policies.mkdir()
    (policies / "films.yaml").write_text("schema_version: 12\nphases: [{name: a}]\n")
    (root / "Amelie (2001)" / "Amelie (2001).mkv").write_bytes(b"x")
    config = VPOConfig(
        library=LibraryConfig(database=tmp_path / "lib.db", roots=(root,)),
        server=ServerConfig(token=TOKEN, policy_dir=policies),
        integrations=IntegrationsConfig(
            radarr=ArrConfig(policy="films", url=url, api_key=key, path_map=(f"/movies={root}",))
        ),
    )
    library = Library.open(config.library.database)
    events = EventBus()
    runner = JobRunner(JobEnvironment(library, config, ToolPaths()), events)
    services = Services(library, config, runner, events, policies)
    with TestClient(create_app(services, token=TOKEN, max_body=1 << 20)) as client:
        body = {
            "eventType": "Download",
            "movie": {"id": 5, "title": "Amélie", "year": 2001, "folderPath": "/movies/Amelie"},
            "movieFile": {"id": 50, "path": THEIRS, "relativePath": "Amelie (2001).mkv"},
        }
        answer = client.post(
            "/api/v1/hooks/radarr", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    return answer.status_code, answer.json(), library


def test_the_webhook_fetches_its_film_by_id(radarr: ArrStandIn, tmp_path: Path) -> None:
    status, answer, library = post(tmp_path, radarr.url, radarr.api_key)
    try:
        assert status == 200, answer
        assert answer["job_id"] is not None
        path = tmp_path / "films" / "Amelie (2001)" / "Amelie (2001).mkv"
        stored = library.metadata_for([path])[path]
        assert stored.original_language == "fre"
        assert radarr.requests["/api/v3/movie/5"] == 1
        assert radarr.count() == 2  # the film and the tags, not the catalogue
    finally:
        library.close()


def test_a_wrong_key_still_queues_the_job(
    radarr: ArrStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer, library = post(tmp_path, radarr.url, "wrong")
    library.close()
    assert status == 200, answer
    assert answer["message"] == f"job {answer['job_id']} queued"
    assert any("refused the API key" in record.getMessage() for record in caplog.records)
