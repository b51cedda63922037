"""Layering: defaults < file < environment < command line, implemented once.

Each layer is a mapping dotted key → Setting. The builder merges them, checks
the result with the pydantic models in one go and turns the first validation
problem into one ConfigError line that names where the bad value came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from vpo.config.keys import KEYS_BY_DOTTED, ConfigKey, section_keys, suggest
from vpo.config.models import GROUPS, SECTIONS, VPOConfig
from vpo.config.settings import DEFAULT_SOURCE, Setting, render_value, shown
from vpo.config.toml_file import ConfigFile
from vpo.errors import ConfigError

Layer = Mapping[str, Setting]


@dataclass(frozen=True, slots=True)
class BuiltConfig:
    """The validated configuration and, per dotted key, where its value came from."""

    config: VPOConfig
    sources: Mapping[str, str]


def file_layer(config_file: ConfigFile) -> dict[str, Setting]:
    """Settings from a parsed config file; unknown sections and keys are errors."""
    layer: dict[str, Setting] = {}
    for section, table in _tables(config_file):
        if section not in SECTIONS:
            raise ConfigError(_unknown_section(config_file, section, table))
        if not isinstance(table, dict):
            raise ConfigError(
                f"{config_file.location(section)}: '{section}' must be a table ([{section}])"
            )
        known = [key.name for key in section_keys(section)]
        for name, value in table.items():
            if name not in known:
                hint = suggest(name, known)
                did_you_mean = f" (did you mean '{hint}'?)" if hint else ""
                raise ConfigError(
                    f"{config_file.location(section, name)}: unknown key '{shown(name)}' "
                    f"in [{section}]{did_you_mean}"
                )
            where = config_file.location(section, name)
            layer[f"{section}.{name}"] = Setting(value, f"file {where}", where)
    return layer


def _tables(config_file: ConfigFile) -> Iterator[tuple[str, object]]:
    """Top-level tables; a group's sub-tables (``[integrations.radarr]``) by dotted name."""
    for section, table in config_file.data.items():
        if section in GROUPS and isinstance(table, dict):
            for sub, inner in table.items():
                yield f"{section}.{sub}", inner
        else:
            yield section, table


def _unknown_section(config_file: ConfigFile, section: str, value: object) -> str:
    where = config_file.location(section)
    if not isinstance(value, dict):
        owners = [key.section for key in KEYS_BY_DOTTED.values() if key.name == section]
        hint = f"; it belongs in [{owners[0]}]" if owners else ""
        return f"{where}: unknown key '{shown(section)}' at top level{hint}"
    close = suggest(section, SECTIONS)
    did_you_mean = f" (did you mean [{close}]?)" if close else ""
    return f"{where}: unknown section [{shown(section)}]{did_you_mean}"


def cli_layer(
    overrides: Mapping[str, object], flags: Mapping[str, str] | None = None
) -> dict[str, Setting]:
    """Settings from command-line options; ``None`` means the option was not given.

    ``flags`` names the option for a key when it is not ``--<key-name>``
    (for example ``{"library.database": "--db"}``).
    """
    flags = flags or {}
    layer: dict[str, Setting] = {}
    for dotted, value in overrides.items():
        if dotted not in KEYS_BY_DOTTED:
            raise KeyError(f"unknown configuration key {dotted!r} in command-line overrides")
        if value is None:
            continue
        flag = flags.get(dotted, "--" + KEYS_BY_DOTTED[dotted].name.replace("_", "-"))
        layer[dotted] = Setting(value, f"cli {flag}", f"option {flag}")
    return layer


def build_config(layers: Sequence[Layer]) -> BuiltConfig:
    """Merge layers (later wins) over the defaults and validate the result."""
    merged: dict[str, Setting] = {}
    for layer in layers:
        merged.update(layer)
    nested: dict[str, dict[str, object]] = {}
    for dotted, setting in merged.items():
        section, _, name = dotted.rpartition(".")
        target: dict[str, object] = nested.setdefault(section.split(".")[0], {})
        for part in section.split(".")[1:]:
            target = target.setdefault(part, {})  # type: ignore[assignment]
        target[name] = setting.value
    try:
        config = VPOConfig.model_validate(nested)
    except ValidationError as error:
        raise ConfigError(_describe(error.errors()[0], merged)) from None
    sources = {
        dotted: merged[dotted].source if dotted in merged else DEFAULT_SOURCE
        for dotted in KEYS_BY_DOTTED
    }
    return BuiltConfig(config=config, sources=sources)


def _describe(error: ErrorDetails, merged: Mapping[str, Setting]) -> str:
    """One line: where the value came from, the key, what was wrong, the value."""
    loc = [str(part) for part in error["loc"]]
    dotted = ".".join(loc[:3]) if ".".join(loc[:3]) in KEYS_BY_DOTTED else ".".join(loc[:2])
    key = KEYS_BY_DOTTED[dotted]
    setting = merged.get(dotted)
    origin = setting.origin if setting is not None else DEFAULT_SOURCE
    value = setting.value if setting is not None else error["input"]
    return f"{origin}: {dotted} {_problem(error, key)}, got {render_value(value)}"


def _problem(error: ErrorDetails, key: ConfigKey) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']:g}"
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']:g}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind in {
        "max_workers",
        "extension_value",
        "extensions_type",
        "extensions_empty",
        "executor",
        "encode_resources",
    }:
        return error["msg"]
    return f"must be {key.kind.expected}"
