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
The last check runs ``--library-files`` metadata edits at 8 workers and counts
the records in the library (``vpo report files``): every file must be there and
no "database is locked" may appear.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import ToolPaths, locate_tools

VPO = Path(sys.executable).with_name("vpo")
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""
REMUX = MediaSpec(audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng")))
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
) -> tuple[float, dict[str, int], str]:
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
    summary = {k: v for k, v in json.loads(done.stdout)["summary"].items() if type(v) is int}
    return seconds, summary, done.stderr.decode()


def batch(
    name: str, source: Path, count: int, worker_counts: list[int], work: Path, policy: Path
) -> list[Timing]:
    timings: list[Timing] = []
    for workers in worker_counts:
        media = copies(source, work / name, count)
        database = work / f"{name}-{workers}.sqlite"
        seconds, summary, _ = run_vpo(media, database, policy, workers)
        timings.append(Timing(workers, seconds, summary["changed"], summary["workers"]))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--large-files", type=int, default=20)
    parser.add_argument("--large-mb", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--library-files", type=int, default=2000)
    args = parser.parse_args()
    tools = locate_tools()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vpo-bench-parallel-") as temp:
        work = Path(temp)
        policy = work / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        sources = make_sources(work, tools, args.large_mb)
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
