"""Server time of the library endpoints of ``vpo serve`` on a 100,000-file library,
and how fast a job event reaches an SSE client.

    .venv/bin/python bench/api.py [--files 100000] [--rounds 30]

Fills a fresh database (5 track layouts, 4 containers, a processing history on
every 10th file, every 30th failed), then requests each endpoint in interleaved
rounds through the ASGI app in-process and reads the server time the API's
request log records (the Guard times each request from the first byte in to
the last byte out). Prints median and p95 per request and the target (≤ 100 ms).
SSE: a real ``vpo serve`` on a free port; the time from POST /jobs sent to its
"queued" event read by a streaming client, median and max over 20 jobs.

``--compare-queries``: the file list's queries alone (count and page, no HTTP)
as of commit 7ee5bab (before schema 6, read with ``git show``) against this
tree's, on the same database in interleaved rounds: median CPU and wall time
of each, and the ratio this / before.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import warnings
from pathlib import Path

from vpo.config.models import LibraryConfig, ServerConfig, VPOConfig
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.runner import JobRunner
from vpo.library import FileOutcome, FileRecord, Library, ProbedFile
from vpo.library.maintenance import optimize_planner
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.services import Services
from vpo.tools.locate import ToolPaths

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import httpx

REQUESTS = [
    ("library totals", "/api/v1/library"),
    ("files, first page", "/api/v1/files"),
    ("files, page 1000", "/api/v1/files?offset=50000"),
    ("files ?path=", "/api/v1/files?path=show-07"),
    ("files ?container=mp4", "/api/v1/files?container=mp4"),
    ("files ?video_codec=hevc", "/api/v1/files?video_codec=hevc"),
    ("files ?audio_language=jpn", "/api/v1/files?audio_language=jpn"),
    ("files ?no_subtitle_language=eng", "/api/v1/files?no_subtitle_language=eng"),
    ("files ?resolution=uhd", "/api/v1/files?resolution=uhd"),
    ("files ?never_processed", "/api/v1/files?never_processed=true"),
    ("files ?last_failed", "/api/v1/files?last_failed=true"),
    (
        "files, 4 filters",
        "/api/v1/files?container=mkv&audio_language=eng&resolution=fhd&never_processed=true",
    ),
]

LAYOUTS = [
    ("h264", 1080, ("eng",), ("eng",)),
    ("hevc", 2160, ("eng", "fre"), ("eng", "fre")),
    ("h264", 720, ("jpn", "eng"), ("eng",)),
    ("mpeg4", 480, ("ger",), ()),
    ("av1", 1080, ("eng", "spa", "ita"), ("eng", "spa")),
]
CONTAINERS = [Container.MATROSKA, Container.MATROSKA, Container.MP4, Container.WEBM]


def media(i: int) -> MediaFile:
    codec, height, audio, subs = LAYOUTS[i % len(LAYOUTS)]
    tracks = [Track(0, 0, TrackType.VIDEO, codec, width=height * 16 // 9, height=height)]
    for language in audio:
        tracks.append(Track(len(tracks), len(tracks), TrackType.AUDIO, "aac", language=language))
    for language in subs:
        tracks.append(
            Track(len(tracks), len(tracks), TrackType.SUBTITLE, "subrip", language=language)
        )
    container = CONTAINERS[i % len(CONTAINERS)]
    suffix = {"mkv": ".mkv", "mp4": ".mp4", "webm": ".webm"}[container.value]
    path = Path(f"/media/show-{i % 97:02d}/season-{i % 7}/episode-{i:06d}{suffix}")
    return MediaFile(path, container, 1_000_000 + i, i, tuple(tracks), duration=1500.0, inode=i)


def fill(library: Library, files: int) -> None:
    batch = 2000
    for start in range(0, files, batch):
        library.write_scan_batch(
            probed=[ProbedFile(media(i), i) for i in range(start, min(files, start + batch))]
        )
    run = library.start_run(policy_name="bench", policy_hash="h", workers=2)
    records = [
        FileRecord(
            media(i).path,
            FileOutcome.FAILED if i % 30 == 0 else FileOutcome.CHANGED,
            bytes_saved=1000,
        )
        for i in range(0, files, 10)
    ]
    library.record_file_results(run, records)


class ServerTimes(logging.Handler):
    """Collects the milliseconds the Guard logs per request."""

    def __init__(self) -> None:
        super().__init__()
        self.last = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        self.last = float(record.args[3])  # type: ignore[index]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_endpoints(files: int, rounds: int, compare_queries: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "lib.db"
        started = time.monotonic()
        library = Library.open(database)
        fill(library, files)
        optimize_planner(library)  # as vpo serve does at start
        print(f"filled {files} files in {time.monotonic() - started:.1f} s", file=sys.stderr)
        config = VPOConfig(
            library=LibraryConfig(database=database, roots=(Path(scratch),)),
            server=ServerConfig(policy_dir=Path(scratch)),
        )
        events = EventBus()
        runner = JobRunner(JobEnvironment(library, config, ToolPaths()), events)
        services = Services(library, config, runner, events, Path(scratch))
        times = ServerTimes()
        request_log = logging.getLogger("vpo.server.requests")
        request_log.addHandler(times)
        request_log.setLevel(logging.INFO)
        client = TestClient(create_app(services, token=None, max_body=1 << 20))
        for _, url in REQUESTS:  # warm the page cache once
            assert client.get(url).status_code == 200, url
        measured: dict[str, list[float]] = {name: [] for name, _ in REQUESTS}
        cpu: dict[str, list[float]] = {name: [] for name, _ in REQUESTS}
        for _ in range(rounds):  # interleaved: every request once per round
            for name, url in REQUESTS:
                before = time.process_time()
                answer = client.get(url)
                cpu[name].append((time.process_time() - before) * 1000)
                assert answer.status_code == 200
                measured[name].append(times.last)
        print(
            f"| request ({files:,} files) | matches | server median ms | server p95 ms "
            "| ≤ 100 ms | CPU p95 ms (client + server) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for name, url in REQUESTS:
            body = client.get(url).json()
            matches = body.get("total", body.get("files"))
            p95 = percentile(measured[name], 0.95)
            verdict = "yes" if p95 <= 100 else "NO"
            print(
                f"| {name} | {matches} | {statistics.median(measured[name]):.1f} | "
                f"{p95:.1f} | {verdict} | {percentile(cpu[name], 0.95):.1f} |"
            )
        client.close()
        if compare_queries:
            bench_queries(library, rounds)
        library.close()


BEFORE_6 = "7ee5bab"  # the file list's queries before schema 6


def load_queries_before() -> types.ModuleType:
    """vpo.library.file_queries as of BEFORE_6, as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_6}:src/vpo/library/file_queries.py"],
        capture_output=True,
        check=True,
        cwd=Path(__file__).parent,
        stdin=subprocess.DEVNULL,
        timeout=60,
    ).stdout
    module = types.ModuleType("file_queries_before_6")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "file_queries_before_6.py", "exec"), module.__dict__)
    return module


