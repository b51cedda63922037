"""vpo's encode path against the same ffmpeg command run directly on the same file.

    .venv/bin/python bench/transcode.py [--runs 5] [--seconds 20] [--size 640x360]

One file is generated (testsrc2 video, 5.1 AC-3 audio). The plan is the
living-room policy's: HEVC (libx265, preset ultrafast, crf 28) and an AAC stereo
track synthesised from the 5.1 one. Per run, on fresh copies, alternately:

- bare: the argv vpo builds (without ``-progress``), run with subprocess.run into a
  file beside the copy; nothing else;
- vpo: apply_plan() on the copy: lock, preflight, the streaming runner with progress
  and stall detection, fsync, verify (probe), the first/last-second decode checks,
  attributes, rename.

The encoder inventory is listed before timing (vpo does it once per run, not per
file). Prints the median seconds of each and the ratio vpo / bare; the checks
after the encode (a probe and two one-second decodes) are the expected overhead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from vpo.apply.encode import TranscodeSettings
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.plan import Plan
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import parse_policy
from vpo.probe.probe import probe_file
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv
from vpo.tools.encoders_probe import encoder_inventory
from vpo.tools.locate import ToolPaths, locate_tools

POLICY = """schema_version: 12
phases:
  - name: living-room
    audio_synthesis:
      tracks:
        - {name: stereo, codec: aac, channels: stereo, bitrate: 192k, position: after_source}
    transcode:
      video:
        target_codec: hevc
        quality: {mode: crf, crf: 28, preset: ultrafast}
"""
SETTINGS = ApplySettings(stable_seconds=0.0)
TRANSCODE = TranscodeSettings(niceness=None)


def plan_for(path: Path, tools: ToolPaths) -> Plan:
    policy = parse_policy(POLICY, "bench.yaml")
    return evaluate(policy.phases[0], probe_file(path, tools), policy.config)


def bare(source: Path, work: Path, tools: ToolPaths) -> float:
    copy = work / "bare.mkv"
    shutil.copyfile(source, copy)
    plan = plan_for(copy, tools)
    ffmpeg = tools.require("ffmpeg")
    argv = build_ffmpeg_argv(
        ffmpeg, plan, work / "bare-out.mkv", inventory=encoder_inventory(ffmpeg)
    )
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return time.perf_counter() - started


def through_vpo(source: Path, work: Path, tools: ToolPaths) -> float:
    copy = work / "vpo.mkv"
    shutil.copyfile(source, copy)
    plan = plan_for(copy, tools)
    started = time.perf_counter()
    apply_plan(plan, tools, SETTINGS, transcode=TRANSCODE, on_progress=lambda _: None)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    tools = locate_tools()
    encoder_inventory(tools.require("ffmpeg"))
    with tempfile.TemporaryDirectory(prefix="vpo-bench-transcode-") as scratch:
        root = Path(scratch)
        source = root / "source.mkv"
        spec = MediaSpec(
            width=width,
            height=height,
            duration=args.seconds,
            audio=(AudioSpec("ac3", channels=6, default=True),),
        )
        generate_media(spec, source, tools)
        print(f"source: {width}x{height}, {args.seconds:g} s, {source.stat().st_size:,} bytes")
        bare_times: list[float] = []
        vpo_times: list[float] = []
        for run in range(args.runs):
            for name, measure, sink in (
                ("bare", bare, bare_times),
                ("vpo", through_vpo, vpo_times),
            )[:: 1 if run % 2 == 0 else -1]:
                work = root / f"run{run}-{name}"
                work.mkdir()
                sink.append(measure(source, work, tools))
                shutil.rmtree(work)
        bare_median = statistics.median(bare_times)
        vpo_median = statistics.median(vpo_times)
        print(f"runs: {args.runs}, load average {os.getloadavg()[0]:.1f}")
        print(f"bare ffmpeg : median {bare_median:.3f} s  {[round(t, 3) for t in bare_times]}")
        print(f"vpo encode  : median {vpo_median:.3f} s  {[round(t, 3) for t in vpo_times]}")
        print(
            f"ratio vpo / bare: median {vpo_median / bare_median:.3f}, "
            f"best {min(vpo_times) / min(bare_times):.3f}"
        )
        print(f"overhead per file (median difference): {vpo_median - bare_median:+.3f} s")


if __name__ == "__main__":
    main()
