"""Sonarr/Radarr metadata through the batch coordinator, on real media.

``ProcessRequest.metadata_for`` is looked up per chunk of paths and each file's
FileMetadata travels with its work, to threads, other processes and the
coordinator's cached-conformant shortcut alike; dry-run sees it too.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.apply.settings import ApplySettings
from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.batch.runner import BatchResult
from vpo.library import Library
from vpo.media.metadata import FileMetadata, TitleMetadata
from vpo.policy.loader import parse_policy
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult, FileStatus

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

ANIME = MediaSpec(
    audio=(
        AudioSpec(language="eng", default=True),
        AudioSpec(language="jpn"),
        AudioSpec(language="ger"),
    )
)
FRENCH = MediaSpec(
    audio=(
        AudioSpec(language="eng", default=True),
        AudioSpec(language="fre"),
        AudioSpec(language="ger"),
    )
)
JAPANESE_DEFAULT = """\
schema_version: 12
phases:
  - name: original
    conditional:
      - name: japanese
        when: "radarr:original_language == jpn"
        then:
          - set_default: {track_type: audio, language: jpn}
"""


def radarr(language: str, **fields: Any) -> FileMetadata:
    return FileMetadata((TitleMetadata(source="radarr", original_language=language, **fields),))


class Events:
    def __init__(self) -> None:
        self.finished: list[FileResult] = []
        self.notices: list[str] = []

    def batch_started(self, total: int) -> None:
        """Not needed here."""

    def file_started(self, path: Path) -> None:
        """Not needed here."""

    def file_finished(self, result: FileResult) -> None:
        self.finished.append(result)

    def progress(self, progress: EncodeProgress) -> None:
        """Encodes only."""

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        self.notices.append(f"{path}: {text}")


class Lookup:
    """A dict-backed ``metadata_for`` that remembers what it was asked."""

    def __init__(self, known: Mapping[Path, FileMetadata]) -> None:
        self.known = dict(known)
        self.asked: list[list[Path]] = []

    def __call__(self, paths: Sequence[Path]) -> dict[Path, FileMetadata]:
        self.asked.append(list(paths))
        return {path: self.known[path] for path in paths if path in self.known}


def request(root: Path, tools: ToolPaths, text: str, **changes: Any) -> ProcessRequest:
    policy = parse_policy(text, "p.yaml")
    base = ProcessRequest(
        paths=(root,),
        policy=policy,
        phases=policy.phases,
        tools=tools,
        extensions=("mkv",),
        settings=ApplySettings(stable_seconds=0.0),
        workers=2,
        keep_results=True,
    )
    return replace(base, **changes)


def run(
    req: ProcessRequest, executor: Executor, library: Library | None = None
) -> tuple[BatchResult, Events]:
    events = Events()
    with executor:
        batch = run_process_batch(req, executor=executor, observer=events, library=library)
    return batch, events


def audio(path: Path, tools: ToolPaths) -> list[tuple[str, bool]]:
    """(language, default) of every audio track, as mkvmerge -J reads the file."""
    assert tools.mkvmerge is not None
    out = subprocess.run(
        [tools.mkvmerge, "-J", str(path)], capture_output=True, check=True, text=True
    ).stdout
    return [
        (t["properties"].get("language", "und"), bool(t["properties"].get("default_track")))
        for t in json.loads(out)["tracks"]
        if t["type"] == "audio"
    ]


@pytest.mark.parametrize("pool", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_each_file_gets_its_own_metadata_in_threads_and_processes(
    media_factory: MediaFactory, tools: ToolPaths, pool: Callable[[int], Executor]
) -> None:
    anime = media_factory(ANIME, "lib/anime.mkv")
    french = media_factory(FRENCH, "lib/french.mkv")
    lookup = Lookup({anime: radarr("jpn"), french: radarr("fre")})
    req = request(anime.parent, tools, JAPANESE_DEFAULT, metadata_for=lookup)
    planned, _ = run(replace(req, dry_run=True), pool(2))
    assert {r.path.name: r.evaluation.kind.value for r in planned.results if r.evaluation} == {
        "anime.mkv": "metadata",
        "french.mkv": "noop",
    }
    batch, _ = run(req, pool(2))
    statuses = {r.path.name: r.status for r in batch.results}
    assert statuses == {"anime.mkv": FileStatus.CHANGED, "french.mkv": FileStatus.UNCHANGED}
    assert audio(anime, tools) == [("eng", False), ("jpn", True), ("ger", False)]
    assert audio(french, tools) == [("eng", True), ("fre", False), ("ger", False)]
    # asked once for the one chunk, with the absolute paths the library stores
    assert [sorted(chunk) for chunk in lookup.asked] == [[anime, french]] * 2


def test_without_metadata_the_condition_is_false(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    anime = media_factory(ANIME, "lib/anime.mkv")
    batch, _ = run(request(anime.parent, tools, JAPANESE_DEFAULT), ThreadPoolExecutor(1))
    assert [r.status for r in batch.results] == [FileStatus.UNCHANGED]
    assert audio(anime, tools)[0] == ("eng", True)


def test_the_cached_shortcut_sees_the_metadata(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    """A file cached as conforming (no metadata then) is sent to a worker once its
    metadata makes the policy want a change."""
    anime = media_factory(ANIME, "lib/anime.mkv")
    with Library.open(tmp_path / "library.db") as library:
        first, _ = run(
            request(anime.parent, tools, JAPANESE_DEFAULT), ThreadPoolExecutor(1), library
        )
        assert [r.status for r in first.results] == [FileStatus.UNCHANGED]
        lookup = Lookup({anime: radarr("jpn")})
        req = request(anime.parent, tools, JAPANESE_DEFAULT, metadata_for=lookup)
        second, _ = run(req, ThreadPoolExecutor(1), library)
        assert [r.status for r in second.results] == [FileStatus.CHANGED]
        assert audio(anime, tools)[1] == ("jpn", True)
        third, _ = run(req, ThreadPoolExecutor(1), library)
        assert [(r.status, r.from_cache) for r in third.results] == [(FileStatus.UNCHANGED, True)]


def test_a_failing_lookup_fails_its_files_and_touches_nothing(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    anime = media_factory(ANIME, "lib/anime.mkv")
    before = anime.read_bytes()

    def broken(paths: Sequence[Path]) -> dict[Path, FileMetadata]:
        raise OSError("database is locked")

    req = request(anime.parent, tools, JAPANESE_DEFAULT, metadata_for=broken)
    batch, _ = run(req, ThreadPoolExecutor(1))
    (result,) = batch.results
    assert result.status is FileStatus.FAILED
    assert result.error == (
        "metadata lookup failed (OSError: database is locked); the file was not touched, run again"
    )
    assert anime.read_bytes() == before
