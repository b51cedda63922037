"""Benchmark a no-op rerun of ``vpo process`` and its memory, against a ``vpo scan`` rescan.

    .venv/bin/python bench/noop.py [--sizes 1000 10000] [--rounds 5] [--workers 2]

For each size a library of copies of one small Matroska file that already
conforms to the policy is built and scanned once (so the library's probe cache
knows every file). Then, in interleaved rounds, each a fresh ``vpo`` process
with stdout and stderr to a file (not a terminal, as under cron or a daemon):

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


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MiB), exit code and CPU seconds of one child process.

    stdout and stderr go to a file, as under cron or a daemon (not a terminal).
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, process.returncode, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="also time the rerun with this src/ first on PYTHONPATH, in the same rounds "
        "(e.g. main exported: git archive main src | tar -x -C DIR)",
    )
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
            seconds, _, code, _ = timed(rescan, env)  # fills the cache
            assert code == 0, f"first scan failed ({code})"
            print(f"{size} files built and scanned ({seconds:.1f} s)")
            variants = {"rerun": env}
            if args.compare_src is not None:
                variants["rerun (compare)"] = {
                    **env,
                    "PYTHONPATH": str(args.compare_src.resolve()),
                }
            samples: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
            scans: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                for name, variant_env in variants.items():
                    seconds, rss, code, cpu = timed(rerun, variant_env)
                    assert code == 0, f"{name} failed ({code})"
                    samples[name].append((seconds, cpu, rss))
                seconds, _, code, cpu = timed(rescan, env)
                assert code == 0, f"rescan failed ({code})"
                scans.append((seconds, cpu))
            scan_wall = statistics.median(w for w, _ in scans)
            scan_cpu = statistics.median(c for _, c in scans)
            row: dict[str, float] = {"files": size, "rescan_s": scan_wall}
            print(f"{size} files: rescan wall {scan_wall:.2f} s, CPU {scan_cpu:.2f} s")
            for name, values in samples.items():
                wall = statistics.median(w for w, _, _ in values)
                cpu = statistics.median(c for _, c, _ in values)
                rss = statistics.median(r for _, _, r in values)
                row[f"{name} wall"], row[f"{name} rss"] = wall, rss
                print(
                    f"  {name}: wall {wall:.2f} s ({wall / size * 1000:.3f} ms a file), "
                    f"CPU {cpu:.2f} s, /rescan wall {wall / scan_wall:.2f}, "
                    f"peak RSS {rss:.1f} MiB"
                )
            if args.compare_src is not None:
                print(
                    f"  rerun / compare: wall {row['rerun wall'] / row['rerun (compare) wall']:.2f}"
                )
            rows.append(row)
            shutil.rmtree(root)
        if len(rows) > 1:
            first, last = rows[0], rows[-1]
            extra = last["files"] - first["files"]
            for name in ("rerun", "rerun (compare)"):
                if f"{name} rss" in last:
                    grown = (last[f"{name} rss"] - first[f"{name} rss"]) * 1024 * 1024
                    print(f"{name}: peak memory per extra file {grown / extra:.0f} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
