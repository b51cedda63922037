"""What version each external tool is, and whether vpo can rely on it.

Parsing and assessment are pure (tested on captured ``-version`` output);
``check_tool`` is the one function that runs a process.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from pathlib import Path

from vpo.tools.runner import ToolError, run_tool

Version = tuple[int, ...]

# Why these floors: docs/configuration.md ("Tool versions") explains each.
MINIMUM_VERSIONS: dict[str, Version] = {
    "ffprobe": (5, 0),
    "ffmpeg": (5, 0),
    "mkvmerge": (60, 0),
    "mkvpropedit": (60, 0),
}

# What stops working without each tool (shown by ``vpo doctor``).
FEATURES: dict[str, str] = {
    "ffprobe": "probing non-Matroska files (MP4, AVI, TS, …)",
    "ffmpeg": "processing MP4 and other non-Matroska containers, and encoding",
    "mkvmerge": "probing Matroska/WebM files and remuxing them",
    "mkvpropedit": "in-place metadata edits of Matroska files (flags, languages, titles)",
}

_VERSION_ARGS: dict[str, tuple[str, ...]] = {
    "ffprobe": ("-version",),
    "ffmpeg": ("-version",),
    "mkvmerge": ("--version",),
    "mkvpropedit": ("--version",),
}

_FFMPEG_LINE = re.compile(r"^(ffmpeg|ffprobe) version (\S+)")
_FFMPEG_NUMBER = re.compile(r"^n?(\d{1,3})\.(\d+)(?:\.(\d+))?(?![\d.])")
_MKVTOOLNIX_LINE = re.compile(r"^(mkvmerge|mkvpropedit) v(\d+)\.(\d+)(?:\.(\d+))?")


class UnrecognisedVersionError(ValueError):
    """The output does not look like the tool's version banner at all."""


@dataclass(frozen=True, slots=True)
class ToolVersion:
    """A tool's reported version; ``number`` is None for builds without one (git snapshots)."""

    tool: str
    text: str
    number: Version | None

    def __str__(self) -> str:
        return self.text


def format_version(number: Version) -> str:
    return ".".join(str(part) for part in number)


def at_least(number: Version, minimum: Version) -> bool:
    """Compare release numbers with missing parts read as 0 (``60`` equals ``60.0``)."""
    width = max(len(number), len(minimum))
    padded = number + (0,) * (width - len(number))
    return padded >= minimum + (0,) * (width - len(minimum))


def parse_ffmpeg_version(tool: str, output: str) -> ToolVersion:
    """Parse ``ffmpeg -version`` / ``ffprobe -version``.

    Release builds say ``5.1.9-0+deb12u1``, ``n6.1.1`` or ``7.0.2-static``; git
    snapshots say ``N-113000-g…`` or a date, which carry no comparable number.
    """
    for line in output.splitlines():
        match = _FFMPEG_LINE.match(line.strip())
        if match and match.group(1) == tool:
            text = match.group(2)
            number = _FFMPEG_NUMBER.match(text)
            if number is None:
                return ToolVersion(tool, text, None)
            major, minor, patch = number.groups()
            parts = (int(major), int(minor)) + ((int(patch),) if patch else ())
            return ToolVersion(tool, text, parts)
    raise UnrecognisedVersionError(_first_line(output))


def parse_mkvtoolnix_version(tool: str, output: str) -> ToolVersion:
    """Parse ``mkvmerge --version`` / ``mkvpropedit --version``.

    The banner is ``mkvmerge v74.0.0 ('You Oughta Know') 64-bit`` in every release.
    """
    for line in output.splitlines():
        match = _MKVTOOLNIX_LINE.match(line.strip())
        if match and match.group(1) == tool:
            parts = tuple(int(group) for group in match.groups()[1:] if group is not None)
            return ToolVersion(tool, "v" + format_version(parts), parts)
    raise UnrecognisedVersionError(_first_line(output))


