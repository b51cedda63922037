"""Encoder detection before an encode: every hardware candidate against only the
encoders the plan can use.

    .venv/bin/python bench/encoders.py [--rounds 7]

Per round, each from a cold cache (``clear_cache``), interleaved:

- every: ``encoder_inventory(ffmpeg)`` with no plan: list encoders and hwaccels and
  test-encode one frame with every listed hardware candidate (what every encode
  paid before, and what ``vpo doctor`` still does);
- software: the same for a plan encoding HEVC on the CPU (the default): listing only;
- auto: a plan with ``hardware_acceleration: {enabled: auto}`` for HEVC: the HEVC
  candidates in choice order until one works.

Prints the median seconds of each, the number of test frames, and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import EncodeSettings, Hardware, Plan, PlannedTrack, VideoEncode
from vpo.tools import encoders_probe
from vpo.tools.commands.encoders import hardware_candidates, hardware_wanted
from vpo.tools.locate import locate_tools


def hevc_plan(hardware: Hardware) -> Plan:
    media = MediaFile(
        Path("/bench.mkv"), Container.MATROSKA, 1, 0, (Track(0, 0, TrackType.VIDEO, "h264"),)
    )
    encode = EncodeSettings("hevc", video=VideoEncode(hardware=hardware))
    track = PlannedTrack(0, TrackType.VIDEO, "hevc", "und", None, TrackFlags(), encode=encode)
    return Plan(source=media, phase="bench", container=Container.MATROSKA, tracks=(track,))


def timed(ffmpeg: str, plan: Plan | None) -> float:
    encoders_probe.clear_cache()
    start = time.perf_counter()
    encoders_probe.encoder_inventory(ffmpeg, plan)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    ffmpeg = locate_tools().require("ffmpeg")
    cases = {
        "every": None,
        "software": hevc_plan(Hardware.NONE),
        "auto": hevc_plan(Hardware.AUTO),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, plan in cases.items():
            times[name].append(timed(ffmpeg, plan))
    listed = encoders_probe.encoder_inventory(ffmpeg)
    frames = {
        "every": len(hardware_candidates(listed)),
        "software": 0,
        "auto": sum(
            len(g) for g in hardware_wanted([("hevc", VideoEncode(hardware=Hardware.AUTO))], listed)
        ),
    }
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.rounds} rounds, interleaved, cold cache each time")
    print("| detection | test frames (at most) | median s | × every |")
    print("| --- | --- | --- | --- |")
    for name in cases:
        ratio = median[name] / median["every"]
        print(f"| {name} | {frames[name]} | {median[name]:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
