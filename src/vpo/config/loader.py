"""Find the config file, read every layer and build the configuration.

The only module in ``vpo.config`` that reads the file system or the process
environment; everything it calls is pure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from vpo.config.builder import build_config, cli_layer, file_layer
from vpo.config.env import env_layer
from vpo.config.models import APP_NAME, VPOConfig
from vpo.config.settings import Setting
from vpo.config.toml_file import read_config_file

CONFIG_ENV_VAR = "VPO_CONFIG"
CONFIG_FILE_NAME = "config.toml"


@dataclass(frozen=True, slots=True)
class ConfigLocation:
    """Which config file is in use and why."""

    path: Path
    from_env: bool

    @property
    def reason(self) -> str:
        return f"from {CONFIG_ENV_VAR}" if self.from_env else "default location"


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """The effective configuration plus the provenance of every value."""

    config: VPOConfig
    sources: Mapping[str, str]
    location: ConfigLocation
    file_exists: bool

    @property
    def path(self) -> Path:
        """The config file in use (it may not exist: then defaults apply)."""
        return self.location.path


def config_location(env: Mapping[str, str] | None = None) -> ConfigLocation:
    """``$VPO_CONFIG`` if set and non-empty, else ``config.toml`` in the user config dir."""
    env = os.environ if env is None else env
    explicit = env.get(CONFIG_ENV_VAR, "").strip()
    if explicit:
        return ConfigLocation(Path(explicit).expanduser(), from_env=True)
    return ConfigLocation(Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME, False)


def load_config(
    cli_overrides: Mapping[str, object] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cli_flags: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Build the configuration: defaults < file < environment < command line.

    ``cli_overrides`` maps dotted keys (``"processing.workers"``) to option values;
    ``None`` values are options the user did not give. ``cli_flags`` names the
    option behind a key for source reports when it is not ``--<key-name>``.
    Raises ConfigError (exit code 2) with one line naming the file/variable/option.
    """
    env = os.environ if env is None else env
    location = config_location(env)
    config_file = read_config_file(location.path)
    layers: list[Mapping[str, Setting]] = []
    if config_file is not None:
        layers.append(file_layer(config_file))
    layers.append(env_layer(env))
    layers.append(cli_layer(cli_overrides or {}, cli_flags))
    built = build_config(layers)
    return LoadedConfig(
        config=built.config,
        sources=built.sources,
        location=location,
        file_exists=config_file is not None,
    )
