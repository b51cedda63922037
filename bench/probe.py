"""Probe cost per file: ``mkvmerge -J`` vs ``ffprobe`` on the same generated files.

Generates N files (default 100) cycling through the demo library's specs
(Matroska, WebM, MP4), times each probe tool on every file in one run
(interleaved, so background load hits both alike) and prints a Markdown table.
``--results bench/RESULTS.md`` also writes the table into that file, replacing
only this benchmark's section.

    .venv/bin/python bench/probe.py [--files 100] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vpo.testmedia.demo import DEMO_FILES
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import MediaSpec
from vpo.tools.locate import ToolPaths, locate_tools

SECTION_START = "<!-- bench/probe.py: start -->"
SECTION_END = "<!-- bench/probe.py: end -->"


def timed(argv: Sequence[str]) -> float:
    """Seconds one probe takes, start-up included (that is what a scan pays per file)."""
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, timeout=60)
    return time.perf_counter() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(label: str, seconds: Sequence[float]) -> str:
    median = statistics.median(seconds) * 1000
    p90 = percentile(seconds, 0.9) * 1000
    return f"| {label} | {len(seconds)} | {median:.1f} | {p90:.1f} |"


def generate(
    count: int, folder: Path, tools: ToolPaths
) -> tuple[list[tuple[MediaSpec, Path]], list[float]]:
    """``count`` files cycling through the demo specs; also the seconds each took."""
    jobs = [(DEMO_FILES[n % len(DEMO_FILES)].spec, n) for n in range(count)]

    def make(job: tuple[MediaSpec, int]) -> tuple[MediaSpec, Path, float]:
        spec, number = job
        started = time.perf_counter()
        path = generate_media(spec, folder / f"file-{number:03d}{spec.suffix}", tools)
        return spec, path, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = list(pool.map(make, jobs))
    return [(spec, path) for spec, path, _ in made], [seconds for *_, seconds in made]


def typical_generation(tools: ToolPaths, folder: Path, repeats: int = 10) -> list[float]:
    """Serial generation time of the default spec (one mkv: video, one AAC track)."""
    seconds = []
    for number in range(repeats):
        started = time.perf_counter()
        generate_media(MediaSpec(), folder / f"typical-{number}.mkv", tools)
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(files: list[tuple[MediaSpec, Path]], tools: ToolPaths) -> dict[str, list[float]]:
    mkvmerge, ffprobe = tools.require("mkvmerge"), tools.require("ffprobe")
    ffprobe_args = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-show_chapters",
    ]
    timings: dict[str, list[float]] = {
        "mkvmerge -J, Matroska/WebM": [],
        "ffprobe, Matroska/WebM": [],
        "ffprobe, MP4": [],
    }
    for spec, path in files:
        if spec.container in ("mkv", "webm"):
            timings["mkvmerge -J, Matroska/WebM"].append(timed([mkvmerge, "-J", str(path)]))
            timings["ffprobe, Matroska/WebM"].append(timed([ffprobe, *ffprobe_args, str(path)]))
        else:
            timings["ffprobe, MP4"].append(timed([ffprobe, *ffprobe_args, str(path)]))
    return timings


def version(argv: Sequence[str]) -> str:
    text = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    return text.splitlines()[0].strip()


def report(
    timings: dict[str, list[float]], generation: list[float], typical: list[float], tools: ToolPaths
) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        SECTION_START,
        "## Probe cost per file (`bench/probe.py`)",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; load average at the end: {load}",
        f"- tools: {version([tools.require('ffprobe'), '-version'])}; "
        f"{version([tools.require('mkvmerge'), '--version'])}",
        "",
        "| what | files | median ms | p90 ms |",
        "| --- | --- | --- | --- |",
        *(row(label, seconds) for label, seconds in timings.items() if seconds),
        row("generate one demo-spec file (2 threads)", generation),
        row("generate `MediaSpec()` (serial)", typical),
        "",
        "Each probe is a fresh process, start-up included: that is what a scan pays",
        "per file. ffprobe ran with `-show_format -show_streams -show_chapters`.",
        SECTION_END,
    ]
    return "\n".join(lines) + "\n"


def write_section(results: Path, section: str) -> None:
    """Replace this benchmark's section of ``results`` (or append it)."""
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100, help="how many files to generate")
    parser.add_argument("--results", type=Path, help="write the table into this Markdown file")
    args = parser.parse_args(argv)
    tools = locate_tools()
    if tools.missing():
        print(f"bench/probe.py: missing tools: {', '.join(tools.missing())}", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="vpo-bench-probe-") as scratch:
        folder = Path(scratch)
        files, generation = generate(args.files, folder, tools)
        typical = typical_generation(tools, folder)
        timings = measure(files, tools)
    section = report(timings, generation, typical, tools)
    print(section, end="")
    if args.results is not None:
        write_section(args.results, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
