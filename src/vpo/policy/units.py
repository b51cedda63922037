"""Parsing of the human units policies use: sizes (``5GB``), durations (``30m``),
resolutions (``1080p``) and bitrates (``8M``).

Pure functions; each raises ValueError with a message that says what was expected,
so pydantic turns it into a validation error with the field's line.
"""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
# Matched against stripped text, so no pattern starts or ends with \s*: two \s*
# with only optional parts between them (``\s*([kmg]?)(?:bps|b)?\s*``) made
# Python's re backtrack quadratically over a run of blanks in a hostile policy.
_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)", re.IGNORECASE)
_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?\s*[hms]\s*)+", re.IGNORECASE)
_BITRATE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)(?:bps|b)?", re.IGNORECASE)

# Named resolutions → frame height in pixels.
RESOLUTIONS: dict[str, int] = {
    "480p": 480,
    "576p": 576,
    "720p": 720,
    "1080p": 1080,
    "1440p": 1440,
    "2160p": 2160,
    "4k": 2160,
}


def parse_size(value: str | int) -> int:
    """``5GB`` → 5_000_000_000 bytes (K/M/G/T are decimal, KiB/MiB/GiB/TiB binary)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    match = _SIZE_RE.fullmatch(str(value).strip())
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"'{value}' is not a size; write it like 700MB, 5GB or 4GiB")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def parse_duration(value: str | int | float) -> float:
    """``1h30m`` → 5400.0 seconds; a bare number is seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = str(value).strip()
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"'{value}' is not a duration; write it like 90s, 30m or 1h30m")
    factors = {"h": 3600.0, "m": 60.0, "s": 1.0}
    return sum(
        float(number) * factors[unit.lower()] for number, unit in _DURATION_PART_RE.findall(text)
    )


def parse_resolution(value: str | int) -> int:
    """``1080p`` → 1080 (frame height); a bare number is a height in pixels."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError("a resolution must be a positive height")
        return value
    height = RESOLUTIONS.get(str(value).strip().lower())
    if height is None:
        names = ", ".join(RESOLUTIONS)
        raise ValueError(f"'{value}' is not a resolution; use one of {names}")
    return height


def parse_bitrate(value: str | int) -> int:
    """``8M`` → 8_000_000 bits per second; ``640k`` → 640_000."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError("a bitrate must be positive")
        return value
    match = _BITRATE_RE.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"'{value}' is not a bitrate; write it like 640k, 8M or 8000000")
    factor = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match.group(2).lower()]
    bits = int(float(match.group(1)) * factor)
    if bits <= 0:
        raise ValueError("a bitrate must be positive")
    return bits
