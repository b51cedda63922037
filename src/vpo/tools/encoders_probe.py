"""Ask ffmpeg once what it can encode with (``-encoders``, ``-hwaccels``), and which
listed hardware encoders actually work here: a distribution's ffmpeg lists nvenc
whether or not there is a GPU, so each candidate encodes one tiny test frame.

Cached per ffmpeg path for the life of the process (a batch asks once).
"""

from __future__ import annotations

import functools
import threading

from vpo.tools.commands.encoders import (
    VAAPI_DEVICE,
    EncoderInventory,
    hardware_candidates,
    parse_encoders,
    parse_hwaccels,
)
from vpo.tools.runner import ToolError, run_tool

LISTING_TIMEOUT = 30.0
TEST_FRAME_TIMEOUT = 20.0
_lock = threading.Lock()


def encoder_inventory(ffmpeg: str) -> EncoderInventory:
    """The inventory for ``ffmpeg`` (computed on first use; thread-safe)."""
    with _lock:
        return _inventory(ffmpeg)


@functools.cache
def _inventory(ffmpeg: str) -> EncoderInventory:
    encoders = parse_encoders(_listing(ffmpeg, "-encoders"))
    hwaccels = parse_hwaccels(_listing(ffmpeg, "-hwaccels"))
    listed = EncoderInventory(encoders, hwaccels)
    working = frozenset(
        name for name in hardware_candidates(listed) if _encodes_a_frame(ffmpeg, name)
    )
    return EncoderInventory(encoders, hwaccels, working)


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
        _inventory.cache_clear()
