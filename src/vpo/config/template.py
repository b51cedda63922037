"""The files ``vpo init`` writes, generated from the models so they never drift.

Every key appears commented out with its default, so an untouched file changes
nothing and uncommenting one line changes exactly one setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vpo.config.keys import ValueKind, default_values, section_keys
from vpo.config.models import SECTIONS
from vpo.policy.starter import STARTER_POLICY, STARTER_POLICY_NAME

_EXAMPLES: dict[str, str] = {
    "tools.ffprobe": "/usr/local/bin/ffprobe",
    "tools.ffmpeg": "/usr/local/bin/ffmpeg",
    "tools.mkvmerge": "/usr/local/bin/mkvmerge",
    "tools.mkvpropedit": "/usr/local/bin/mkvpropedit",
    "jobs.temp_dir": "/mnt/scratch/vpo",
    "transcode.scratch_dir": "/mnt/fast-ssd/vpo",
    "jobs.window": "01:00-07:00",
    "server.token": "a-long-random-string",
    "server.policy_dir": "~/.config/vpo/policies",
}

UNSET_MEANING: dict[str, str] = {
    "tools.ffprobe": "search PATH",
    "tools.ffmpeg": "search PATH",
    "tools.mkvmerge": "search PATH",
    "tools.mkvpropedit": "search PATH",
    "jobs.temp_dir": "beside each media file",
    "transcode.scratch_dir": "[jobs] temp_dir, else beside each media file",
    "jobs.window": "files start at any time",
    "server.token": "only a loopback bind is allowed",
    "server.policy_dir": "policies/ beside config.toml",
}

_HEADER = """\
# vpo configuration.
#
# Every setting is listed below, commented out, with its default value.
# Uncomment a line and edit it to change that setting.
# Precedence: defaults < this file < environment variables (VPO_<SECTION>_<KEY>)
# < command-line options. `vpo config show` prints each effective value and
# where it came from; docs/configuration.md describes every key.
"""


@dataclass(frozen=True, slots=True)
class StarterFile:
    """One file ``vpo init`` creates."""

    path: Path
    content: str
    description: str


def starter_files(config_path: Path) -> tuple[StarterFile, ...]:
    """Everything ``vpo init`` writes; add an entry here to ship another starter file."""
    return (
        StarterFile(config_path, config_template(), "configuration"),
        StarterFile(config_path.with_name(STARTER_POLICY_NAME), STARTER_POLICY, "starter policy"),
    )


def config_template() -> str:
    """A commented config.toml documenting every key with its default."""
    defaults = default_values()
    blocks = [_HEADER]
    for section, model in SECTIONS.items():
        lines = [f"[{section}]", f"# {(model.__doc__ or '').strip()}"]
        for key in section_keys(section):
            lines.append("")
            lines.append(f"# {key.description}.")
            lines.append(f"# Environment: {key.env_var}")
            default = defaults[key.dotted]
            if default is None:
                example = toml_value(_EXAMPLES.get(key.dotted, ""))
                lines.append(f"# Default: not set ({UNSET_MEANING.get(key.dotted, 'unset')}).")
                lines.append(f"# Example: {key.name} = {example}")
            else:
                lines.append(f"# {key.name} = {toml_value(default)}")
            if key.kind is ValueKind.INT_OR_AUTO:
                lines.append(f"# (or a number, e.g. {key.name} = 8)")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def toml_value(value: object) -> str:
    """``value`` written as TOML (bool, number, string, path, list of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return toml_string(str(value))


def toml_string(text: str) -> str:
    """A TOML basic string; control characters escaped so any path round-trips."""
    escaped = []
    for char in text:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
