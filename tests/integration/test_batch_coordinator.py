"""The batch coordinator on real media: any executor, one pipeline for run, dry run and scan.

The ProcessPoolExecutor test keeps the per-file function honest: its inputs must
pickle and nothing in it may depend on living in the coordinator's process.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.apply.settings import ApplySettings
from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.batch.runner import BatchLimits, BatchResult
from vpo.library import Library
from vpo.library.scan import ScanOptions, scan_paths
from vpo.policy.loader import parse_policy
from vpo.probe.cheapest import cheapest_prober
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult, FileStatus

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

REMUX = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng")),
    subtitles=(SubtitleSpec(language="ger"), SubtitleSpec(language="eng")),
)
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: strip
    audio_filter: {languages: [eng]}
    subtitle_filter: {languages: [eng]}
  - name: flags
    default_flags:
      set_preferred_audio_default: true
      clear_other_defaults: true
"""


class Events:
    """A ProcessObserver that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.started: list[Path] = []
        self.finished: list[FileResult] = []
        self.notices: list[str] = []

    def batch_started(self, total: int) -> None:
        self.total = total

    def file_started(self, path: Path) -> None:
        self.started.append(path)

    def file_finished(self, result: FileResult) -> None:
        self.finished.append(result)

    def progress(self, progress: EncodeProgress) -> None:
        """Encodes only."""

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        self.notices.append(f"{path}: {text}")


def request(root: Path, tools: ToolPaths, **changes: Any) -> ProcessRequest:
    policy = parse_policy(POLICY, "p.yaml")
    base = ProcessRequest(
        paths=(root,),
        policy=policy,
        phases=policy.phases,
        tools=tools,
        extensions=("mkv",),
        settings=ApplySettings(stable_seconds=0.0),
        workers=2,
        policy_name="p.yaml",
        policy_hash="0123456789abcdef",
        keep_results=True,
    )
    return replace(base, **changes)


def audio_languages(path: Path, tools: ToolPaths) -> list[str]:
    assert tools.mkvmerge is not None
    out = subprocess.run(
        [tools.mkvmerge, "-J", str(path)], capture_output=True, check=True, text=True
    ).stdout
    return [
        t["properties"].get("language", "und")
        for t in json.loads(out)["tracks"]
        if t["type"] in ("audio", "subtitles")
    ]


def run(
    req: ProcessRequest, executor: Executor, library: Library | None
) -> tuple[BatchResult, Events]:
    events = Events()
    with executor:
        batch = run_process_batch(req, executor=executor, observer=events, library=library)
    return batch, events


def test_a_small_real_batch_runs_through_a_process_pool(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    files = [media_factory(REMUX, f"lib/{n}.mkv") for n in ("a", "b", "c")]
    with Library.open(tmp_path / "library.db") as library:
        batch, events = run(request(files[0].parent, tools), ProcessPoolExecutor(2), library)
        assert batch.count(FileStatus.CHANGED) == 3, [r.error for r in batch.results]
        for path in files:
            assert audio_languages(path, tools) == ["eng", "eng"]
        assert events.total == 3 and sorted(events.started) == files
        assert {r.worker for r in batch.results} == {"MainThread"}  # ran in other processes
        records = list(library.iter_file_results())
        assert sorted(r.path for r in records) == files
        # A rerun resolves every file from the cache in the coordinator: nothing is submitted.
        again, _ = run(request(files[0].parent, tools), _NoSubmit(), library)
        assert again.count(FileStatus.UNCHANGED) == 3
        rows = list(library.iter_file_results())
        assert [r.outcome.value for r in rows[3:]] == ["unchanged"] * 3  # `vpo status` counts


def test_a_file_that_already_conforms_is_cached_by_its_first_run(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    conforming = MediaSpec(
        audio=(AudioSpec(language="eng", default=True),),
        subtitles=(SubtitleSpec(language="eng"),),
    )
    path = media_factory(conforming, "lib/ok.mkv")
    with Library.open(tmp_path / "library.db") as library:
        first, _ = run(request(path.parent, tools), ThreadPoolExecutor(1), library)
        assert first.count(FileStatus.UNCHANGED) == 1, [r.error for r in first.results]
        # probed by a worker, not from the cache: its probe is stored for the next run
        again, _ = run(request(path.parent, tools), _NoSubmit(), library)
        assert again.count(FileStatus.UNCHANGED) == 1


class _NoSubmit(ThreadPoolExecutor):
    """An executor that fails the test when any work reaches it."""

    def __init__(self) -> None:
        super().__init__(1)

    def submit(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise AssertionError("a cached, conforming file was sent to a worker")


def test_a_dry_run_plans_on_the_same_pool_and_changes_nothing(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    files = [media_factory(REMUX, f"lib/{n}.mkv") for n in ("a", "b")]
    before = [path.read_bytes() for path in files]
    batch, _ = run(request(files[0].parent, tools, dry_run=True), ProcessPoolExecutor(2), None)
    assert [path.read_bytes() for path in files] == before
    kinds = {r.path.name: r.evaluation.kind.value for r in batch.results if r.evaluation}
    assert kinds == {"a.mkv": "remux", "b.mkv": "remux"}


def test_max_files_starts_no_more_and_says_why(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    files = [media_factory(REMUX, f"lib/{n}.mkv") for n in ("a", "b", "c")]
    req = request(files[0].parent, tools, workers=1, limits=BatchLimits(max_files=2))
    with Library.open(tmp_path / "library.db") as library:
        batch, _ = run(req, ThreadPoolExecutor(1), library)
        assert [r.path.name for r in batch.results] == ["a.mkv", "b.mkv"]
        assert batch.stopped_early and batch.stop_reason == "limit reached: 2 files"
        assert audio_languages(files[2], tools) == ["fre", "eng", "ger", "eng"]
        (run_row,) = library.runs()
        assert run_row.policy_hash == "0123456789abcdef" and run_row.counts.changed == 2


def test_a_scan_runs_its_probes_through_a_process_pool(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    mp4 = MediaSpec(container="mp4", audio=(AudioSpec(language="eng", default=True),))
    files = [media_factory(REMUX, "lib/a.mkv"), media_factory(mp4, "lib/b.mp4")]
    with Library.open(tmp_path / "library.db") as library, ProcessPoolExecutor(2) as pool:
        summary = scan_paths(
            [files[0].parent],
            library,
            cheapest_prober(tools, timeout=60),
            ScanOptions(extensions=("mkv", "mp4"), workers=2),
            executor=pool,
        )
        assert (summary.counts.new, summary.counts.errors) == (2, 0)
        for path in files:
            info = path.stat()
            cached = library.cached_media(
                path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
            )
            assert cached is not None and cached.path == path
