"""A real ``vpo serve`` on a free loopback port, real tools, generated media.

End to end: a process job created over HTTP, its events read from
/api/v1/events, the file checked with ``mkvmerge -J``, its history at
/api/v1/files/{id}. SIGTERM during a slowed remux: the original stays intact,
the job is interrupted, requeued on restart and finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.daemon import VPO, WAIT, Daemon, daemon_env, running
from helpers.tracks import audio_languages
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs" / "process"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Setup:
    tmp: Path
    root: Path
    env: dict[str, str]
    daemons: contextlib.ExitStack
    started: int = 0

    def start(self, **extra_env: str) -> Daemon:
        """A daemon the fixture stops at the end if the test did not."""
        log = self.tmp / f"serve-{self.started}.log"
        self.started += 1
        return self.daemons.enter_context(running({**self.env, **extra_env}, log))


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    root = tmp_path / "library"
    env = daemon_env(tmp_path, roots=root, policies={"order": ORDER_POLICY})
    with contextlib.ExitStack() as daemons:
        yield Setup(tmp_path, root, env, daemons)


class EventReader:
    """Reads /api/v1/events in a thread; ``wait`` for a matching event."""

    def __init__(self, daemon: Daemon) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self._changed = threading.Condition()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(daemon,), daemon=True)
        self._thread.start()
        assert self._connected.wait(WAIT)

    def _read(self, daemon: Daemon) -> None:
        with daemon.client() as client, client.stream("GET", "/events") as answer:
            kind = ""
            for line in answer.iter_lines():
                if line == ": connected":
                    self._connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    with self._changed:
                        self.events.append((kind, json.loads(line[6:])))
                        self._changed.notify_all()

    def wait(self, kind: str, **match: object) -> dict[str, object]:
        def found() -> dict[str, object] | None:
            for event_kind, data in self.events:
                if event_kind == kind and all(data.get(k) == v for k, v in match.items()):
                    return data
            return None

        with self._changed:
            assert self._changed.wait_for(lambda: found() is not None, WAIT), (
                kind,
                match,
                self.events,
            )
            result = found()
        assert result is not None
        return result


def test_a_process_job_over_http_end_to_end(setup: Setup, media_factory: MediaFactory) -> None:
    film = media_factory(FOREIGN_FIRST, "library/films/film.mkv")
    assert audio_languages(film) == [("fre", True), ("eng", False)]
    daemon = setup.start()
    events = EventReader(daemon)
    with daemon.client() as client:
        assert client.get("/health").json()["status"] == "ok"
        created = client.post(
            "/jobs", json={"type": "process", "policy": "order", "paths": [str(setup.root)]}
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        events.wait("job", job_id=job_id, status="queued")
        result = events.wait("file", job_id=job_id)
        assert (result["path"], result["status"]) == (str(film), "changed")
        done = events.wait("job", job_id=job_id, status="completed")
        assert done["progress"] == {"files_done": 1, "files_total": 1, "active": {}}
        assert any(kind == "progress" for kind, _ in events.events)

        assert audio_languages(film) == [("eng", True), ("fre", False)]

        job = client.get(f"/jobs/{job_id}").json()
        assert job["status"] == "completed"
        (run_id,) = job["run_ids"]
        run = client.get(f"/runs/{run_id}").json()
        assert [r["outcome"] for r in run["results"]] == ["changed"]
        listed = client.get("/files", params={"path": "films/film"}).json()
        assert listed["total"] == 1
        history = client.get(f"/files/{listed['items'][0]['id']}").json()["history"]
        assert [(h["outcome"], h["run_id"]) for h in history] == [("changed", run_id)]
        assert history[0]["changes"]
    assert daemon.stop() == 0
    log = daemon.log.read_text(encoding="utf-8")
    assert f"job {job_id} started" in log
    assert f"job {job_id} file {film}: changed" in log
    assert "POST /api/v1/jobs 201" in log


def test_sigterm_during_a_remux_interrupts_the_job_and_a_restart_finishes_it(
    setup: Setup, media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "library/film.mkv")
    original = digest(film)
    tool_log = setup.tmp / "tools.log"
    slow = setup.start(
        VPO_SERVER_SHUTDOWN_TIMEOUT="0",
        VPO_STUB_LOG=str(tool_log),
        VPO_STUB_SLEEP="30",
        VPO_TOOLS_MKVMERGE=str(STUBS / "mkvmerge"),
        VPO_TOOLS_MKVPROPEDIT=str(STUBS / "mkvpropedit"),
    )
    with slow.client() as client:
        job_id = client.post(
            "/jobs", json={"type": "process", "policy": "order", "paths": [str(film)]}
        ).json()["id"]
    deadline = time.monotonic() + WAIT
    while "start mkvmerge" not in (tool_log.read_text() if tool_log.exists() else ""):
        assert time.monotonic() < deadline, "the remux never started"
        assert slow.process.poll() is None
        time.sleep(0.05)
    started = time.monotonic()
    assert slow.stop() == 0
    assert time.monotonic() - started < 20, "the tool was not stopped (it sleeps 30 s)"
    assert digest(film) == original
    assert sorted(p.name for p in film.parent.iterdir()) == ["film.mkv"]
    log = slow.log.read_text(encoding="utf-8")
    assert f"job {job_id} interrupted" in log
    assert "Traceback" not in log

    again = setup.start()
    events = EventReader(again)
    with again.client() as client:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] != "completed":
            events.wait("job", job_id=job_id, status="completed")
        job = client.get(f"/jobs/{job_id}").json()
        assert job["status"] == "completed"
        assert len(job["run_ids"]) == 2  # the interrupted run and the one that finished
    assert again.stop() == 0
    assert f"job {job_id} requeued after an interruption" in again.log.read_text(encoding="utf-8")
    assert audio_languages(film) == [("eng", True), ("fre", False)]


def test_a_public_bind_without_a_token_refuses_to_start(setup: Setup) -> None:
    result = subprocess.run(
        [str(VPO), "serve", "--bind", "0.0.0.0", "--port", "0"],
        capture_output=True,
        env=setup.env,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "vpo: refusing to listen on 0.0.0.0 without an access token: set [server] token "
        "(or VPO_SERVER_TOKEN), or bind to 127.0.0.1"
    ]


def test_jobs_cli_and_queue_work_with_and_without_a_daemon(
    setup: Setup, media_factory: MediaFactory
) -> None:
    def vpo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VPO), *args], capture_output=True, text=True, env=setup.env, timeout=WAIT
        )

    policy = setup.tmp / "policies" / "order.yaml"
    film = media_factory(FOREIGN_FIRST, "library/film.mkv")
    queued = vpo("process", "--queue", "-p", str(policy), str(film))
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.startswith("Queued job 1 (process, 1 path(s)); no vpo serve is running")
    assert " queued " in vpo("jobs", "list").stdout
    cancelled = vpo("jobs", "cancel", "1")
    assert (cancelled.returncode, " cancelled " in cancelled.stdout) == (0, True)
    twice = vpo("jobs", "cancel", "1")
    assert (twice.returncode, twice.stderr) == (2, "vpo: job 1 is cancelled: nothing to cancel\n")
    assert vpo("jobs", "retry", "1").returncode == 0

    daemon = setup.start()
    events = EventReader(daemon)
    # The retried job runs at start, maybe before the event stream is connected:
    # ask for its state rather than wait for an event that may have gone out.
    deadline = time.monotonic() + WAIT
    with daemon.client() as client:
        while client.get("/jobs/1").json()["status"] != "completed":
            assert time.monotonic() < deadline, client.get("/jobs/1").json()
            time.sleep(0.1)
    scan = vpo("scan", "--queue", str(setup.root))
    assert "vpo serve at http://127.0.0.1:" in scan.stdout, scan.stderr
    events.wait("job", job_id=2, status="completed")
    shown = vpo("jobs", "show", "1", "--json")
    assert json.loads(shown.stdout)["status"] == "completed"
    refused = vpo("db", "restore", str(setup.tmp / "lib.db"))
    assert refused.returncode == 2
    assert "vpo serve is running on this library" in refused.stderr
    assert daemon.stop() == 0
    assert audio_languages(film) == [("eng", True), ("fre", False)]


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of every thread: how often it woke."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def test_an_idle_daemon_does_not_wake_up(setup: Setup) -> None:
    daemon = setup.start()
    with daemon.client() as client:  # one request: every thread has started
        assert client.get("/health").status_code == 200
    time.sleep(0.5)
    before = context_switches(daemon.process.pid)
    time.sleep(3)
    woke = context_switches(daemon.process.pid) - before
    # A 0.1 s polling loop would wake 30 times; an idle daemon waits on events.
    assert woke <= 3, woke
    assert daemon.stop() == 0


def test_dry_run_plan_then_approve_with_http_only(
    setup: Setup, media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "library/film.mkv")
    conforming = media_factory(
        MediaSpec(audio=(AudioSpec(language="eng", default=True),)), "library/ok.mkv"
    )
    before = digest(film)
    daemon = setup.start()
    events = EventReader(daemon)
    with daemon.client() as client:
        plan_id = client.post(
            "/plans", json={"policy": "order", "paths": [str(setup.root)]}
        ).json()["id"]
        events.wait("job", job_id=plan_id, status="completed")
        plans = client.get(f"/plans/{plan_id}").json()
        kinds = {Path(item["path"]).name: item["kind"] for item in plans["items"]}
        assert kinds == {"film.mkv": "remux", "ok.mkv": "noop"}
        assert digest(film) == before  # a plan changes nothing
        approved = client.post(f"/plans/{plan_id}/approve")
        assert approved.status_code == 201, approved.text
        job = approved.json()
        assert job["options"]["files"] == [str(film)]  # exactly the files that change
        events.wait("job", job_id=job["id"], status="completed")
        assert client.post(f"/plans/{plan_id}/approve").status_code == 409
    assert daemon.stop() == 0
    assert audio_languages(film) == [("eng", True), ("fre", False)]
    assert audio_languages(conforming) == [("eng", True)]
