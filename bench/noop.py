"""Benchmark a no-op rerun of ``vpo process`` and its memory, against a ``vpo scan`` rescan.

    .venv/bin/python bench/noop.py [--sizes 1000 10000] [--rounds 5] [--workers 2]

For each size a library of copies of one small Matroska file that already
conforms to the policy is built and scanned once (so the library's probe cache
knows every file). Then, in interleaved rounds, each a fresh ``vpo`` process
with stderr on a pipe (not a terminal, as under cron or a daemon):

* ``vpo process -p noop.yaml LIB`` — the no-op rerun (nothing to change);
* ``vpo scan LIB`` — the unchanged rescan of the same files, for the ratio.

It prints the median wall time of each, their ratio, the median peak RSS of
the rerun, and — across sizes — how many bytes of peak memory each extra file
costs (flat memory: close to zero). The target of issue 11 is a rerun of
10,000 files in at most 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import locate_tools

FOLDER_SIZE = 50
VPO = str(Path(sys.executable).with_name("vpo"))
CONFORMING = MediaSpec(
    container="mkv",
    duration=1.0,
    audio=(AudioSpec(language="eng", default=True), AudioSpec(language="fre")),
    subtitles=(SubtitleSpec(language="eng"),),
)
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: defaults
    default_flags:
      set_preferred_audio_default: true
"""


def build_library(root: Path, count: int, source: Path) -> None:
    for number in range(count):
        folder = (
            root / f"Show {number // (FOLDER_SIZE * 10):03}" / f"Season {number // FOLDER_SIZE}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / f"Episode {number:06}.mkv")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read()
    process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()

    tools = locate_tools()
    work = Path(tempfile.mkdtemp(prefix="vpo-bench-noop-", dir=args.work_dir))
    env = {**os.environ, "VPO_CONFIG": str(work / "none.toml"), "VPO_JOBS_STABLE_SECONDS": "0"}
    try:
        source = generate_media(CONFORMING, work / "source.mkv", tools)
        policy = work / "noop.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        print(f"CPUs: {os.cpu_count()}; load average: {_load()}; rounds: {args.rounds}")
        rows = []
        for size in args.sizes:
            root = work / f"library-{size}"
            database = work / f"library-{size}.db"
            build_library(root, size, source)
            db = ["--db", str(database)]
            rerun = [VPO, "process", *db, "-p", str(policy), "-w", str(args.workers), str(root)]
            rescan = [VPO, "scan", *db, str(root)]
            seconds, _, code = timed(rescan, env)  # fills the cache
            assert code == 0, f"first scan failed ({code})"
            print(f"{size} files built and scanned ({seconds:.1f} s)")
            reruns: list[float] = []
            scans: list[float] = []
            memory: list[float] = []
            for _ in range(args.rounds):
                seconds, rss, code = timed(rerun, env)
                assert code == 0, f"no-op rerun failed ({code})"
                reruns.append(seconds)
                memory.append(rss)
                seconds, _, code = timed(rescan, env)
                assert code == 0, f"rescan failed ({code})"
                scans.append(seconds)
            row = {
                "files": size,
                "rerun_s": statistics.median(reruns),
                "rescan_s": statistics.median(scans),
                "rss_mib": statistics.median(memory),
            }
            rows.append(row)
            print(
                f"{size} files: no-op rerun {row['rerun_s']:.2f} s "
                f"({row['rerun_s'] / size * 1000:.3f} ms a file), rescan {row['rescan_s']:.2f} s, "
                f"rerun/rescan {row['rerun_s'] / row['rescan_s']:.2f}, "
                f"peak RSS {row['rss_mib']:.1f} MiB"
            )
            shutil.rmtree(root)
        if len(rows) > 1:
            first, last = rows[0], rows[-1]
            per_file = (
                (last["rss_mib"] - first["rss_mib"])
                * 1024
                * 1024
                / (last["files"] - first["files"])
            )
            print(f"peak memory per extra file: {per_file:.0f} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
