"""An API on a temporary library, driven in-process through Starlette's TestClient.

The runner is built but not started unless a test starts it, so queued jobs stay
queued and every answer is deterministic.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vpo.config.models import LibraryConfig, ServerConfig, VPOConfig
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.services import Services
from vpo.tools.locate import ToolPaths

with warnings.catch_warnings():  # starlette 1.x nudges towards "httpx2"; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "s3cret-token"
VALID_POLICY = """\
# kept: a comment on top
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: order  # kept too
    track_order: [video, audio_main, audio_alternate]
"""


@dataclass
class Api:
    client: TestClient
    library: Library
    services: Services
    root: Path
    policies: Path
    outside: Path


ApiFactory = Callable[..., Api]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[ApiFactory]:
    opened: list[tuple[Library, TestClient]] = []

    def make(*, token: str | None = None, max_body: int = 64 * 1024, **sections: Any) -> Api:
        root = tmp_path / "library"
        policies = tmp_path / "policies"
        outside = tmp_path / "outside"
        for folder in (root, policies, outside):
            folder.mkdir(exist_ok=True)
        (policies / "good.yaml").write_text(VALID_POLICY, encoding="utf-8")
        config = VPOConfig(
            library=LibraryConfig(database=tmp_path / "lib.db", roots=(root,)),
            server=ServerConfig(token=token, policy_dir=policies, max_body=max_body),
            **sections,
        )
        library = Library.open(config.library.database)
        events = EventBus()
        runner = JobRunner(JobEnvironment(library, config, ToolPaths()), events)
        services = Services(library, config, runner, events, policies)
        client = TestClient(create_app(services, token=token, max_body=max_body))
        opened.append((library, client))
        return Api(client, library, services, root, policies, outside)

    yield make
    for library, client in opened:
        client.close()
        library.close()


@pytest.fixture
def api(make_api: ApiFactory) -> Api:
    return make_api()


def media(
    path: Path,
    *,
    container: Container = Container.MATROSKA,
    video_codec: str = "h264",
    height: int = 1080,
    audio: tuple[str, ...] = ("eng",),
    subtitles: tuple[str, ...] = (),
    size: int = 1000,
) -> MediaFile:
    tracks = [
        Track(index=0, track_id=0, type=TrackType.VIDEO, codec=video_codec, width=1, height=height)
    ]
    for language in audio:
        tracks.append(Track(len(tracks), len(tracks), TrackType.AUDIO, "aac", language=language))
    for language in subtitles:
        tracks.append(
            Track(len(tracks), len(tracks), TrackType.SUBTITLE, "subrip", language=language)
        )
    return MediaFile(
        path=path, container=container, size=size, mtime_ns=1, tracks=tuple(tracks), inode=1
    )
