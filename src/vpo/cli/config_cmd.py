"""``vpo config show`` and ``vpo config path``: what the settings are and why."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit
from vpo.config import LoadedConfig, config_location
from vpo.config.keys import ALL_KEYS
from vpo.config.models import SECTIONS, section_of
from vpo.config.settings import render_value, shown
from vpo.config.template import UNSET_MEANING

CONFIG_SCHEMA = "vpo.config/1"


@click.group("config")
def config() -> None:
    """Show the effective configuration and where it comes from."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def show(as_json: bool) -> None:
    """Print every setting with its value and source (default, file, env or cli)."""
    loaded = load_config_or_exit()
    if as_json:
        click.echo(json.dumps(config_to_dict(loaded), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(config_lines(loaded)))


@config.command("path")
def path() -> None:
    """Print the config file in use and whether it exists (the file is not read)."""
    location = config_location()
    state = "exists" if location.path.is_file() else "does not exist: defaults apply"
    click.echo(f"{shown(location.path)}  ({state}; {location.reason})")


def _value(loaded: LoadedConfig, section: str, name: str) -> object:
    return getattr(section_of(loaded.config, section), name)


def _json_value(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def config_to_dict(loaded: LoadedConfig) -> dict[str, object]:
    """The documented ``--json`` shape (docs/configuration.md)."""
    sections: dict[str, dict[str, object]] = {section: {} for section in SECTIONS}
    for key in ALL_KEYS:
        sections[key.section][key.name] = {
            "value": _json_value(_value(loaded, key.section, key.name)),
            "source": loaded.sources[key.dotted],
            "env": key.env_var,
        }
    return {
        "schema": CONFIG_SCHEMA,
        "config_file": {
            "path": str(loaded.path),
            "exists": loaded.file_exists,
            "from_env": loaded.location.from_env,
        },
        "settings": sections,
    }


def config_lines(loaded: LoadedConfig) -> list[str]:
    """Readable lines: the config file, then per section ``key = value  # source``."""
    state = "exists" if loaded.file_exists else "does not exist: defaults apply"
    lines = [f"config file: {shown(loaded.path)}  ({state}; {loaded.location.reason})"]
    rendered = {key.dotted: _display(loaded, key.section, key.name) for key in ALL_KEYS}
    name_width = max(len(key.name) for key in ALL_KEYS)
    value_width = max(len(text) for text in rendered.values() if len(text) <= 40)
    for section in SECTIONS:
        lines.append("")
        lines.append(f"[{section}]")
        for key in (k for k in ALL_KEYS if k.section == section):
            value = f"{rendered[key.dotted]:<{value_width}}"
            source = loaded.sources[key.dotted]
            lines.append(f"  {key.name:<{name_width}} = {value}  # {source}")
    return lines


def _display(loaded: LoadedConfig, section: str, name: str) -> str:
    value = _value(loaded, section, name)
    if value is None:
        return f"(not set: {UNSET_MEANING.get(f'{section}.{name}', 'unset')})"
    return render_value(value)
