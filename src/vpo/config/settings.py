"""A value from one configuration layer, with where it came from, and how values are shown."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vpo.text import one_line


@dataclass(frozen=True, slots=True)
class Setting:
    """One key's value as one layer (file, environment, command line) gives it.

    ``source`` is what ``vpo config show`` prints (``env VPO_PROCESSING_WORKERS``);
    ``origin`` prefixes error messages (``/home/u/.config/vpo/config.toml:12``).
    """

    value: object
    source: str
    origin: str


DEFAULT_SOURCE = "default"


def render_value(value: object) -> str:
    """A value as a user would write it in config.toml (true, "text", [..])."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(not set)"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= 80 else text[:78] + '…"'


shown = one_line  # the one implementation: vpo.text
