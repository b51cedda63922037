"""Find the external executables once, so every later call uses an absolute path."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from vpo.tools.runner import ToolNotFoundError

TOOL_NAMES = ("ffprobe", "ffmpeg", "mkvmerge", "mkvpropedit")


@dataclass(frozen=True, slots=True)
class ToolPaths:
    """Absolute paths of the external tools; ``None`` where a tool was not found."""

    ffprobe: str | None = None
    ffmpeg: str | None = None
    mkvmerge: str | None = None
    mkvpropedit: str | None = None

    def require(self, name: str) -> str:
        """The path of ``name``, or ToolNotFoundError telling the user what to do."""
        value = getattr(self, name)
        if value is None:
            raise ToolNotFoundError(name, "not on PATH and no path configured")
        return str(value)

    def missing(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is None)


def locate_tools(configured: Mapping[str, str | Path | None] | None = None) -> ToolPaths:
    """Resolve each tool from its configured path, else from PATH.

    A configured path that does not exist counts as missing (doctor reports it),
    rather than silently falling back to another binary.
    """
    configured = configured or {}
    found: dict[str, str | None] = {}
    for name in TOOL_NAMES:
        explicit = configured.get(name)
        if explicit:
            candidate = shutil.which(str(explicit))
            found[name] = str(Path(candidate).resolve()) if candidate else None
        else:
            candidate = shutil.which(name)
            found[name] = candidate
    return ToolPaths(**found)
