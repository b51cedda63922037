"""Per-file cost of vpo's safe apply against a bare loop of the same tool commands.

    .venv/bin/python bench/apply.py [--files 40] [--large-mb 300]
    .venv/bin/python bench/apply.py --only process [--process-files 100] [--rounds 3]

``process`` (issue 11): 2-phase batches through the real ``vpo process -w 1`` (a
subprocess: start-up, discovery, probe, plan, lock, write, verify, replace, library
records) against a bare loop of the one equivalent tool command per file: a 2-phase
remux (filter, then reorder + flags) against one ``mkvmerge`` per file, a 2-phase
header edit (flags, then a title) against one ``mkvpropedit`` per file. The bare
command is built from the composed plan of the same policy. Bare and vpo batches
alternate, each on fresh copies; the ratio is taken per round, the median printed.
``--compare-src DIR`` adds a third variant: ``vpo process`` run with
``PYTHONPATH=DIR`` (the ``src`` of another checkout, e.g. the code before a change).

For each batch the same argv runs on fresh copies of one generated file, file by
file alternately: bare (run_tool, nothing else) and through apply_plan (lock,
preflight, journal or temp, verify with the in-process header reader, fsync,
rename). A third variant, bare+fsync, is the tool followed by fsync of its output:
the durability floor. The "before" MediaFile is read ahead of timing, as vpo takes it from its
probe cache. Prints ms per file and the ratio vpo / bare.
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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vpo.apply.execute import apply_plan
from vpo.apply.fsio import fsync_file
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.policy.compose import compose_plans
from vpo.policy.loader import parse_policy
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.testmedia.two_phase import AUDIO_ONLY_SPEC as METADATA_SPEC
from vpo.testmedia.two_phase import METADATA_POLICY, REMUX_POLICY
from vpo.testmedia.two_phase import SPEC as REMUX_SPEC
from vpo.tools.commands.mkvmerge import build_mkvmerge_argv
from vpo.tools.commands.mkvpropedit import build_mkvpropedit_argv
from vpo.tools.locate import ToolPaths, locate_tools
from vpo.tools.runner import run_tool
from vpo.workflow.transaction import plan_file

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


VPO = Path(sys.executable).with_name("vpo")


def composed_plan(policy_text: str, media: MediaFile) -> Plan:
    """The one plan vpo executes for this policy (all phases composed)."""
    policy = parse_policy(policy_text, "bench.yaml")
    return compose_plans(plan_file(policy, policy.phases, media).plans)


def process_batch(
    name: str,
    spec: MediaSpec,
    policy_text: str,
    bare_argv: Callable[[Plan, Path], list[str]],
    tools: ToolPaths,
    work: Path,
    count: int,
    rounds: int,
    compare_src: Path | None = None,
) -> None:
    template = generate_media(spec, work / f"{name}.mkv", tools)
    policy = work / f"{name}.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    env = {**os.environ, "VPO_JOBS_STABLE_SECONDS": "0"}
    bare_ms: list[float] = []
    vpo_ms: list[float] = []
    other_ms: list[float] = []
    for round_ in range(rounds):
        bare_dir, vpo_dir = work / f"{name}-bare-{round_}", work / f"{name}-vpo-{round_}"
        other_dir = work / f"{name}-other-{round_}"
        bare_files = copies(template, bare_dir, count)
        copies(template, vpo_dir, count)
        if compare_src is not None:
            copies(template, other_dir, count)
        plan = composed_plan(policy_text, probe_matroska_headers(bare_files[0]))

        def bare(plan: Plan = plan, files: list[Path] = bare_files) -> float:
            started = time.perf_counter()
            for path in files:
                source = replace(plan, source=replace(plan.source, path=path))
                run_tool(bare_argv(source, path), timeout=600, path=path, ok_codes=(0, 1))
            return time.perf_counter() - started

        def vpo(directory: Path = vpo_dir, round_: int = round_, src: str = "") -> float:
            database = work / f"{name}-{round_}{'-other' if src else ''}.db"
            argv = [str(VPO), "process", "-q", "-w", "1", "--db", str(database),
                    "-p", str(policy), str(directory)]  # fmt: skip
            started = time.perf_counter()
            run_env = {**env, "PYTHONPATH": src} if src else env
            subprocess.run(argv, check=True, env=run_env, stdout=subprocess.DEVNULL)
            return time.perf_counter() - started

        def other(directory: Path = other_dir, round_: int = round_) -> float:
            return vpo(directory, round_, str(compare_src))

        variants: list[Callable[[], float]] = [bare, vpo]
        if compare_src is not None:
            variants.append(other)
        turn = round_ % len(variants)  # each variant goes first in turn
        timings = {run: run() for run in variants[turn:] + variants[:turn]}
        bare_ms.append(timings[bare] / count * 1000)
        vpo_ms.append(timings[vpo] / count * 1000)
        if compare_src is not None:
            other_ms.append(timings[other] / count * 1000)
        for directory in (bare_dir, vpo_dir, other_dir):
            shutil.rmtree(directory, ignore_errors=True)
    ratios = [v / b for v, b in zip(vpo_ms, bare_ms, strict=True)]
    print(
        f"{name:<24} x{count:<4} bare {statistics.median(bare_ms):7.1f}  "
        f"vpo process {statistics.median(vpo_ms):7.1f} ms/file   "
        f"vpo/bare median {statistics.median(ratios):4.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    if other_ms:
        others = [o / b for o, b in zip(other_ms, bare_ms, strict=True)]
        print(
            f"{'':<24} --compare-src {statistics.median(other_ms):7.1f} ms/file   "
            f"its /bare median {statistics.median(others):4.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in others)})"
        )


def remux_to_beside(mkvmerge: str, plan: Plan, path: Path) -> list[str]:
    return build_mkvmerge_argv(mkvmerge, plan, path.with_name(".bare-" + path.name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files per small batch")
    parser.add_argument("--rounds", type=int, default=3, help="repeat and take the median")
    parser.add_argument("--large-mb", type=int, default=300, help="0 skips the large remux")
    parser.add_argument("--large-files", type=int, default=5, help="files per large batch")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: tmp)")
    parser.add_argument("--process-files", type=int, default=100, help="files per process batch")
    parser.add_argument(
        "--only", choices=["apply", "process"], default=None, help="run one section only"
    )
    parser.add_argument(
        "--compare-src", type=Path, default=None, help="also run vpo from this src directory"
    )
    args = parser.parse_args()
    tools = locate_tools()
    with tempfile.TemporaryDirectory(prefix="vpo-bench-", dir=args.dir) as scratch:
        work = Path(scratch)
        mkvpropedit, mkvmerge = tools.require("mkvpropedit"), tools.require("mkvmerge")
        if args.only != "apply":
            process_batch(
                "2-phase remux", REMUX_SPEC, REMUX_POLICY,
                lambda plan, path: remux_to_beside(mkvmerge, plan, path),
                tools, work, args.process_files, args.rounds, args.compare_src,
            )  # fmt: skip
            process_batch(
                "2-phase metadata", METADATA_SPEC, METADATA_POLICY,
                lambda plan, path: build_mkvpropedit_argv(mkvpropedit, plan, path),
                tools, work, args.process_files, args.rounds, args.compare_src,
            )  # fmt: skip
        if args.only == "process":
            return
        small = generate_media(SPEC, work / "small.mkv", tools)
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