def parse_version_output(tool: str, output: str) -> ToolVersion:
    """Dispatch to the parser for ``tool`` (one of the four vpo uses)."""
    if tool in ("ffmpeg", "ffprobe"):
        return parse_ffmpeg_version(tool, output)
    if tool in ("mkvmerge", "mkvpropedit"):
        return parse_mkvtoolnix_version(tool, output)
    raise ValueError(f"vpo does not know how to read the version of {tool!r}")


def _first_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = lines[0] if lines else "no output"
    return first if len(first) <= 120 else first[:119] + "…"


class ToolState(enum.Enum):
    """What ``vpo doctor`` concludes about one tool."""

    OK = "ok"
    UNKNOWN_VERSION = "unknown version"  # works, but the version cannot be compared
    MISSING = "missing"
    TOO_OLD = "too old"
    BROKEN = "broken"  # found, but ``-version`` failed or printed something else

    @property
    def usable(self) -> bool:
        return self in (ToolState.OK, ToolState.UNKNOWN_VERSION)


@dataclass(frozen=True, slots=True)
class ToolStatus:
    """One tool's verdict, with enough detail to print or serialise it."""

    tool: str
    path: str | None
    state: ToolState
    version: ToolVersion | None
    minimum: Version
    detail: str

    @property
    def unavailable(self) -> str:
        """The feature lost while this tool is unusable."""
        return FEATURES[self.tool]


def assess_tool(
    tool: str,
    path: str | None,
    version: ToolVersion | None = None,
    error: str | None = None,
    *,
    configured: str | None = None,
    missing_reason: str = "not found",
) -> ToolStatus:
    """Pure verdict from what was found: the path, the parsed version or the error."""
    minimum = MINIMUM_VERSIONS[tool]
    needed = format_version(minimum)
    if path is None:
        where = f"configured path {configured} {missing_reason}" if configured else "not on PATH"
        return ToolStatus(tool, None, ToolState.MISSING, None, minimum, where)
    if version is None:
        return ToolStatus(
            tool, path, ToolState.BROKEN, None, minimum, error or "no version information"
        )
    if version.number is None:
        detail = f"version {version.text} cannot be compared with the minimum {needed}"
        return ToolStatus(tool, path, ToolState.UNKNOWN_VERSION, version, minimum, detail)
    if not at_least(version.number, minimum):
        detail = f"version {version.text} is older than the minimum {needed}"
        return ToolStatus(tool, path, ToolState.TOO_OLD, version, minimum, detail)
    return ToolStatus(tool, path, ToolState.OK, version, minimum, f"version {version.text}")


def read_tool_version(tool: str, executable: str, *, timeout: float = 10.0) -> ToolVersion:
    """Run ``executable -version`` (or ``--version``) and parse it.

    Raises ToolError when it cannot run and UnrecognisedVersionError when the
    output is not the tool's banner (e.g. a path that points at another program).
    """
    result = run_tool([executable, *_VERSION_ARGS[tool]], timeout=timeout)
    return parse_version_output(tool, result.stdout_text or result.stderr_text)


def check_tool(
    tool: str, path: str | None, *, configured: str | None = None, timeout: float = 10.0
) -> ToolStatus:
    """Find out everything doctor needs about one tool (the I/O half of ``assess_tool``)."""
    if path is None:
        reason = _configured_problem(Path(configured)) if configured else "not found"
        return assess_tool(tool, None, configured=configured, missing_reason=reason)
    try:
        version = read_tool_version(tool, path, timeout=timeout)
    except ToolError as failure:
        code = f" (exit {failure.returncode})" if failure.returncode is not None else ""
        return assess_tool(
            tool, path, error=f"'{tool} {_VERSION_ARGS[tool][0]}' failed{code}: {failure.cause}"
        )
    except UnrecognisedVersionError as unrecognised:
        return assess_tool(tool, path, error=f"does not look like {tool}: {unrecognised}")
    return assess_tool(tool, path, version)


def _configured_problem(path: Path) -> str:
    """Why a configured tool path was not usable (locate_tools only says "not found")."""
    if path.is_dir():
        return "is a directory"
    if path.exists() and not os.access(path, os.X_OK):
        return "is not executable"
    return "not found"
