"""Speed-up of ``vpo process --workers N`` on I/O-bound batches, and records at 8 workers.

    .venv/bin/python bench/parallel.py [--files 40] [--large-files 20] [--large-mb 20]
                                       [--workers 1 2 4] [--library-files 2000]

Each batch runs the real CLI (a subprocess of .venv/bin/vpo, cap lifted with
VPO_PROCESSING_MAX_WORKERS) on fresh copies of one generated file:

- metadata: right order, wrong default audio → one mkvpropedit edit per file;
- remux: French first → one mkvmerge pass per file (English first);
- remux-large: the same with a ``--large-mb`` attachment, so the copy dominates.

The wall time includes vpo's start-up, discovery and the library writes, as a
user sees it. Speed-up is time(1 worker) / time(N workers), measured in this run.
With ``--dask ROUNDS`` it instead compares the ``--files`` remux batch at 2 workers
through a local Dask cluster (a ``dask scheduler`` and two ``dask worker
--nthreads 1`` on loopback, started and stopped here; the workers' profiler off
as docs/distributed.md recommends, ``--dask-worker-profiling`` keeps it on) with
the thread executor, in interleaved rounds (medians), and measures the
coordinator's dispatch rate:
files per second it submits to the cluster, collects and records in a library
when the per-file work does nothing. ``--dask-serve`` compares the same batch as
jobs of two running ``vpo serve`` daemons instead (one on threads, one on the
cluster; the job's recorded start to finish), so the command's start-up, which a
daemon pays once, is left out.

The last check runs ``--library-files`` metadata edits at 8 workers and counts
the records in the library (``vpo report files``): every file must be there and
no "database is locked" may appear.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vpo.testmedia.factory import generate_media
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import ToolPaths, locate_tools
from vpo.workflow.result import FileResult, FileStatus

VPO = Path(sys.executable).with_name("vpo")
POLICY = ORDER_POLICY
REMUX = FOREIGN_FIRST  # one mkvmerge pass: English first
METADATA = MediaSpec(audio=(AudioSpec(language="eng"), AudioSpec(language="fre", default=True)))


@dataclass(frozen=True, slots=True)
class Timing:
    workers: int
    seconds: float
    changed: int
    workers_used: int


def make_sources(work: Path, tools: ToolPaths, large_mb: int) -> dict[str, Path]:
    remux = generate_media(REMUX, work / "remux.mkv", tools)
    metadata = generate_media(METADATA, work / "metadata.mkv", tools)
    blob = work / "blob.bin"
    with blob.open("wb") as out:
        for _ in range(large_mb):
            out.write(os.urandom(1024 * 1024))
    large = work / "remux-large.mkv"
    subprocess.run(
        [
            tools.require("mkvmerge"),
            "--quiet",
            "--output",
            str(large),
            "--attachment-mime-type",
            "application/octet-stream",
            "--attach-file",
            str(blob),
            str(remux),
        ],
        check=True,
    )
    blob.unlink()
    return {"metadata": metadata, "remux": remux, "remux-large": large}


def copies(source: Path, directory: Path, count: int) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for i in range(count):
        shutil.copyfile(source, directory / f"f{i:05d}.mkv")
    return directory


def run_vpo(
    media: Path, database: Path, policy: Path, workers: int
) -> tuple[float, dict[str, float], str]:
    env = {
        **os.environ,
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_PROCESSING_MAX_WORKERS": str(max(workers, 1)),
    }
    argv = [str(VPO), "process", "--db", str(database), "-p", str(policy), "--json", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run([*argv, "-w", str(workers), str(media)], capture_output=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"vpo exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    numbers = json.loads(done.stdout)["summary"].items()
    summary = {k: v for k, v in numbers if type(v) in (int, float)}  # seconds: of the batch
    return seconds, summary, done.stderr.decode()


def batch(
    name: str, source: Path, count: int, worker_counts: list[int], work: Path, policy: Path
) -> list[Timing]:
    timings: list[Timing] = []
    for workers in worker_counts:
        media = copies(source, work / name, count)
        database = work / f"{name}-{workers}.sqlite"
        seconds, summary, _ = run_vpo(media, database, policy, workers)
        timings.append(Timing(workers, seconds, int(summary["changed"]), int(summary["workers"])))
    shutil.rmtree(work / name)
    return timings


def print_batch(name: str, count: int, size: int, timings: list[Timing]) -> None:
    base = timings[0].seconds
    print(f"\n{name}: {count} files of {size / 1e6:.1f} MB")
    print(f"  {'workers':>7} {'wall s':>8} {'ms/file':>8} {'speed-up':>8}  changed")
    for t in timings:
        print(
            f"  {t.workers_used:>7} {t.seconds:>8.2f} {t.seconds / count * 1000:>8.1f} "
            f"{base / t.seconds:>7.2f}x  {t.changed}/{count}"
        )


def library_check(source: Path, count: int, work: Path, policy: Path) -> None:
    media = copies(source, work / "library", count)
    database = work / "library.sqlite"
    seconds, summary, stderr = run_vpo(media, database, policy, 8)
    report = subprocess.run(
        [str(VPO), "report", "files", "--json", "--db", str(database)],
        capture_output=True,
        check=True,
    )
    rows = json.loads(report.stdout)
    recorded = {row["path"] for row in rows}
    locked = "locked" in stderr.lower()
    print(
        f"\nlibrary: {count} metadata edits at {summary['workers']} workers in {seconds:.1f} s "
        f"({seconds / count * 1000:.1f} ms/file): {summary['changed']} changed, "
        f"{summary['failed']} failed, {len(recorded)} records, "
        f"'database is locked': {'YES' if locked else 'no'}"
    )
    if locked or len(recorded) != count or summary["changed"] != count:
        raise SystemExit("library check FAILED")
    shutil.rmtree(media)


@contextlib.contextmanager
def local_cluster(work: Path, *, worker_profiling: bool = False) -> Iterator[str]:
    """A scheduler and two one-thread workers on loopback; their address. The workers
    run as docs/distributed.md recommends (Dask's statistical profiler off) unless
    ``worker_profiling``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"127.0.0.1:{port}"
    log = (work / "cluster.log").open("wb")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": str(worker_profiling)}
    common = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True, "env": env}
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        for name in ("w1", "w2"):
            processes.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        f"tcp://{address}",
                        "--name",
                        name,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--no-nanny",
                        "--host",
                        "127.0.0.1",
                    ],
                    **common,  # type: ignore[call-overload]
                )
            )
        from distributed import Client

        with Client(f"tcp://{address}", timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):  # workers first, then the scheduler
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def dask_comparison(
    source: Path, count: int, rounds: int, work: Path, policy: Path, *, worker_profiling: bool
) -> None:
    threads: list[float] = []
    dask: list[float] = []
    inside: dict[str, list[float]] = {"threads": [], "dask": []}  # the batch loop alone
    with local_cluster(work, worker_profiling=worker_profiling) as address:
        for _ in range(rounds):
            for kind, times in (("threads", threads), (f"dask://{address}", dask)):
                media = copies(source, work / "remux-dask", count)
                database = work / f"dask-{len(times)}-{len(threads)}.sqlite"
                os.environ["VPO_PROCESSING_EXECUTOR"] = kind
                try:
                    seconds, summary, _ = run_vpo(media, database, policy, 2)
                finally:
                    del os.environ["VPO_PROCESSING_EXECUTOR"]
                if summary["changed"] != count:
                    raise SystemExit(f"{kind}: {summary['changed']}/{count} changed")
                times.append(seconds)
                inside["threads" if kind == "threads" else "dask"].append(summary["seconds"])
        rates: list[float] = []
        chunked: list[float] = []
        for _ in range(3):  # interleaved
            rates.append(dispatch_rate(address, 2000, work))
            chunked.append(dispatch_rate(address, 2000, work, chunked=True))
    t, d = statistics.median(threads), statistics.median(dask)
    ratios = sorted(b / a for a, b in zip(threads, dask, strict=True))
    size = source.stat().st_size / 1e6
    print(
        f"\nremux: {count} files of {size:.1f} MB at 2 workers, {rounds} interleaved rounds "
        "(medians, min-max)"
    )
    print(
        f"  threads {t:.2f} s ({min(threads):.2f}-{max(threads):.2f}), dask (local 2-worker "
        f"cluster) {d:.2f} s ({min(dask):.2f}-{max(dask):.2f}): {d / t:.2f}x "
        f"(per round {ratios[0]:.2f}-{ratios[-1]:.2f}x)"
    )
    t_in, d_in = statistics.median(inside["threads"]), statistics.median(inside["dask"])
    print(
        f"  the batch loop alone (summary seconds: no start-up, connection or exit) "
        f"threads {t_in:.2f} s, dask {d_in:.2f} s: {d_in / t_in:.2f}x; the rest, start-up "
        f"to exit: threads {t - t_in:.2f} s, dask {d - d_in:.2f} s"
    )
    print(
        f"  Dask's cost per file in the batch loop: {(d_in - t_in) / count * 2 * 1000:.0f} ms "
        "of a worker's time (2 in flight)"
    )
    print(
        f"dispatch: {statistics.median(rates):.0f} files/s submitted, collected and recorded "
        f"(no-op work; 3 runs of 2000: {', '.join(f'{r:.0f}' for r in rates)}; one file "
        f"per task); with chunks (up to 16 files per task): {statistics.median(chunked):.0f} "
        f"files/s ({', '.join(f'{r:.0f}' for r in chunked)})"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


@contextlib.contextmanager
def daemon(work: Path, name: str, media: Path, policy: Path, executor: str) -> Iterator[str]:
    """A real ``vpo serve`` on loopback running its jobs on ``executor``; its API URL."""
    policies = work / f"{name}-policies"
    policies.mkdir(exist_ok=True)
    shutil.copyfile(policy, policies / "order.yaml")
    env = {
        **os.environ,
        "VPO_CONFIG": str(work / f"{name}-config.toml"),
        "VPO_LIBRARY_DATABASE": str(work / f"{name}.sqlite"),
        "VPO_LIBRARY_ROOTS": str(media),
        "VPO_SERVER_POLICY_DIR": str(policies),
        "VPO_SERVER_BACKUP_KEEP": "0",
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_PROCESSING_WORKERS": "2",
        "VPO_PROCESSING_MAX_WORKERS": "2",
        "VPO_PROCESSING_EXECUTOR": executor,
    }
    log = work / f"{name}-serve.log"
    process = subprocess.Popen(
        [str(VPO), "serve", "--port", "0", "--log-file", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        if "listening on" not in line:
            raise SystemExit(f"vpo serve ({name}) did not start: {line}")
        yield next(word for word in line.split() if word.startswith("http://")) + "/api/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def job_seconds(api: str, media: Path, count: int) -> float:
    """Run one process job over ``media`` on the daemon at ``api``; the job's own time
    (started to finished, as the daemon recorded it)."""
    import httpx

    with httpx.Client(base_url=api, timeout=60) as client:
        created = client.post(
            "/jobs", json={"type": "process", "policy": "order", "paths": [str(media)]}
        )
        created.raise_for_status()
        job_id = created.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            job = client.get(f"/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed", "cancelled", "interrupted"):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"job {job_id} did not finish: {job}")
            time.sleep(0.05)
    if job["status"] != "completed" or job["progress"]["files_done"] != count:
        raise SystemExit(f"job {job_id}: {job['status']}, {job['progress']}")
    return float(job["finished_at"]) - float(job["started_at"])


def serve_comparison(
    source: Path, count: int, rounds: int, work: Path, policy: Path, *, worker_profiling: bool
) -> None:
    """The same remux batch as a job of a running ``vpo serve`` on threads and on the
    local Dask cluster (interleaved): the executors compared without the command's
    start-up, which a daemon pays once."""
    media = work / "serve-media"
    times: dict[str, list[float]] = {"threads": [], "dask": []}
    with local_cluster(work, worker_profiling=worker_profiling) as address:
        media.mkdir()
        with (
            daemon(work, "threads", media, policy, "threads") as threads_api,
            daemon(work, "dask", media, policy, f"dask://{address}") as dask_api,
        ):
            job_seconds(dask_api, copies(source, media, 2), 2)  # warm: the workers' imports
            for _ in range(rounds):
                for kind, api in (("threads", threads_api), ("dask", dask_api)):
                    copies(source, media, count)
                    times[kind].append(job_seconds(api, media, count))
    t, d = statistics.median(times["threads"]), statistics.median(times["dask"])
    ratios = sorted(b / a for a, b in zip(times["threads"], times["dask"], strict=True))
    print(
        f"\nvpo serve jobs: {count} remuxes of {source.stat().st_size / 1e6:.1f} MB at 2 "
        f"workers, {rounds} interleaved rounds (medians, min-max)"
    )
    print(
        f"  threads {t:.2f} s ({min(times['threads']):.2f}-{max(times['threads']):.2f}), "
        f"dask {d:.2f} s ({min(times['dask']):.2f}-{max(times['dask']):.2f}): {d / t:.2f}x "
        f"(per round {ratios[0]:.2f}-{ratios[-1]:.2f}x)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def _noop(path: Path) -> FileResult:
    return FileResult(path=path, status=FileStatus.UNCHANGED)


def dispatch_rate(address: str, count: int, work: Path, *, chunked: bool = False) -> float:
    """Files per second the coordinator dispatches to the cluster and records, when the
    per-file work is nothing: the ceiling of what a cluster can be fed. ``chunked``:
    several files per task, as ``vpo process`` does on a cluster (vpo.batch.chunks)."""
    import functools

    from vpo.batch.chunks import Chunking
    from vpo.batch.dask_executor import DaskExecutor
    from vpo.batch.runner import run_batch
    from vpo.library import Library
    from vpo.library.records import FileRecord

    jobs = [(Path(f"/m/f{i}.mkv"), functools.partial(_noop, Path(f"/m/f{i}.mkv")))
            for i in range(count)]  # fmt: skip
    for old in work.glob("dispatch.sqlite*"):  # each run on an empty library
        old.unlink()
    with (
        DaskExecutor.connect(address, timeout=10) as executor,
        Library.open(work / "dispatch.sqlite") as library,
    ):
        run_id = library.start_run(policy_name="bench", policy_hash=None, workers=8)
        pending: list[FileRecord] = []

        def record(result: FileResult) -> None:
            pending.append(FileRecord(path=result.path, outcome=result.status))
            if len(pending) >= 64:
                library.record_file_results(run_id, pending)
                pending.clear()

        started = time.perf_counter()
        batch = run_batch(
            jobs, executor=executor, workers=8, stop_on_failure=False, on_result=record,
            chunking=Chunking(count) if chunked else None,
        )  # fmt: skip
        library.record_file_results(run_id, pending)
        seconds = time.perf_counter() - started
    assert batch.total == count
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--large-files", type=int, default=20)
    parser.add_argument("--large-mb", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--library-files", type=int, default=2000)
    parser.add_argument("--dask", type=int, default=0, metavar="ROUNDS")
    parser.add_argument(
        "--dask-source",
        choices=("remux", "remux-large"),
        default="remux",
        help="the file the Dask comparison copies (remux-large: --large-mb MB, --large-files)",
    )
    parser.add_argument(
        "--dask-serve",
        action="store_true",
        help="with --dask: compare jobs of a running vpo serve (threads vs the cluster) "
        "instead of vpo process commands",
    )
    parser.add_argument(
        "--dask-worker-profiling",
        action="store_true",
        help="start the Dask workers with Dask's default statistical profiler on",
    )
    args = parser.parse_args()
    tools = locate_tools()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vpo-bench-parallel-") as temp:
        work = Path(temp)
        policy = work / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        sources = make_sources(work, tools, args.large_mb)
        if args.dask:
            count = args.large_files if args.dask_source == "remux-large" else args.files
            compare = serve_comparison if args.dask_serve else dask_comparison
            compare(
                sources[args.dask_source],
                count,
                args.dask,
                work,
                policy,
                worker_profiling=args.dask_worker_profiling,
            )
            return
        plan = [
            ("metadata", args.files),
            ("remux", args.files),
            ("remux-large", args.large_files),
        ]
        for name, count in plan:
            timings = batch(name, sources[name], count, args.workers, work, policy)
            print_batch(name, count, sources[name].stat().st_size, timings)
        if args.library_files:
            library_check(sources["metadata"], args.library_files, work, policy)


if __name__ == "__main__":
    main()
