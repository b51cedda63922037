"""Reading config.toml: parse with tomllib, and find line numbers for messages.

tomllib reports no positions for values, so a small scan of the text (section
headers and ``key =`` lines) recovers the line of a key; good enough to point
a user at the right place.

Reading is bounded (docs/configuration.md, "Limits"): only a regular file of at
most ``MAX_CONFIG_BYTES`` is read; a dotted key or table name of more than
``MAX_KEY_PARTS`` parts is refused before parsing (tomllib's time grows with the
square of that count: 50,000 parts take minutes); arrays and inline tables
nested past what tomllib's recursion can parse are one error line.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpo.config.settings import shown
from vpo.errors import ConfigError
from vpo.input_file import InputRefused, read_input_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

# The name ends in a non-blank, so the blanks before "]" belong to one part of the
# pattern only: a lazy name followed by \s* rescanned them at every step
# (quadratic: a quoted table name with 500,000 spaces took an hour).
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]*[^\[\]\s])\s*\]\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")

MAX_CONFIG_BYTES = 1 << 20  # 1 MiB; the full commented template is under 8 KiB
MAX_KEY_PARTS = 32  # parts of one dotted key or [table.name]; vpo's keys have two


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A parsed config file with its text kept for line lookups."""

    path: Path
    text: str
    data: dict[str, Any]

    def line_of(self, section: str, key: str | None = None) -> int | None:
        """1-based line of ``key`` in ``[section]`` (else of the section), if the scan finds it."""
        line = find_key_line(self.text, section, key) if key is not None else None
        return line if line is not None else find_section_line(self.text, section)

    def location(self, section: str, key: str | None = None) -> str:
        """``path:line`` (or just ``path``) for messages and source reports."""
        line = self.line_of(section, key)
        return f"{shown(self.path)}:{line}" if line is not None else shown(self.path)


def _dotted_parts(raw: str) -> tuple[str, ...]:
    parts = re.findall(r""""[^"]*"|'[^']*'|[^.\s]+""", raw)
    return tuple(part.strip("\"'") for part in parts)


def find_section_line(text: str, section: str) -> int | None:
    """Line of the ``[section]`` header, else of a top-level ``section = …`` or ``section.x =``."""
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _dotted_parts(header.group(1))
            if current and current[0] == section:
                return number
            continue
        key = _KEY.match(line)
        if key and not current and _dotted_parts(key.group(1))[0] == section:
            return number
    return None


def find_key_line(text: str, section: str, key: str) -> int | None:
    """Line where ``key`` is set inside ``[section]``, as ``section.key`` at top level,
    or opened as a ``[section.key]`` sub-table."""
    current: tuple[str, ...] = ()
    wanted_inside = (key,)
    wanted_top = (section, key)
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _dotted_parts(header.group(1))
            if current[:2] == wanted_top:  # [section.key] sub-table
                return number
            continue
        match = _KEY.match(line)
        if not match:
            continue
        parts = _dotted_parts(match.group(1))
        if (current == (section,) and parts[: len(wanted_inside)] == wanted_inside) or (
            not current and parts[:2] == wanted_top
        ):
            return number
    return None


# Tokens of a line for the dotted-key check: a bare or quoted key part, a dot,
# blanks, or any other single character. Each alternative either matches
# without backtracking or fails at once, so a line is scanned in linear time.
_KEY_TOKEN = re.compile(r"""([A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')|(\.)|([ \t]+)|.""")


def _longest_dotted_run(line: str) -> int:
    """Most parts in one ``a.b.c`` run of key parts anywhere on ``line``."""
    longest = dots = 0
    for token in _KEY_TOKEN.finditer(line):
        part, dot, blank = token.groups()
        if dot is not None:
            dots += 1
            longest = max(longest, dots + 1)
        elif part is None and blank is None:
            dots = 0  # '=', ',', a bracket...: the run ends
    return longest


def _check_key_lengths(text: str, path: Path) -> None:
    """Refuse a dotted key or table name longer than MAX_KEY_PARTS parts
    (in a ``key =`` line, a table header or an inline table)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count(".") < MAX_KEY_PARTS:
            continue  # cheap: most lines cannot hold such a key
        if _longest_dotted_run(line) > MAX_KEY_PARTS:
            raise ConfigError(
                f"{shown(path)}:{number}: key or table name has more than "
                f"{MAX_KEY_PARTS} dotted parts; vpo's keys have two"
            )


def parse_config_text(text: str, path: Path) -> ConfigFile:
    """Parse TOML text; a syntax error becomes one ConfigError naming file and line."""
    _check_key_lengths(text, path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_describe_toml_error(str(error), text, path)) from None
    except RecursionError:
        raise ConfigError(
            f"{shown(path)}: invalid TOML: arrays or inline tables nested too deeply; "
            "vpo's settings need at most one level"
        ) from None
    return ConfigFile(path=path, text=text, data=data)


def _describe_toml_error(message: str, text: str, path: Path) -> str:
    position = _POSITION.search(message)
    if position:
        line, column = position.groups()
        reason = message[: position.start()]
        return f"{shown(path)}:{line}: invalid TOML: {reason} (column {column})"
    if _AT_END.search(message):
        reason = _AT_END.sub("", message)
        last_line = max(1, len(text.splitlines()))
        return f"{shown(path)}:{last_line}: invalid TOML: {reason} (at end of file)"
    return f"{shown(path)}: invalid TOML: {message}"


def read_config_file(path: Path) -> ConfigFile | None:
    """The parsed file, or None when it does not exist (no config file is normal)."""
    try:
        raw = read_input_file(path, MAX_CONFIG_BYTES, "config file")
    except InputRefused as refused:
        raise ConfigError(f"{shown(path)}: {refused.reason}; point VPO_CONFIG at a file") from None
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(
            f"{shown(path)}: config file is a directory; point VPO_CONFIG at a file"
        ) from None
    except PermissionError:
        raise ConfigError(f"{shown(path)}: cannot read config file: permission denied") from None
    except OSError as error:
        raise ConfigError(f"{shown(path)}: cannot read config file: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{shown(path)}:{line}: config file is not UTF-8 text") from None
    return parse_config_text(text, path)
