"""Trust boundaries of the API: bind address, paths inside the library roots, policy names.

Pure apart from resolving paths on disk (symlinks and ``..`` are resolved before
the check, so neither can lead outside a root).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence
from pathlib import Path

from vpo.errors import ConfigError

_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class RefusedError(Exception):
    """A client named something outside what it may touch (HTTP 403)."""


class InvalidNameError(Exception):
    """A client sent a malformed name (HTTP 422)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(bind: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without an access token."""
    if not is_loopback(bind) and not token:
        raise ConfigError(
            f"refusing to listen on {bind} without an access token: set [server] token "
            "(or VPO_SERVER_TOKEN), or bind to 127.0.0.1"
        )


def resolved_roots(roots: Sequence[Path]) -> tuple[Path, ...]:
    return tuple(Path(os.path.realpath(root)) for root in roots)


def confine(raw: str, roots: Sequence[Path]) -> Path:
    """The real path of ``raw`` when it lies inside one of ``roots`` (already resolved)."""
    if "\x00" in raw:
        raise InvalidNameError("a path contains a NUL character")
    if not raw or not Path(raw).is_absolute():
        raise RefusedError(f"{raw!r}: not an absolute path")
    real = Path(os.path.realpath(raw))
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise RefusedError(f"{raw!r}: outside the library roots")
    return real


def policy_file(policy_dir: Path, name: str) -> Path:
    """``policy_dir/<name>.yaml``; a name cannot leave the directory (no /, no .., no link)."""
    if not _POLICY_NAME.match(name) or ".." in name:
        raise InvalidNameError(
            f"{name!r}: a policy name is letters, digits, '.', '_' and '-' (no path)"
        )
    candidate = policy_dir / f"{name}.yaml"
    directory = Path(os.path.realpath(policy_dir))
    if candidate.exists() and Path(os.path.realpath(candidate)).parent != directory:
        raise RefusedError(f"{name!r}: the policy file leads outside the policy directory")
    return candidate
