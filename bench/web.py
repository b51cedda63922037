"""Server time and size of each web page of ``vpo serve`` on a 100,000-file library.

    .venv/bin/python bench/web.py [--files 100000] [--rounds 20]

Fills a fresh database the way bench/api.py does (5 track layouts, 4 containers,
a processing history on every 10th file, every 30th failed), adds a plan job of
50 planned files and a process job, then requests every page in interleaved
rounds through the ASGI app in-process and reads the server time the request
log records (the Guard times each request from the first byte in to the last
byte out, so the HTML is fully rendered and sent). Prints median and p95 per
page against the target (≤ 300 ms) and each page's size (the library page:
≤ 200 kB).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from api import ServerTimes, fill, media, percentile  # bench/api.py, beside this script
from vpo.config.models import LibraryConfig, ServerConfig, VPOConfig
from vpo.jobs.execute import JobEnvironment
from vpo.jobs.model import JobStatus, JobType, NewJob
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.library.jobs import PlanItem
from vpo.library.maintenance import optimize_planner
from vpo.server.app import create_app
from vpo.server.events import EventBus
from vpo.server.services import Services
from vpo.tools.locate import ToolPaths

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TARGET_MS = 300
LIBRARY_BYTES = 200_000
POLICY = "schema_version: 12\nphases:\n  - name: order\n    track_order: [video, audio_main]\n"


def plan_document(i: int) -> dict[str, object]:
    track = {
        "position": 1,
        "source_index": 2,
        "type": "audio",
        "codec": "aac",
        "language": "eng",
        "title": None,
        "flags": {"default": True},
        "encode": None,
    }
    plan = {
        "phase": "order",
        "kind": "remux",
        "container": {"before": "matroska", "after": "matroska"},
        "tracks": [track],
        "removed": [{"source_index": 3, "reason": "language not wanted"}],
        "removed_attachments": [],
        "changes": [
            {
                "position": 1,
                "source_index": 2,
                "fields": {"default": {"before": False, "after": True}},
            }
        ],
        "warnings": [],
        "notes": ["track_order: tracks reordered"],
    }
    return {
        "path": str(media(i).path),
        "status": "planned",
        "kind": "remux",
        "error": None,
        "phases": [{"name": "order", "outcome": "completed", "reason": None, "plan": plan}],
    }


def add_jobs(library: Library) -> tuple[int, int]:
    plan = library.jobs.add(
        NewJob(type=JobType.PLAN, paths=["/media"], policy_name="order", policy_text=POLICY)
    )
    library.jobs.add_plans(
        plan.id,
        [PlanItem(media(i).path, 1, 1, 1, 1, "remux", plan_document(i)) for i in range(50)],
    )
    library.jobs.claim_next()
    library.jobs.finish(plan.id, JobStatus.COMPLETED)
    process = library.jobs.add(
        NewJob(type=JobType.PROCESS, paths=["/media"], policy_name="order", policy_text=POLICY)
    )
    return plan.id, process.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "lib.db"
        policies = Path(scratch) / "policies"
        policies.mkdir()
        (policies / "order.yaml").write_text(POLICY, encoding="utf-8")
        started = time.monotonic()
        library = Library.open(database)
        fill(library, args.files)
        plan_id, job_id = add_jobs(library)
        optimize_planner(library)  # as vpo serve does at start
        print(f"filled {args.files} files in {time.monotonic() - started:.1f} s", file=sys.stderr)
        config = VPOConfig(
            library=LibraryConfig(database=database, roots=(Path("/media"),)),
            server=ServerConfig(policy_dir=policies),
        )
        events = EventBus()
        runner = JobRunner(JobEnvironment(library, config, ToolPaths()), events)
        services = Services(library, config, runner, events, policies)
        times = ServerTimes()
        request_log = logging.getLogger("vpo.server.requests")
        request_log.addHandler(times)
        request_log.setLevel(logging.INFO)
        client = TestClient(create_app(services, token=None, max_body=1 << 20))
        middle = args.files // 2
        pages = [
            ("dashboard", "/"),
            ("library, first page", "/library"),
            ("library, page 1000", "/library?offset=50000"),
            ("library ?q=", "/library?q=show-07"),
            (
                "library, 4 filters",
                "/library?container=mkv&audio_language=eng&resolution=fhd&never_processed=true",
            ),
            ("library ?last_failed, 200 rows", "/library?last_failed=true&limit=200"),
            ("library by path", "/library?sort=path"),
            ("library by path, descending", "/library?sort=-path"),
            ("file", f"/files/{middle}"),
            ("policies + editor", "/policies?edit=order"),
            ("plan (50 files)", f"/plans/{plan_id}"),
            ("jobs", "/jobs"),
            ("job", f"/jobs/{job_id}"),
            ("settings", "/settings"),
            (
                "(API) files, 4 filters, for comparison",
                "/api/v1/files?container=mkv"
                "&audio_language=eng&resolution=fhd&never_processed=true",
            ),
        ]
        sizes = {}
        for name, url in pages:  # warm up, and check every page answers
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
            sizes[name] = len(answer.content)
        measured: dict[str, list[float]] = {name: [] for name, _ in pages}
        for _ in range(args.rounds):  # interleaved: every page once per round
            for name, url in pages:
                assert client.get(url).status_code == 200
                measured[name].append(times.last)
        print(
            f"| page ({args.files:,} files) | server median ms | server p95 ms "
            f"| ≤ {TARGET_MS} ms | HTML bytes |"
        )
        print("| --- | --- | --- | --- | --- |")
        for name, _ in pages:
            p95 = percentile(measured[name], 0.95)
            size_note = ""
            if name.startswith("library"):
                size_note = " (≤ 200 kB: yes)" if sizes[name] <= LIBRARY_BYTES else " (NO)"
            print(
                f"| {name} | {statistics.median(measured[name]):.1f} | {p95:.1f} | "
                f"{'yes' if p95 <= TARGET_MS else 'NO'} | {sizes[name]:,}{size_note} |"
            )
        client.close()
        library.close()
    print()
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
