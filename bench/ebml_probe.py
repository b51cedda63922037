"""Benchmark: in-process Matroska header probe vs one ``mkvmerge -J`` / ``ffprobe`` per file.

Generates small Matroska files (a few ffmpeg encodes, remuxed by mkvmerge into
variants with different track counts, names, languages, chapters and
attachments), then times, per file: probe_matroska_headers, read_segment_layout,
``mkvmerge -J`` and ``ffprobe -of json`` (each the way vpo starts them, through
run_tool). Prints the median per file of each and the ratios. Files are in the
page cache after generation, so this measures CPU and process start-up, not disk.

    .venv/bin/python bench/ebml_probe.py [--files 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.matroska_layout import read_segment_layout
from vpo.tools.locate import ToolPaths, locate_tools
from vpo.tools.runner import run_tool

_LANGUAGES = ("eng", "fre", "ger", "spa", "jpn", "ita", "por", "rus")


def generate_bases(directory: Path, tools: ToolPaths, count: int) -> list[Path]:
    """A few real encodes: video plus 1–3 audio tracks."""
    bases = []
    for number in range(count):
        audio_tracks = 1 + number % 3
        inputs = ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=24:duration={2 + number}"]
        maps = ["-map", "0"]
        for track in range(audio_tracks):
            inputs += [
                "-f",
                "lavfi",
                "-i",
                f"sine=duration={2 + number}:frequency={300 + 100 * track}",
            ]
            maps += ["-map", str(track + 1)]
        output = directory / f"base-{number}.mkv"
        run_tool(
            [tools.require("ffmpeg"), "-nostdin", "-v", "error", "-y", *inputs, *maps,
             "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(output)],
            timeout=120,
        )  # fmt: skip
        bases.append(output)
    return bases


def generate_variants(
    directory: Path, tools: ToolPaths, bases: list[Path], count: int
) -> list[Path]:
    """mkvmerge remuxes of the bases with varied headers (names, languages, chapters, fonts)."""
    font = directory / "font.ttf"
    font.write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)) * 64)
    chapters = directory / "chapters.txt"
    chapters.write_text(
        "".join(f"CHAPTER{i:02}=00:00:0{i}.000\nCHAPTER{i:02}NAME=Part {i}\n" for i in range(1, 3)),
        encoding="utf-8",
    )
    files = []
    for number in range(count):
        base = bases[number % len(bases)]
        language = _LANGUAGES[number % len(_LANGUAGES)]
        options = ["--title", f"Film number {number}", "--language", f"1:{language}",
                   "--track-name", f"1:Audio {number}"]  # fmt: skip
        if number % 2:
            options += ["--chapters", str(chapters)]
        if number % 3 == 0:
            options += ["--attachment-mime-type", "font/ttf", "--attach-file", str(font)]
        output = directory / f"movie {number:03}.mkv"
        run_tool(
            [tools.require("mkvmerge"), "-q", "-o", str(output), *options, str(base)], timeout=120
        )
        files.append(output)
    return files


def time_per_file(files: list[Path], probe: Callable[[Path], object], repeat: int) -> list[float]:
    """Seconds per file: the best of ``repeat`` calls (the least disturbed by the machine)."""
    timings = []
    for path in files:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            probe(path)
            best = min(best, time.perf_counter() - started)
        timings.append(best)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50, help="number of files (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per file (default 3)")
    arguments = parser.parse_args()
    tools = locate_tools()
    if tools.missing():
        raise SystemExit(f"missing tools: {', '.join(tools.missing())}")
    mkvmerge, ffprobe = tools.require("mkvmerge"), tools.require("ffprobe")

    def mkvmerge_json(path: Path) -> object:
        return run_tool([mkvmerge, "--engage", "keep_track_statistics_tags", "-J", str(path)],
                        timeout=60).stdout  # fmt: skip

    def ffprobe_json(path: Path) -> object:
        return run_tool(
            [ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams",
             "-show_chapters", f"file:{path}"],
            timeout=60,
        ).stdout  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="vpo-bench-ebml-") as temp:
        directory = Path(temp)
        started = time.perf_counter()
        files = generate_variants(
            directory, tools, generate_bases(directory, tools, 5), arguments.files
        )
        median_kib = statistics.median(p.stat().st_size for p in files) / 1024
        print(f"generated {len(files)} files in {time.perf_counter() - started:.1f} s "
              f"(median size {median_kib:.0f} KiB)")  # fmt: skip
        methods: dict[str, Callable[[Path], object]] = {
            "probe_matroska_headers": probe_matroska_headers,
            "read_segment_layout": read_segment_layout,
            "mkvmerge -J": mkvmerge_json,
            "ffprobe -of json": ffprobe_json,
        }
        medians = {}
        for name, probe in methods.items():
            timings = time_per_file(files, probe, arguments.repeat)
            medians[name] = statistics.median(timings)
            print(f"{name:24} median {medians[name] * 1000:8.3f} ms/file   "
                  f"total {sum(timings) * 1000:8.1f} ms for {len(files)} files")  # fmt: skip
    headers = medians["probe_matroska_headers"]
    print(f"mkvmerge -J / headers probe:      {medians['mkvmerge -J'] / headers:7.1f}x")
    print(f"ffprobe / headers probe:          {medians['ffprobe -of json'] / headers:7.1f}x")


if __name__ == "__main__":
    main()
