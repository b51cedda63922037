"""Tool choice: the cheapest tool that can execute a plan in one pass (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vpo.media.model import Container
from vpo.plan import Plan, PlanKind


class Tool(str, enum.Enum):
    """What executes a plan."""

    NONE = "none"
    MKVPROPEDIT = "mkvpropedit"
    MKVMERGE = "mkvmerge"
    FFMPEG = "ffmpeg"


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """The chosen tool and why (shown in results and logs)."""

    tool: Tool
    reason: str

    @property
    def rewrites(self) -> bool:
        """True when a new file is written (temp + verify + rename)."""
        return self.tool in (Tool.MKVMERGE, Tool.FFMPEG)


# ToolChoice.tool values, for callers that only want the enum
MKVPROPEDIT = Tool.MKVPROPEDIT
MKVMERGE = Tool.MKVMERGE
FFMPEG = Tool.FFMPEG
NONE = Tool.NONE

_MATROSKA = (Container.MATROSKA, Container.WEBM)


def choose_tool(plan: Plan) -> ToolChoice:
    """Header edits on Matroska → mkvpropedit; into Matroska → mkvmerge; else ffmpeg."""
    kind = plan.kind
    if kind is PlanKind.NOOP:
        return ToolChoice(Tool.NONE, "file already conforms")
    if plan.only_time_changes:
        return ToolChoice(Tool.NONE, "only the file's modification time changes")
    if kind is PlanKind.ENCODE:
        return ToolChoice(Tool.FFMPEG, "tracks are encoded")
    if kind is PlanKind.METADATA and plan.source.container in _MATROSKA:
        return ToolChoice(Tool.MKVPROPEDIT, "header-only change on Matroska, edited in place")
    if plan.container in _MATROSKA:
        if plan.source.container is plan.container:
            return ToolChoice(Tool.MKVMERGE, "tracks reordered or removed: one mkvmerge remux")
        return ToolChoice(Tool.MKVMERGE, f"conversion to {plan.container.value} with mkvmerge")
    if kind is PlanKind.METADATA:
        return ToolChoice(
            Tool.FFMPEG, f"{plan.container.value} headers cannot be edited in place: ffmpeg copy"
        )
    return ToolChoice(Tool.FFMPEG, f"remux to {plan.container.value} with ffmpeg")
