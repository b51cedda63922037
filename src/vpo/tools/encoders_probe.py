"""Ask ffmpeg once what it can encode with (``-encoders``, ``-hwaccels``), and whether
the hardware encoders a plan would use actually work here: a distribution's ffmpeg
lists nvenc whether or not there is a GPU, so a candidate encodes one tiny test frame.

Only the encoders the plan's video encodes ask for are tested, lazily, in the order
the encoder choice tries them, and each answer is kept for the life of the process
(a batch asks at most once per encoder). A software-only or audio-only encode starts
no test at all.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable

from vpo.plan import Plan, VideoEncode
from vpo.tools.commands.encoders import (
    VAAPI_DEVICE,
    EncoderInventory,
    hardware_candidates,
    hardware_wanted,
    parse_encoders,
    parse_hwaccels,
)
from vpo.tools.runner import ToolError, run_tool

LISTING_TIMEOUT = 30.0
TEST_FRAME_TIMEOUT = 20.0
_lock = threading.Lock()
_works: dict[tuple[str, str], bool] = {}


def encoder_inventory(ffmpeg: str, plan: Plan | None = None) -> EncoderInventory:
    """What ``ffmpeg`` offers for ``plan``: its encoders, and which of the hardware
    encoders the plan would use work (every listed one when ``plan`` is None, as
    ``vpo doctor`` asks). Thread-safe; each encoder is tested once per process."""
    with _lock:
        listed = _listed(ffmpeg)
        if plan is None:
            groups: Iterable[tuple[str, ...]] = [(name,) for name in hardware_candidates(listed)]
        else:
            groups = hardware_wanted(_video_encodes(plan), listed)
        working = frozenset(name for group in groups for name in _first_working(ffmpeg, group))
    return EncoderInventory(listed.encoders, listed.hwaccels, working)


def _video_encodes(plan: Plan) -> list[tuple[str, VideoEncode]]:
    return [
        (track.encode.codec, track.encode.video)
        for track in plan.tracks
        if track.encode is not None and track.encode.video is not None
    ]


def _first_working(ffmpeg: str, group: tuple[str, ...]) -> tuple[str, ...]:
    """The first encoder of ``group`` that encodes a frame (the choice stops there)."""
    for name in group:
        key = (ffmpeg, name)
        if key not in _works:
            _works[key] = _encodes_a_frame(ffmpeg, name)
        if _works[key]:
            return (name,)
    return ()


@functools.cache
def _listed(ffmpeg: str) -> EncoderInventory:
    encoders = parse_encoders(_listing(ffmpeg, "-encoders"))
    hwaccels = parse_hwaccels(_listing(ffmpeg, "-hwaccels"))
    return EncoderInventory(encoders, hwaccels)


def _listing(ffmpeg: str, option: str) -> str:
    result = run_tool([ffmpeg, "-hide_banner", option], timeout=LISTING_TIMEOUT)
    return result.stdout_text


def sample_frame_argv(ffmpeg: str, encoder: str) -> list[str]:
    """One 256x256 frame through ``encoder`` into nothing (vaapi needs an upload)."""
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if encoder.endswith("_vaapi"):
        argv += ["-vaapi_device", VAAPI_DEVICE]
    argv += ["-f", "lavfi", "-i", "color=size=256x256:duration=0.1", "-frames:v", "1"]
    if encoder.endswith("_vaapi"):
        argv += ["-vf", "format=nv12,hwupload"]
    return [*argv, "-c:v", encoder, "-f", "null", "-"]


def _encodes_a_frame(ffmpeg: str, encoder: str) -> bool:
    try:
        run_tool(sample_frame_argv(ffmpeg, encoder), timeout=TEST_FRAME_TIMEOUT)
    except ToolError:
        return False
    return True


def clear_cache() -> None:
    """Forget what was found (tests; a long-lived process after a driver change)."""
    with _lock:
        _listed.cache_clear()
        _works.clear()
