"""``POST /api/v1/hooks/sonarr|radarr`` with bodies shaped as their Webhook*Payload classes
(camelCase JSON), on a temporary library; the runner is not started, so jobs stay queued."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vpo.config.models import (
    ArrConfig,
    IntegrationsConfig,
    LibraryConfig,
    ServerConfig,
    VPOConfig,
)
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.model import JobStatus
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.library.records import FileStatus
from vpo.media.model import Container, MediaFile
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.services import Services
from vpo.testmedia.policies import REORDER_POLICY
from vpo.tools.locate import ToolPaths

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "hook-token"
POLICY = REORDER_POLICY


@dataclass
class Hooks:
    client: TestClient
    library: Library
    root: Path
    outside: Path

    def post(self, program: str, body: dict[str, object], **headers: str) -> dict[str, object]:
        answer = self.client.post(
            f"/api/v1/hooks/{program}",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}", **headers},
        )
        return {"status": answer.status_code, **answer.json()}


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Hooks]:
    root, policies, outside = tmp_path / "films", tmp_path / "policies", tmp_path / "outside"
    for folder in (root, policies, outside):
        folder.mkdir()
    (policies / "films.yaml").write_text(POLICY, encoding="utf-8")
    config = VPOConfig(
        library=LibraryConfig(database=tmp_path / "lib.db", roots=(root,)),
        server=ServerConfig(token=TOKEN, policy_dir=policies),
        integrations=IntegrationsConfig(
            radarr=ArrConfig(policy="films", path_map=(f"/movies={root}",)),
            sonarr=ArrConfig(policy="films", path_map=(f"/tv={root}",)),
        ),
    )
    library = Library.open(config.library.database)
    events = EventBus()
    runner = JobRunner(JobEnvironment(library, config, ToolPaths()), events)
    services = Services(library, config, runner, events, policies)
    client = TestClient(create_app(services, token=TOKEN, max_body=1 << 20))
    yield Hooks(client, library, root, outside)
    client.close()
    library.close()


def movie(folder: str = "/movies/Film (2021)") -> dict[str, object]:
    return {
        "id": 1,
        "title": "Film",
        "year": 2021,
        "releaseDate": "2021-12-21",
        "folderPath": folder,
        "tmdbId": 11,
        "imdbId": "tt0000001",
        "overview": "",
        "genres": ["Drama"],
        "images": [],
        "tags": ["anime"],
        "originalLanguage": {"id": 8, "name": "Japanese"},
    }


def movie_file(path: str) -> dict[str, object]:
    return {
        "id": 3,
        "relativePath": path.rsplit("/", 1)[1],
        "path": path,
        "quality": "Bluray-1080p",
        "qualityVersion": 1,
        "releaseGroup": "GRP",
        "sceneName": "Film.2021.1080p.BluRay-GRP",
        "indexerFlags": "0",
        "size": 1000,
        "dateAdded": "2026-12-03T10:00:00Z",
    }


def radarr_download(path: str, deleted: tuple[str, ...] = ()) -> dict[str, object]:
    body: dict[str, object] = {
        "eventType": "Download",
        "instanceName": "Radarr",
        "applicationUrl": "",
        "movie": movie(),
        "remoteMovie": {"tmdbId": 11, "imdbId": "tt0000001", "title": "Film", "year": 2021},
        "movieFile": movie_file(path),
        "isUpgrade": bool(deleted),
        "downloadClient": "qBittorrent",
        "downloadClientType": "qBittorrent",
        "downloadId": "ABC",
        "customFormatInfo": {"customFormats": [], "customFormatScore": 0},
        "release": {"releaseTitle": "Film.2021.1080p.BluRay-GRP", "indexer": "x", "size": 1000},
    }
    if deleted:
        body["deletedFiles"] = [movie_file(p) for p in deleted]
    return body


def stored(hooks: Hooks, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    info = path.stat()
    media = MediaFile(
        path=path,
        container=Container.MATROSKA,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        device=info.st_dev,
        tracks=(),
    )
    hooks.library.record_probe(media, info.st_ctime_ns)


def test_the_test_event_answers_success(hooks: Hooks) -> None:
    answer = hooks.post("radarr", {"eventType": "Test", "instanceName": "Radarr", "movie": movie()})
    assert answer == {
        "status": 200,
        "event": "Test",
        "action": "test",
        "job_id": None,
        "files": 0,
        "message": "OK",
    }


def test_a_download_queues_one_process_job_for_the_mapped_file(hooks: Hooks) -> None:
    film = hooks.root / "Film (2021)" / "Film (2021).mkv"
    old = hooks.root / "Film (2021)" / "Film (2021) 720p.mkv"
    stored(hooks, old)
    old.unlink()  # the upgrade deleted it
    film.write_bytes(b"new")
    answer = hooks.post(
        "radarr",
        radarr_download(
            "/movies/Film (2021)/Film (2021).mkv",
            deleted=("/movies/Film (2021)/Film (2021) 720p.mkv",),
        ),
    )
    assert (answer["status"], answer["action"], answer["files"]) == (200, "process", 1)
    job = hooks.library.jobs.get(int(answer["job_id"]))  # type: ignore[arg-type]
    assert job is not None and job.status is JobStatus.QUEUED
    assert job.options.files == [str(film)] and job.policy_name == "films"
    gone = hooks.library.file_state(old)
    assert gone is not None and gone.status is FileStatus.MISSING


def test_a_sonarr_download(hooks: Hooks) -> None:
    episode = hooks.root / "Show" / "S01E01.mkv"
    episode.parent.mkdir()
    episode.write_bytes(b"x")
    body = {
        "eventType": "Download",
        "series": {
            "id": 1,
            "title": "Show",
            "titleSlug": "show",
            "path": "/tv/Show",
            "tvdbId": 5,
            "tvMazeId": 6,
            "tmdbId": 7,
            "imdbId": "tt5",
            "type": "anime",
            "year": 2023,
            "genres": ["Animation"],
            "tags": [],
            "originalLanguage": {"id": 8, "name": "Japanese"},
        },
        "episodes": [{"id": 9, "episodeNumber": 1, "seasonNumber": 1, "title": "Pilot"}],
        "episodeFile": {
            "id": 10,
            "relativePath": "S01E01.mkv",
            "path": "/tv/Show/S01E01.mkv",
            "quality": "WEBDL-1080p",
            "qualityVersion": 1,
            "size": 1,
        },
        "isUpgrade": False,
        "downloadClient": "SABnzbd",
        "downloadId": "nzo",
    }
    answer = hooks.post("sonarr", body)
    job = hooks.library.jobs.get(int(answer["job_id"]))  # type: ignore[arg-type]
    assert job is not None and job.options.files == [str(episode)]


def test_rename_and_file_delete_update_the_library(hooks: Hooks) -> None:
    old, new, deleted = (hooks.root / "A" / name for name in ("a.mkv", "A (2001).mkv", "b.mkv"))
    stored(hooks, old)
    stored(hooks, deleted)
    old.rename(new)
    deleted.unlink()
    renamed = {**movie_file("/movies/A/A (2001).mkv"), "previousRelativePath": "a.mkv"}
    renamed["previousPath"] = "/movies/A/a.mkv"
    answer = hooks.post(
        "radarr",
        {"eventType": "Rename", "movie": movie("/movies/A"), "renamedMovieFiles": [renamed]},
    )
    assert (answer["action"], answer["files"]) == ("rename", 1)
    answer = hooks.post(
        "radarr",
        {
            "eventType": "MovieFileDelete",
            "movie": movie("/movies/A"),
            "movieFile": movie_file("/movies/A/b.mkv"),
            "deleteReason": "manual",
        },
    )
    assert (answer["action"], answer["files"]) == ("delete", 1)
    assert hooks.library.file_state(old) is None
    assert hooks.library.file_state(new) is not None
    state = hooks.library.file_state(deleted)
    assert state is not None and state.status is FileStatus.MISSING


def test_a_path_outside_the_library_roots_is_refused(hooks: Hooks) -> None:
    target = hooks.outside / "x.mkv"
    target.write_bytes(b"x")
    answer = hooks.post("radarr", radarr_download(str(target)))
    assert answer["status"] == 403
    assert hooks.library.jobs.page(limit=5, offset=0)[1] == 0


def test_the_token_is_required_and_basic_credentials_work_for_hooks(hooks: Hooks) -> None:
    body = {"eventType": "Test"}
    assert hooks.client.post("/api/v1/hooks/radarr", json=body).status_code == 401
    wrong = hooks.post("radarr", body, Authorization="Bearer nope")
    assert wrong["status"] == 401
    basic = base64.b64encode(f"radarr:{TOKEN}".encode()).decode()
    assert hooks.post("radarr", body, Authorization=f"Basic {basic}")["status"] == 200
    bad = base64.b64encode(b"radarr:nope").decode()
    assert hooks.post("radarr", body, Authorization=f"Basic {bad}")["status"] == 401
    jobs_basic = hooks.client.get("/api/v1/jobs", headers={"Authorization": f"Basic {basic}"})
    assert jobs_basic.status_code == 401  # Basic is for the webhook endpoints only


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"movie": {}}, 422, "not a Radarr webhook: eventType is missing"),
        (
            {"eventType": "Download", "movie": movie()},
            422,
            "Radarr sent Download without movieFile.path",
        ),
        (
            radarr_download("/movies/none.mkv"),
            404,
            "none.mkv not found (is [integrations.radarr] path_map right?)",
        ),
    ],
)
def test_bad_bodies(hooks: Hooks, body: dict[str, object], status: int, detail: str) -> None:
    answer = hooks.post("radarr", body)
    assert answer["status"] == status
    assert detail in str(answer["detail"])


def test_other_events_are_acknowledged(hooks: Hooks) -> None:
    answer = hooks.post("radarr", {"eventType": "Grab", "movie": movie()})
    assert (answer["status"], answer["action"]) == (200, "ignore")


SERIES = {
    "id": 12,
    "title": "Frieren",
    "titleSlug": "frieren",
    "path": "/tv/Frieren",
    "tvdbId": 424536,
    "tvMazeId": 61372,
    "tmdbId": 209867,
    "imdbId": "tt22248376",
    "type": "anime",
    "year": 2023,
    "genres": ["Animation"],
    "tags": ["anime"],
    "originalLanguage": {"id": 8, "name": "Japanese"},
}


def episode_file(path: str, **extra: object) -> dict[str, object]:
    return {
        "id": 77,
        "relativePath": path.removeprefix("/tv/Frieren/"),
        "path": path,
        "quality": "WEBDL-1080p",
        "qualityVersion": 1,
        "releaseGroup": "SubsPlease",
        "size": 1,
        "dateAdded": "2026-12-03T10:00:00Z",
        **extra,
    }


def test_a_sonarr_import_complete_queues_every_file_in_one_job(hooks: Hooks) -> None:
    """Sonarr v4 "On Import Complete": WebhookImportCompletePayload, eventType Download,
    ``episodeFiles`` a list and no ``episodeFile``."""
    names = [hooks.root / "Frieren" / "Season 1" / f"e{n}.mkv" for n in (1, 2)]
    names[0].parent.mkdir(parents=True)
    for name in names:
        name.write_bytes(b"x")
    body = {
        "eventType": "Download",
        "instanceName": "Sonarr",
        "applicationUrl": "",
        "series": SERIES,
        "episodes": [{"id": 501, "episodeNumber": 1}, {"id": 502, "episodeNumber": 2}],
        "episodeFiles": [episode_file(f"/tv/Frieren/Season 1/e{n}.mkv") for n in (1, 2)],
        "release": {"releaseTitle": "[SubsPlease] Frieren - 01-02 (1080p)", "size": 2},
        "downloadClient": "SABnzbd",
        "downloadClientType": "SABnzbd",
        "downloadId": "SABnzbd_nzo_2",
        "fileCount": 2,
        "sourcePath": "/downloads/frieren",
        "destinationPath": "/tv/Frieren/Season 1",
    }
    answer = hooks.post("sonarr", body)
    assert (answer["status"], answer["action"], answer["files"]) == (200, "process", 2)
    job = hooks.library.jobs.get(int(answer["job_id"]))  # type: ignore[arg-type]
    assert job is not None and job.options.files == [str(name) for name in names]


def test_a_sonarr_upgrade_marks_the_replaced_episode_missing(hooks: Hooks) -> None:
    new, old = (hooks.root / "Frieren" / name for name in ("e1 1080p.mkv", "e1 720p.mkv"))
    stored(hooks, old)
    old.unlink()
    new.write_bytes(b"x")
    body = {
        "eventType": "Download",
        "series": SERIES,
        "episodes": [{"id": 501, "episodeNumber": 1, "seasonNumber": 1}],
        "episodeFile": episode_file("/tv/Frieren/e1 1080p.mkv"),
        "isUpgrade": True,
        "deletedFiles": [episode_file("/tv/Frieren/e1 720p.mkv", recycleBinPath="")],
        "downloadClient": "SABnzbd",
        "downloadId": "nzo",
        "customFormatInfo": {"customFormats": [], "customFormatScore": 0},
    }
    answer = hooks.post("sonarr", body)
    assert (answer["status"], answer["action"], answer["files"]) == (200, "process", 1)
    gone = hooks.library.file_state(old)
    assert gone is not None and gone.status is FileStatus.MISSING


def test_sonarr_rename_and_episode_file_delete(hooks: Hooks) -> None:
    old, new, deleted = (hooks.root / "Frieren" / n for n in ("a.mkv", "S01E01.mkv", "b.mkv"))
    stored(hooks, old)
    stored(hooks, deleted)
    old.rename(new)
    deleted.unlink()
    renamed = episode_file(
        "/tv/Frieren/S01E01.mkv", previousRelativePath="a.mkv", previousPath="/tv/Frieren/a.mkv"
    )
    answer = hooks.post(
        "sonarr", {"eventType": "Rename", "series": SERIES, "renamedEpisodeFiles": [renamed]}
    )
    assert (answer["status"], answer["action"], answer["files"]) == (200, "rename", 1)
    answer = hooks.post(
        "sonarr",
        {
            "eventType": "EpisodeFileDelete",
            "series": SERIES,
            "episodes": [{"id": 502, "episodeNumber": 2}],
            "episodeFile": episode_file("/tv/Frieren/b.mkv"),
            "deleteReason": "manual",
        },
    )
    assert (answer["status"], answer["action"], answer["files"]) == (200, "delete", 1)
    assert hooks.library.file_state(old) is None
    assert hooks.library.file_state(new) is not None
    state = hooks.library.file_state(deleted)
    assert state is not None and state.status is FileStatus.MISSING


@pytest.mark.parametrize("program", ["sonarr", "radarr"])
@pytest.mark.parametrize(
    "event", ["Grab", "SeriesAdd", "MovieAdded", "HealthIssue", "ManualInteractionRequired"]
)
def test_both_hooks_need_the_token_and_acknowledge_other_events(
    hooks: Hooks, program: str, event: str
) -> None:
    body = {"eventType": event, "instanceName": program.capitalize()}
    assert hooks.client.post(f"/api/v1/hooks/{program}", json=body).status_code == 401
    answer = hooks.post(program, body)
    assert (answer["status"], answer["action"], answer["message"]) == (
        200,
        "ignore",
        "nothing to do",
    )