def bench_queries(library: Library, rounds: int) -> None:
    from vpo.library import file_queries

    before = load_queries_before()
    cases = []
    for name, url in REQUESTS[1:]:
        query = dict(httpx.URL(url).params)
        offset = int(query.pop("offset", 0))
        fields = {
            {"path": "path_contains"}.get(key, key): value == "true"
            if key in ("never_processed", "last_failed")
            else value
            for key, value in query.items()
        }
        cases.append((name, fields, offset))
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):  # interleaved: each case, before then this tree
        for name, fields, offset in cases:
            for label, module in (("before", before), ("this", file_queries)):
                filters = module.FileFilters(**fields)
                started, used = time.perf_counter(), time.process_time()
                with library._read() as connection:
                    module.page_files(connection, filters, 50, offset)
                wall.setdefault((name, label), []).append((time.perf_counter() - started) * 1000)
                cpu.setdefault((name, label), []).append((time.process_time() - used) * 1000)
    print()
    print(
        f"| queries only, {rounds} rounds | CPU ms before | CPU ms this | CPU this / before "
        "| wall ms before | wall ms this |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, _, _ in cases:
        old_cpu, new_cpu = (statistics.median(cpu[(name, label)]) for label in ("before", "this"))
        old_wall, new_wall = (
            statistics.median(wall[(name, label)]) for label in ("before", "this")
        )
        print(
            f"| {name} | {old_cpu:.1f} | {new_cpu:.1f} | {new_cpu / old_cpu:.2f} | "
            f"{old_wall:.1f} | {new_wall:.1f} |"
        )


def bench_events(jobs: int) -> None:
    vpo = Path(sys.executable).with_name("vpo")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "library"
        root.mkdir()
        env = {
            **os.environ,
            "VPO_CONFIG": str(Path(scratch) / "none.toml"),
            "VPO_LIBRARY_DATABASE": str(Path(scratch) / "lib.db"),
            "VPO_LIBRARY_ROOTS": str(root),
            "VPO_SERVER_BACKUP_KEEP": "0",
        }
        daemon = subprocess.Popen(
            [str(vpo), "serve", "--port", "0", "--log-file", str(Path(scratch) / "log")],
            stderr=subprocess.PIPE,
            env=env,
        )
        assert daemon.stderr is not None
        address = daemon.stderr.readline().decode().rsplit(" ", 1)[1].strip()
        arrived: dict[int, float] = {}
        ready = threading.Event()
        changed = threading.Condition()

        def read() -> None:
            with httpx.stream("GET", f"{address}/api/v1/events", timeout=60) as answer:
                kind = ""
                for line in answer.iter_lines():
                    if line == ": connected":
                        ready.set()
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "job":
                        data = json.loads(line[6:])
                        if data["status"] == "queued":
                            with changed:
                                arrived.setdefault(data["job_id"], time.monotonic())
                                changed.notify_all()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(30)
        delays = []
        with httpx.Client(base_url=f"{address}/api/v1", timeout=60) as client:
            for _ in range(jobs):
                sent = time.monotonic()
                job_id = client.post("/jobs", json={"type": "scan", "paths": [str(root)]}).json()[
                    "id"
                ]
                with changed:
                    changed.wait_for(lambda: job_id in arrived, 30)  # noqa: B023
                delays.append((arrived[job_id] - sent) * 1000)
        daemon.terminate()
        daemon.wait(30)
    print()
    print("| SSE: POST /jobs sent → its `queued` event read | jobs | median ms | max ms |")
    print("| --- | --- | --- | --- |")
    median = statistics.median(delays)
    print(f"| real `vpo serve`, loopback | {jobs} | {median:.1f} | {max(delays):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--compare-queries", action="store_true")
    args = parser.parse_args()
    bench_endpoints(args.files, args.rounds, args.compare_queries)
    bench_events(args.jobs)
    print()
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
