"""Configuration: models, TOML file, environment, precedence.

Commands get their settings through ``vpo.cli.common.load_config_or_exit``;
library code receives the frozen ``VPOConfig`` (or one section) as an argument.
"""

from vpo.config.loader import (
    CONFIG_ENV_VAR,
    ConfigLocation,
    LoadedConfig,
    config_location,
    load_config,
)
from vpo.config.models import (
    DiscoveryConfig,
    JobsConfig,
    LibraryConfig,
    ProcessingConfig,
    ToolsConfig,
    VPOConfig,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "ConfigLocation",
    "DiscoveryConfig",
    "JobsConfig",
    "LibraryConfig",
    "LoadedConfig",
    "ProcessingConfig",
    "ToolsConfig",
    "VPOConfig",
    "config_location",
    "load_config",
]
