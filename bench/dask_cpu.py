"""CPU seconds per process of a remux batch: threads against a local Dask cluster,
and a second vpo version's coordinator against this one's (chunks or not).

    .venv/bin/python bench/dask_cpu.py --files 60 --rounds 5 [--before SRC] [--dispatch]

Starts a ``dask scheduler`` and two ``dask worker --nthreads 1 --no-nanny`` (worker
profiling off) on loopback port ``--port`` and runs the real ``vpo process -w 2``
on fresh copies of a generated 0.1 MB remux (French audio first), in interleaved
rounds after one uncounted warm-up run of each: threads; Dask with this tree;
with ``--before SRC`` also Dask with the coordinator of another vpo source tree
(``git archive main src | tar -x -C DIR``, then ``--before DIR/src``; put first on
PYTHONPATH; the workers run this tree's code, which runs a one-file task the same
way). For each: wall, the batch loop
(summary seconds) and CPU seconds (user + system) of the coordinator with its
children (for threads: its tools too), the scheduler, the workers and their tools,
read with psutil; medians. ``--dispatch`` adds the coordinator's dispatch rate of
2,000 no-op files one per task and in chunks (vpo.batch.chunks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from parallel import dispatch_rate  # bench/parallel.py: the same dispatch measurement
from vpo.testmedia.factory import generate_media
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY
from vpo.tools.locate import locate_tools

BIN = Path(sys.executable).parent
POLICY = ORDER_POLICY
REMUX = FOREIGN_FIRST


def start_cluster(port: int, log: Path) -> list[subprocess.Popen[bytes]]:
    from distributed import Client

    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False")
    out = log.open("wb")
    started = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    ]  # fmt: skip
    for name in ("w1", "w2"):
        started.append(
            subprocess.Popen(
                [str(BIN / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--name", name,
                 "--nthreads", "1", "--no-dashboard", "--no-nanny", "--host", "127.0.0.1"],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        )  # fmt: skip
    with Client(f"tcp://127.0.0.1:{port}", timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
    return started


def stop_cluster(started: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(started):  # workers first: they would wait for the scheduler
        process.terminate()
    for process in started:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu(processes: list[psutil.Process]) -> list[tuple[float, float]]:
    """(own, children's) CPU seconds of each process."""
    times = [p.cpu_times() for p in processes]
    return [(t.user + t.system, t.children_user + t.children_system) for t in times]


def run_once(
    kind: str, work: Path, source: Path, count: int, address: str, before: Path | None,
    cluster: list[psutil.Process],
) -> dict[str, float]:  # fmt: skip
    media = work / "media"
    shutil.rmtree(media, ignore_errors=True)
    media.mkdir()
    for index in range(count):
        shutil.copy(source, media / f"f{index:03d}.mkv")
    for old in work.glob("db.sqlite*"):
        old.unlink()
    env = dict(
        os.environ,
        VPO_JOBS_STABLE_SECONDS="0",
        VPO_PROCESSING_MAX_WORKERS="2",
        VPO_PROCESSING_EXECUTOR="threads" if kind == "threads" else f"dask://{address}",
    )
    if kind == "before" and before is not None:
        env["PYTHONPATH"] = str(before)
    first, own, wall = cpu(cluster), os.times(), time.perf_counter()
    done = subprocess.run(
        [str(BIN / "vpo"), "process", "--db", str(work / "db.sqlite"), "-p",
         str(work / "policy.yaml"), "--json", "--quiet", "-w", "2", str(media)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - wall
    after, last = os.times(), cpu(cluster)
    summary = json.loads(done.stdout)["summary"]
    if summary["changed"] != count:
        raise SystemExit(f"{kind}: {summary['changed']}/{count} changed: {done.stderr[-300:]}")
    spent = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(first, last, strict=True)]
    return {
        "wall": wall,
        "loop": float(summary["seconds"]),
        "coordinator": (after.children_user + after.children_system)
        - (own.children_user + own.children_system),
        "scheduler": spent[0][0],
        "workers": spent[1][0] + spent[2][0],
        "tools": spent[1][1] + spent[2][1],
    }


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    for kind, rounds in results.items():
        median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        total = statistics.median(
            r["coordinator"] + r["scheduler"] + r["workers"] + r["tools"] for r in rounds
        )
        walls = [r["wall"] for r in rounds]
        print(
            f"{kind:8s} wall {median['wall']:.2f} s ({min(walls):.2f}-{max(walls):.2f}), loop "
            f"{median['loop']:.2f} s; CPU s: coordinator+children {median['coordinator']:.2f}, "
            f"scheduler {median['scheduler']:.2f}, workers {median['workers']:.2f}, their "
            f"tools {median['tools']:.2f}, total {total:.2f}"
        )
    threads = [r["wall"] for r in results["threads"]]
    for kind in [k for k in results if k != "threads"]:
        ratios = sorted(r["wall"] / t for r, t in zip(results[kind], threads, strict=True))
        print(
            f"{kind}/threads wall: {statistics.median(ratios):.2f}x (per round "
            f"{ratios[0]:.2f}-{ratios[-1]:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument("--before", type=Path, help="another vpo source tree (its src/)")
    parser.add_argument("--dispatch", action="store_true")
    args = parser.parse_args()
    address = f"127.0.0.1:{args.port}"
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vpo-bench-dask-cpu-") as temp:
        work = Path(temp)
        (work / "policy.yaml").write_text(POLICY, encoding="utf-8")
        source = work / "remux.mkv"
        generate_media(REMUX, source, locate_tools())
        started = start_cluster(args.port, work / "cluster.log")
        try:
            cluster = [psutil.Process(p.pid) for p in started]
            kinds = ["threads", "dask"] + (["before"] if args.before else [])
            results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for kind in kinds:  # warm-up, not counted: the workers' first tool checks
                run_once(kind, work, source, 2, address, args.before, cluster)
            for index in range(args.rounds):  # interleaved, the order rotating
                for kind in kinds[index % len(kinds) :] + kinds[: index % len(kinds)]:
                    results[kind].append(
                        run_once(kind, work, source, args.files, address, args.before, cluster)
                    )
            print(f"\nremux: {args.files} files at 2 workers, {args.rounds} rounds, medians")
            report(results)
            if args.dispatch:
                rates: dict[bool, list[float]] = {False: [], True: []}
                for _ in range(3):
                    for chunked in (False, True):
                        rates[chunked].append(dispatch_rate(address, 2000, work, chunked=chunked))
                for chunked, found in rates.items():
                    print(
                        f"dispatch {'in chunks' if chunked else 'one file per task'}: "
                        f"{statistics.median(found):.0f} files/s "
                        f"({', '.join(f'{r:.0f}' for r in found)})"
                    )
        finally:
            stop_cluster(started)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
