"""Per-file cost of vpo's safe apply against a bare loop of the same tool commands.

    .venv/bin/python bench/apply.py [--files 40] [--large-mb 300]

For each batch the same argv runs on fresh copies of one generated file, file by
file alternately: bare (run_tool, nothing else) and through apply_plan (lock,
preflight, journal or temp, verify with the in-process header reader, fsync,
rename). The "before" MediaFile is read ahead of timing, as vpo takes it from its
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


def interleaved(
    pairs: list[tuple[Path, Path]],
    bare: Callable[[Path], object],
    vpo: Callable[[Path], object],
) -> tuple[float, float]:
    """Mean seconds per file of each; bare and vpo alternate file by file, so a
    change in machine load (other jobs on a shared box) hits both alike."""
    bare_total = vpo_total = 0.0
    for bare_path, vpo_path in pairs:
        started = time.perf_counter()
        bare(bare_path)
        middle = time.perf_counter()
        vpo(vpo_path)
        vpo_total += time.perf_counter() - middle
        bare_total += middle - started
    return bare_total / len(pairs), vpo_total / len(pairs)


def batch(
    name: str,
    template: Path,
    work: Path,
    count: int,
    make_plan: Callable[[MediaFile], Plan],
    bare_argv: Callable[[Plan, Path], list[str]],
    tools: ToolPaths,
    rounds: int,
) -> None:
    bare_times, vpo_times = [], []
    for round_ in range(rounds):
        bare_files = copies(template, work / f"{name}-bare-{round_}", count)
        vpo_files = copies(template, work / f"{name}-vpo-{round_}", count)
        bare_plans = {p: make_plan(probe_matroska_headers(p)) for p in bare_files}
        vpo_plans = {p: make_plan(probe_matroska_headers(p)) for p in vpo_files}

        def bare(path: Path, plans: dict[Path, Plan] = bare_plans) -> None:
            run_tool(bare_argv(plans[path], path), timeout=600, path=path, ok_codes=(0, 1))

        def vpo(path: Path, plans: dict[Path, Plan] = vpo_plans) -> None:
            apply_plan(plans[path], tools, SETTINGS)

        bare_time, vpo_time = interleaved(list(zip(bare_files, vpo_files, strict=True)), bare, vpo)
        bare_times.append(bare_time)
        vpo_times.append(vpo_time)
        for directory in (work / f"{name}-bare-{round_}", work / f"{name}-vpo-{round_}"):
            shutil.rmtree(directory)
    bare_ms = statistics.median(bare_times) * 1000
    vpo_ms = statistics.median(vpo_times) * 1000
    size = template.stat().st_size / 1e6
    print(
        f"{name:<22} {size:9.1f} MB  x{count:<4} bare {bare_ms:8.1f} ms/file   "
        f"vpo {vpo_ms:8.1f} ms/file   ratio {vpo_ms / bare_ms:5.2f}"
    )


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
        print(f"{'batch':<22} {'size':>12}  {'n':<5}")
        batch(
            "metadata (mkvpropedit)", small, work, args.files, metadata_plan,
            lambda plan, path: build_mkvpropedit_argv(mkvpropedit, plan, path),
            tools, args.rounds,
        )  # fmt: skip
        batch(
            "remux (mkvmerge)", small, work, args.files, remux_plan,
            lambda plan, path: build_mkvmerge_argv(
                mkvmerge, plan, path.with_name(".vpo-bare-" + path.name)
            ),
            tools, args.rounds,
        )  # fmt: skip
        if args.large_mb:
            large = large_template(tools, work, args.large_mb)
            batch(
                "remux large (mkvmerge)", large, work, args.large_files, remux_plan,
                lambda plan, path: build_mkvmerge_argv(
                    mkvmerge, plan, path.with_name(".vpo-bare-" + path.name)
                ),
                tools, args.rounds,
            )  # fmt: skip
            batch(
                "metadata large", large, work, args.large_files, metadata_plan,
                lambda plan, path: build_mkvpropedit_argv(mkvpropedit, plan, path),
                tools, args.rounds,
            )  # fmt: skip


if __name__ == "__main__":
    main()
