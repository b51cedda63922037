"""Per-file cost of vpo's safe apply against a bare loop of the same tool commands.

    .venv/bin/python bench/apply.py [--files 40] [--large-mb 300]

For each batch the same argv runs on fresh copies of one generated file, file by
file alternately: bare (run_tool, nothing else) and through apply_plan (lock,
preflight, journal or temp, verify with the in-process header reader, fsync,
rename). A third variant, bare+fsync, is the tool followed by fsync of its output:
the durability floor. The "before" MediaFile is read ahead of timing, as vpo takes it from its
probe cache. Prints ms per file and the ratio vpo / bare.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vpo.apply.execute import apply_plan
from vpo.apply.fsio import fsync_file
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.commands.mkvmerge import build_mkvmerge_argv
from vpo.tools.commands.mkvpropedit import build_mkvpropedit_argv
from vpo.tools.locate import ToolPaths, locate_tools
from vpo.tools.runner import run_tool

SETTINGS = ApplySettings(stable_seconds=0.0)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(), SubtitleSpec(language="fre")),
)


def metadata_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "bench")
    tracks = list(plan.tracks)
    tracks[1] = replace(tracks[1], flags=replace(tracks[1].flags, default=False))
    tracks[2] = replace(tracks[2], flags=replace(tracks[2].flags, default=True), title="VF")
    return replace(plan, tracks=tuple(tracks))


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "bench")
    keep = (0, 2, 1)
    return replace(
        plan,
        tracks=tuple(plan.tracks[i] for i in keep),
        removed=tuple(RemovedTrack(i, "bench") for i in range(len(media.tracks)) if i not in keep),
    )


def copies(template: Path, directory: Path, count: int) -> list[Path]:
    directory.mkdir()
    made = []
    for index in range(count):
        target = directory / f"movie{index:04d}.mkv"
        shutil.copyfile(template, target)
        made.append(target)
    subprocess.run(["sync"], check=True)
    return made


Runner = Callable[[Path], object]


def interleaved(files: list[tuple[Path, ...]], runners: list[Runner]) -> list[float]:
    """Mean seconds per file of each runner; they take turns file by file, so a
    change in machine load (other jobs on a shared box) hits all alike."""
    totals = [0.0] * len(runners)
    for paths in files:
        for index, (runner, path) in enumerate(zip(runners, paths, strict=True)):
            started = time.perf_counter()
            runner(path)
            totals[index] += time.perf_counter() - started
    return [total / len(files) for total in totals]


def batch(
    name: str,
    template: Path,
    work: Path,
    count: int,
    make_plan: Callable[[MediaFile], Plan],
    bare_argv: Callable[[Plan, Path], tuple[list[str], Path]],
    tools: ToolPaths,
    rounds: int,
) -> None:
    """bare: the tool alone; bare+fsync: the tool, then fsync of what it wrote (the
    durability floor: vpo must not report success before the data is on disk)."""
    samples: list[list[float]] = []
    variants = ("bare", "fsync", "vpo")
    for round_ in range(rounds):
        directories = [work / f"{name}-{variant}-{round_}" for variant in variants]
        sets = [copies(template, directory, count) for directory in directories]
        plans = {p: make_plan(probe_matroska_headers(p)) for files in sets for p in files}

        def bare(path: Path, plans: dict[Path, Plan] = plans) -> None:
            argv, _written = bare_argv(plans[path], path)
            run_tool(argv, timeout=600, path=path, ok_codes=(0, 1))

        def bare_fsync(path: Path, plans: dict[Path, Plan] = plans) -> None:
            argv, written = bare_argv(plans[path], path)
            run_tool(argv, timeout=600, path=path, ok_codes=(0, 1))
            fsync_file(written)

        def vpo(path: Path, plans: dict[Path, Plan] = plans) -> None:
            apply_plan(plans[path], tools, SETTINGS)

        samples.append(interleaved(list(zip(*sets, strict=True)), [bare, bare_fsync, vpo]))
        for directory in directories:
            shutil.rmtree(directory)
    bare_ms, fsync_ms, vpo_ms = (
        statistics.median(column) * 1000 for column in zip(*samples, strict=True)
    )
    size = template.stat().st_size / 1e6
    print(
        f"{name:<24} {size:8.1f} MB x{count:<3} bare {bare_ms:7.1f}  bare+fsync {fsync_ms:7.1f}  "
        f"vpo {vpo_ms:7.1f} ms/file   vpo/bare {vpo_ms / bare_ms:4.2f}  "
        f"vpo/(bare+fsync) {vpo_ms / fsync_ms:4.2f}"
    )


def remux_argv(mkvmerge: str, plan: Plan, path: Path) -> tuple[list[str], Path]:
    output = path.with_name(".vpo-bare-" + path.name)
    return build_mkvmerge_argv(mkvmerge, plan, output), output


def large_template(tools: ToolPaths, directory: Path, megabytes: int) -> Path:
    """A Matroska file of about ``megabytes`` MB: lossless noisy video, so it is big fast."""
    seconds = max(2, megabytes // 12)
    raw = directory / "large-src.mkv"
    subprocess.run(
        [tools.require("ffmpeg"), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=f=440:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=f=660:duration={seconds}",
         "-map", "0", "-map", "1", "-map", "2", "-vf", "noise=alls=60:allf=t+u",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "aac",
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre", str(raw)],
        check=True,
    )  # fmt: skip
    template = directory / "large.mkv"
    subprocess.run([tools.require("mkvmerge"), "-q", "-o", str(template), str(raw)], check=True)
    raw.unlink()
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files per small batch")
    parser.add_argument("--rounds", type=int, default=3, help="repeat and take the median")
    parser.add_argument("--large-mb", type=int, default=300, help="0 skips the large remux")
    parser.add_argument("--large-files", type=int, default=5, help="files per large batch")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: tmp)")
    args = parser.parse_args()
    tools = locate_tools()
    with tempfile.TemporaryDirectory(prefix="vpo-bench-", dir=args.dir) as scratch:
        work = Path(scratch)
        small = generate_media(SPEC, work / "small.mkv", tools)
        mkvpropedit, mkvmerge = tools.require("mkvpropedit"), tools.require("mkvmerge")
        batch(
            "metadata (mkvpropedit)", small, work, args.files, metadata_plan,
            lambda plan, path: (build_mkvpropedit_argv(mkvpropedit, plan, path), path),
            tools, args.rounds,
        )  # fmt: skip
        batch(
            "remux (mkvmerge)", small, work, args.files, remux_plan,
            lambda plan, path: remux_argv(mkvmerge, plan, path),
            tools, args.rounds,
        )  # fmt: skip
        if args.large_mb:
            large = large_template(tools, work, args.large_mb)
            batch(
                "remux large (mkvmerge)", large, work, args.large_files, remux_plan,
                lambda plan, path: remux_argv(mkvmerge, plan, path),
                tools, args.rounds,
            )  # fmt: skip
            batch(
                "metadata large", large, work, args.large_files, metadata_plan,
                lambda plan, path: (build_mkvpropedit_argv(mkvpropedit, plan, path), path),
                tools, args.rounds,
            )  # fmt: skip


if __name__ == "__main__":
    main()
