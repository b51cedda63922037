"""Sonarr/Radarr metadata through the batch coordinator, on real media.

``ProcessRequest.metadata_for`` is looked up per chunk of paths and each file's
FileMetadata travels with its work, to threads, other processes and the
coordinator's cached-conformant shortcut alike; dry-run sees it too.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.apply.settings import ApplySettings
from vpo.batch.pathmap import PathMap
from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.batch.remote import RemoteWork
from vpo.batch.runner import BatchResult
from vpo.library import Library
from vpo.media.metadata import FileMetadata, TitleMetadata
from vpo.policy.loader import parse_policy
from vpo.probe.cheapest import CheapestProber
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.workflow.context import WorkflowContext
from vpo.workflow.planned import plan_file
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


EXAMPLE = Path(__file__).parents[2] / "examples" / "policies" / "original-language.yaml"


def sonarr(language: str, **fields: Any) -> FileMetadata:
    return FileMetadata((TitleMetadata(source="sonarr", original_language=language, **fields),))


def outcome(result: FileResult) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a result says each phase did (dry-run and real run must say the same)."""
    return [(p.phase, p.status.value, p.changes) for p in result.phases]


def test_the_original_language_example_in_one_batch(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    """Three original languages: an anime film (Radarr, tagged anime): Japanese +
    English, Japanese default; a French film (Radarr): French + English, English
    default; a German series (Sonarr): German + English, English default; a film
    nobody knows: untouched."""
    anime = media_factory(ANIME, "lib/anime.mkv")
    french = media_factory(FRENCH, "lib/french.mkv")
    german = media_factory(ANIME, "lib/german.mkv")
    unknown = media_factory(FRENCH, "lib/unknown.mkv")
    lookup = Lookup(
        {
            anime: radarr("jpn", tags=("anime",)),
            french: radarr("fr", genres=("Drama",)),
            german: sonarr("German", genres=("Anime-free",)),
        }
    )
    req = request(anime.parent, tools, EXAMPLE.read_text(), metadata_for=lookup, workers=2)
    planned, _ = run(replace(req, dry_run=True), ThreadPoolExecutor(2))
    batch, _ = run(req, ThreadPoolExecutor(2))
    assert audio(anime, tools) == [("eng", False), ("jpn", True)]
    assert audio(french, tools) == [("eng", True), ("fre", False)]
    assert audio(german, tools) == [("eng", True), ("ger", False)]
    assert audio(unknown, tools) == [("eng", True), ("fre", False), ("ger", False)]
    statuses = {r.path.name: r.status for r in batch.results}
    assert statuses == {
        "anime.mkv": FileStatus.CHANGED,
        "french.mkv": FileStatus.CHANGED,
        "german.mkv": FileStatus.CHANGED,
        "unknown.mkv": FileStatus.UNCHANGED,
    }
    dry = {r.path.name: outcome(r) for r in planned.results}
    assert dry == {r.path.name: outcome(r) for r in batch.results}
    (warned,) = [r for r in batch.results if r.path.name == "unknown.mkv"]
    assert "original language unknown (Sonarr/Radarr do not know unknown.mkv)" in (
        warned.phases[0].message or ""
    )
    again, _ = run(req, ThreadPoolExecutor(2))
    assert {r.status for r in again.results} == {FileStatus.UNCHANGED}


RELEASE_DATE = """\
schema_version: 12
phases:
  - name: tidy
    audio_filter: {languages: [eng, jpn]}
  - name: time
    file_timestamp: {mode: release_date, fallback: preserve}
"""
JULY_20_2001 = 995587200 * 1_000_000_000  # 2001-07-20 00:00 UTC


def test_release_date_sets_the_file_time_once(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    """A file that needs no other change gets its time from the release date (a
    header-free change: same bytes); a second run plans nothing; the dry run said so."""
    conforming = media_factory(
        MediaSpec(audio=(AudioSpec(language="jpn", default=True),)), "lib/a.mkv"
    )
    content = conforming.read_bytes()
    mtime_before = conforming.stat().st_mtime_ns
    film = TitleMetadata(
        source="radarr",
        release_dates=(("in_cinemas", "2001-07-20T00:00:00Z"),),
    )
    lookup = Lookup({conforming: FileMetadata((film,))})
    req = request(conforming.parent, tools, RELEASE_DATE, metadata_for=lookup)
    with Library.open(tmp_path / "library.db") as library:
        planned, _ = run(replace(req, dry_run=True), ThreadPoolExecutor(1), library)
        assert conforming.stat().st_mtime_ns == mtime_before  # the dry run touched nothing
        batch, _ = run(req, ThreadPoolExecutor(1), library)
        (result,) = batch.results
        assert result.status is FileStatus.CHANGED, result.error
        assert outcome(result) == outcome(planned.results[0])
        assert outcome(result)[1] == (
            "time",
            "changed",
            ("file time → 2001-07-20 00:00 UTC (release date 2001-07-20 (radarr in_cinemas))",),
        )
        assert conforming.stat().st_mtime_ns == JULY_20_2001
        assert conforming.read_bytes() == content
        again, _ = run(req, _NoSubmit(), library)  # the cache knows the new time
        assert [(r.status, r.from_cache) for r in again.results] == [(FileStatus.UNCHANGED, True)]
    fresh, _ = run(req, ThreadPoolExecutor(1))  # probed again, without the library
    assert [r.status for r in fresh.results] == [FileStatus.UNCHANGED]
    assert conforming.stat().st_mtime_ns == JULY_20_2001


def test_release_date_after_a_remux_and_preserve_without_a_date(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    """The time is set after the replace; without a release date, fallback preserve
    gives the written file back its old time."""
    dated = media_factory(ANIME, "lib/dated.mkv")
    undated = media_factory(ANIME, "lib/undated.mkv")
    old = 1_500_000_000 * 1_000_000_000
    os.utime(undated, ns=(old, old))
    film = TitleMetadata(source="sonarr", release_dates=(("air_date", "2001-07-20"),))
    lookup = Lookup({dated: FileMetadata((film,))})
    req = request(dated.parent, tools, RELEASE_DATE, metadata_for=lookup)
    batch, _ = run(req, ThreadPoolExecutor(2))
    assert {r.status for r in batch.results} == {FileStatus.CHANGED}, [
        r.error for r in batch.results
    ]
    assert [lang for lang, _ in audio(dated, tools)] == ["eng", "jpn"]
    assert dated.stat().st_mtime_ns == JULY_20_2001
    assert [lang for lang, _ in audio(undated, tools)] == ["eng", "jpn"]
    assert undated.stat().st_mtime_ns == old
    again, _ = run(req, ThreadPoolExecutor(2))
    assert {r.status for r in again.results} == {FileStatus.UNCHANGED}


@pytest.mark.parametrize("mode", ["now", "preserve"])
def test_now_and_preserve_leave_an_untouched_file_alone(
    media_factory: MediaFactory, tools: ToolPaths, mode: str
) -> None:
    conforming = media_factory(
        MediaSpec(audio=(AudioSpec(language="eng", default=True),)), "lib/a.mkv"
    )
    old = 1_500_000_000 * 1_000_000_000
    os.utime(conforming, ns=(old, old))
    text = f"schema_version: 12\nphases:\n  - name: t\n    file_timestamp: {{mode: {mode}}}\n"
    batch, _ = run(request(conforming.parent, tools, text), ThreadPoolExecutor(1))
    assert [r.status for r in batch.results] == [FileStatus.UNCHANGED]
    assert conforming.stat().st_mtime_ns == old


class _NoSubmit(ThreadPoolExecutor):
    """An executor that fails the test when any work reaches it."""

    def __init__(self) -> None:
        super().__init__(1)

    def submit(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise AssertionError("a cached, conforming file was sent to a worker")


def test_remote_work_carries_the_metadata(media_factory: MediaFactory, tools: ToolPaths) -> None:
    """What a Dask worker runs (RemoteWork, pickled) plans with the file's metadata."""
    anime = media_factory(ANIME, "lib/anime.mkv")
    policy = parse_policy(JAPANESE_DEFAULT, "p.yaml")
    context = WorkflowContext(
        policy=policy,
        phases=policy.phases,
        tools=tools,
        settings=ApplySettings(stable_seconds=0.0),
        probe=CheapestProber(tools, 60.0),
    )
    work = RemoteWork(plan_file, anime, context, None, PathMap(), metadata=radarr("jpn"))
    result = pickle.loads(pickle.dumps(work))()
    assert result.evaluation is not None and result.evaluation.kind.value == "metadata"
    bare = RemoteWork(plan_file, anime, context, None, PathMap())()
    assert bare.evaluation is not None and bare.evaluation.kind.value == "noop"
