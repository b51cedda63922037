"""Benchmark ``vpo scan``: first scan and rescan against a sequential ffprobe loop.

    .venv/bin/python bench/scan.py [--sizes 1000 10000] [--workers 2] [--sample 200]

For each size a library of copies of a few small generated files is built (by
default 80 % Matroska, 20 % MP4, in folders of 50 like Show/Season), then:

* the ffprobe loop (what a scan costs in tools that run ffprobe once per file,
  one file at a time) is timed on a sample of ``--sample`` files and reported as
  files/second: it is linear, so the sample gives the rate without spending
  minutes on 10,000 processes;
* a first scan into a fresh database and a rescan with nothing changed, each in
  a fresh child process, so its peak RSS (``ru_maxrss``) is that scan's alone.
  The child also counts external processes started (a rescan must start none).

``--other-share 0`` measures an all-Matroska library (no process at all);
``--other-share 1`` an all-MP4 one (every file needs ffprobe).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vpo.library import Library
from vpo.library.scan import ScanOptions, scan_paths
from vpo.probe.cheapest import cheapest_prober
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools import runner
from vpo.tools.locate import ToolPaths, locate_tools
from vpo.tools.runner import run_tool

FOLDER_SIZE = 50
EXTENSIONS = ("mkv", "mp4", "webm")

SPECS = (
    MediaSpec(
        container="mkv",
        duration=1.0,
        audio=(AudioSpec(language="jpn", default=True), AudioSpec(language="eng")),
        subtitles=(SubtitleSpec(language="eng"), SubtitleSpec(language="fre")),
    ),
    MediaSpec(container="mkv", duration=1.0, audio=(AudioSpec(language="eng", default=True),)),
    MediaSpec(container="mkv", duration=1.0, chapters=3, audio=(AudioSpec(language="ger"),)),
    MediaSpec(container="mkv", duration=1.0, audio=(AudioSpec(language="spa", default=True),)),
    MediaSpec(container="mp4", duration=1.0, audio=(AudioSpec(language="eng", default=True),)),
)


def build_library(root: Path, count: int, sources: list[Path], other_share: float) -> list[Path]:
    """``count`` copies of ``sources`` (real copies: hard links count as one file);
    ``other_share`` of them non-Matroska."""
    matroska = [s for s in sources if s.suffix in (".mkv", ".webm")]
    other = [s for s in sources if s not in matroska]
    files: list[Path] = []
    for number in range(count):
        use_other = bool(other) and (number % 100) < other_share * 100
        pool = other if use_other else matroska
        source = pool[number % len(pool)]
        folder = (
            root / f"Show {number // (FOLDER_SIZE * 10):03}" / f"Season {number // FOLDER_SIZE}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"Episode {number:06}{source.suffix}"
        shutil.copyfile(source, target)
        files.append(target)
    return files


def ffprobe_loop(files: list[Path], tools: ToolPaths) -> float:
    """Files/second of ``ffprobe -show_format -show_streams`` run once per file."""
    ffprobe = tools.require("ffprobe")
    started = time.perf_counter()
    for path in files:
        run_tool(
            [
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                f"file:{path}",
            ],
            timeout=60,
            path=path,
        )
    return len(files) / (time.perf_counter() - started)


def child_scan(root: Path, database: Path, workers: int) -> dict[str, Any]:
    """One scan in this process; prints nothing but the JSON result."""
    started_processes = 0
    real_popen = runner.subprocess.Popen

    class CountingPopen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            nonlocal started_processes
            started_processes += 1
            super().__init__(*args, **kwargs)

    runner.subprocess.Popen = CountingPopen  # type: ignore[misc]
    tools = locate_tools()
    with Library.open(database) as library:
        started = time.perf_counter()
        summary = scan_paths(
            [root],
            library,
            cheapest_prober(tools, timeout=60),
            ScanOptions(extensions=EXTENSIONS, workers=workers),
        )
        seconds = time.perf_counter() - started
    c = summary.counts
    return {
        "seconds": seconds,
        "found": c.found,
        "new": c.new,
        "unchanged": c.unchanged,
        "errors": c.errors,
        "processes": started_processes,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(root: Path, database: Path, workers: int) -> dict[str, Any]:
    result = run_tool(
        [sys.executable, __file__, "--child", str(root), str(database), str(workers)],
        timeout=3600,
    )
    data: dict[str, Any] = json.loads(result.stdout_text)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=200, help="files in the ffprobe loop")
    parser.add_argument(
        "--other-share",
        type=float,
        default=0.2,
        help="fraction of non-Matroska (MP4) files in the library (default 0.2)",
    )
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument(
        "--child", nargs=3, metavar=("ROOT", "DB", "WORKERS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        root, database, workers = args.child
        print(json.dumps(child_scan(Path(root), Path(database), int(workers))))
        return

    tools = locate_tools()
    work = Path(tempfile.mkdtemp(prefix="vpo-bench-scan-", dir=args.work_dir))
    try:
        sources = [
            generate_media(spec, work / f"source{n}{spec.suffix}", tools)
            for n, spec in enumerate(SPECS)
        ]
        print(
            f"sources: {', '.join(f'{p.name} ({p.stat().st_size // 1024} KiB)' for p in sources)}"
        )
        print(
            f"workers: {args.workers}; CPUs: {_cpus()}; load average: {_load()}; "
            f"non-Matroska share: {args.other_share:.0%}"
        )
        rows = []
        for size in args.sizes:
            root = work / f"library-{size}"
            files = build_library(root, size, sources, args.other_share)
            sample = files[:: max(1, len(files) // args.sample)][: args.sample]
            loop_rate = ffprobe_loop(sample, tools)
            database = work / f"library-{size}.db"
            first = run_child(root, database, args.workers)
            again = run_child(root, database, args.workers)
            first_rate = first["found"] / first["seconds"]
            rows.append(
                {
                    "files": size,
                    "ffprobe_loop_files_per_s": round(loop_rate, 1),
                    "ffprobe_loop_sample": len(sample),
                    "first_scan_s": round(first["seconds"], 2),
                    "first_scan_files_per_s": round(first_rate, 1),
                    "speedup_vs_ffprobe_loop": round(first_rate / loop_rate, 1),
                    "first_scan_processes": first["processes"],
                    "rescan_s": round(again["seconds"], 3),
                    "rescan_processes": again["processes"],
                    "rescan_to_first_ratio": round(again["seconds"] / first["seconds"], 3),
                    "peak_rss_first_mib": round(first["peak_rss_mib"], 1),
                    "peak_rss_rescan_mib": round(again["peak_rss_mib"], 1),
                    "errors": first["errors"] + again["errors"],
                }
            )
            print(json.dumps(rows[-1]))
            shutil.rmtree(root)
        _print_table(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cpus() -> int:
    return os.cpu_count() or 1


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        "| files | ffprobe loop (files/s, sample) | first scan | speed-up | rescan | "
        "rescan/first | processes on rescan | peak RSS first/rescan |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['files']} | {r['ffprobe_loop_files_per_s']} ({r['ffprobe_loop_sample']}) "
            f"| {r['first_scan_s']} s ({r['first_scan_files_per_s']} files/s) "
            f"| {r['speedup_vs_ffprobe_loop']}× | {r['rescan_s']} s "
            f"| {r['rescan_to_first_ratio']} | {r['rescan_processes']} "
            f"| {r['peak_rss_first_mib']} / {r['peak_rss_rescan_mib']} MiB |"
        )


if __name__ == "__main__":
    main()
