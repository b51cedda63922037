"""Helpers every command uses to get its settings and tools.

Kept small on purpose: commands import it on every run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click

from vpo.errors import ConfigError, ExitCode
from vpo.tools.locate import ToolPaths, locate_tools

if TYPE_CHECKING:  # imported when a command loads its settings: `--help` needs neither
    from vpo.config import LoadedConfig, VPOConfig


def load_config_or_exit(
    cli_overrides: Mapping[str, object] | None = None,
    *,
    cli_flags: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """The effective configuration, or one line on stderr and exit code 2.

    ``cli_overrides`` maps dotted keys to option values (``None`` = option not
    given), e.g. ``{"processing.workers": workers, "library.database": db}``;
    ``cli_flags`` names options that are not ``--<key-name>``, e.g.
    ``{"library.database": "--db"}``, so ``vpo config show`` reports them right.
    """
    from vpo.config import load_config  # pydantic: only once a command runs

    try:
        return load_config(cli_overrides, cli_flags=cli_flags)
    except ConfigError as error:
        click.echo(f"vpo: {error}", err=True)
        sys.exit(ExitCode.USAGE)


def tool_paths(config: VPOConfig) -> ToolPaths:
    """Resolve the external tools: configured paths first, else PATH."""
    return locate_tools(config.tools.configured_paths())


def require_tools(tools: ToolPaths, names: Sequence[str]) -> None:
    """Stop before any file is touched when a tool is missing: ToolNotFoundError,
    which the CLI group turns into one line and exit code 3."""
    for name in names:
        tools.require(name)
