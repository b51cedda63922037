"""Every configuration key, described once from the models.

The loader, the environment parser, ``vpo config show``, ``vpo init`` and the
docs all walk this list, so a new field in models.py appears everywhere.
"""

from __future__ import annotations

import difflib
import enum
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic.fields import FieldInfo

from vpo.config.models import SECTIONS, VPOConfig, section_of

ENV_PREFIX = "VPO_"


class ValueKind(enum.Enum):
    """The shape of a value, which decides how environment strings are parsed."""

    BOOL = enum.auto()
    INT = enum.auto()
    FLOAT = enum.auto()
    PATH = enum.auto()
    OPTIONAL_PATH = enum.auto()
    STR_LIST = enum.auto()
    INT_OR_AUTO = enum.auto()
    WORD = enum.auto()  # one of a fixed set of words (a Literal of strings)
    STR = enum.auto()
    OPTIONAL_STR = enum.auto()

    @property
    def expected(self) -> str:
        """How error messages name the type a value must have."""
        return _EXPECTED[self]


_EXPECTED = {
    ValueKind.BOOL: "true or false",
    ValueKind.INT: "an integer",
    ValueKind.FLOAT: "a number",
    ValueKind.PATH: "a path (string)",
    ValueKind.OPTIONAL_PATH: "a path (string)",
    ValueKind.STR_LIST: "a list of strings",
    ValueKind.INT_OR_AUTO: 'a whole number or "auto"',
    ValueKind.WORD: "one of the words listed for it",
    ValueKind.STR: "a string",
    ValueKind.OPTIONAL_STR: "a string",
}


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One setting: where it lives, what it holds, how to set it."""

    section: str
    name: str
    kind: ValueKind
    description: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env_var(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper().replace('.', '_')}_{self.name.upper()}"


def _kind_of(annotation: object) -> ValueKind:
    simple = {
        bool: ValueKind.BOOL,
        int: ValueKind.INT,
        float: ValueKind.FLOAT,
        Path: ValueKind.PATH,
        str: ValueKind.STR,
    }
    if isinstance(annotation, type) and annotation in simple:
        return simple[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is tuple:
        return ValueKind.STR_LIST
    if origin is typing.Literal and all(isinstance(a, str) for a in args):
        return ValueKind.WORD
    if origin in (typing.Union, types.UnionType):
        if set(args) == {Path, type(None)}:
            return ValueKind.OPTIONAL_PATH
        if set(args) == {str, type(None)}:
            return ValueKind.OPTIONAL_STR
        if int in args:
            return ValueKind.INT_OR_AUTO
    raise TypeError(f"no ValueKind for annotation {annotation!r}")


def _key(section: str, name: str, field: FieldInfo) -> ConfigKey:
    return ConfigKey(section, name, _kind_of(field.annotation), field.description or "")


ALL_KEYS: tuple[ConfigKey, ...] = tuple(
    _key(section, name, field)
    for section, model in SECTIONS.items()
    for name, field in model.model_fields.items()
)
KEYS_BY_DOTTED: dict[str, ConfigKey] = {key.dotted: key for key in ALL_KEYS}


def section_keys(section: str) -> tuple[ConfigKey, ...]:
    return tuple(key for key in ALL_KEYS if key.section == section)


def suggest(word: str, choices: typing.Iterable[str]) -> str | None:
    """The closest known name, for "did you mean …?" hints."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def default_values() -> dict[str, object]:
    """Dotted key → default value (computed now: the database default depends on XDG dirs)."""
    defaults = VPOConfig()
    return {key.dotted: getattr(section_of(defaults, key.section), key.name) for key in ALL_KEYS}
