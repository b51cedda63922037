"""The environment layer: ``VPO_<SECTION>_<KEY>`` variables parsed to each key's type.

Pure: takes the environment as a mapping, so tests pass a dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vpo.config.keys import ALL_KEYS, ENV_PREFIX, ConfigKey, ValueKind, section_keys, suggest
from vpo.config.models import SECTIONS
from vpo.config.settings import Setting, render_value
from vpo.errors import ConfigError

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_BY_ENV_VAR = {key.env_var: key for key in ALL_KEYS}


def env_layer(env: Mapping[str, str]) -> dict[str, Setting]:
    """Dotted key → Setting for every ``VPO_<SECTION>_<KEY>`` variable set.

    A variable naming a known section but an unknown key is an error (a typo
    would otherwise be ignored silently); other ``VPO_*`` variables such as
    ``VPO_CONFIG`` and ``VPO_DEBUG`` are not configuration keys and are skipped.
    """
    layer: dict[str, Setting] = {}
    for variable in sorted(env):
        key = _BY_ENV_VAR.get(variable)
        if key is None:
            _reject_unknown_in_section(variable)
            continue
        value = parse_env_value(key, env[variable])
        layer[key.dotted] = Setting(value, f"env {variable}", f"environment variable {variable}")
    return layer


def _reject_unknown_in_section(variable: str) -> None:
    for section in SECTIONS:
        prefix = f"{ENV_PREFIX}{section.upper().replace('.', '_')}_"
        if variable.startswith(prefix):
            known = [key.env_var for key in section_keys(section)]
            hint = suggest(variable, known)
            did_you_mean = f" (did you mean {hint}?)" if hint else ""
            raise ConfigError(
                f"environment variable {variable}: unknown key in [{section}]{did_you_mean}"
            )


def parse_env_value(key: ConfigKey, raw: str) -> object:
    """Convert one variable's text to the key's type, or ConfigError naming the variable."""
    text = raw.strip()
    try:
        return _PARSERS[key.kind](text)
    except ValueError:
        raise ConfigError(
            f"environment variable {key.env_var}: {key.dotted} must be {key.kind.expected}, "
            f"got {render_value(raw)}"
        ) from None


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(text)


def _parse_int_or_auto(text: str) -> int | str:
    return "auto" if text.lower() == "auto" else int(text)


def _parse_path(text: str) -> str:
    if not text:
        raise ValueError(text)
    return text


def _parse_optional_path(text: str) -> str | None:
    """Empty means unset: ``VPO_TOOLS_FFMPEG=`` goes back to searching PATH."""
    return text or None


def _parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


_PARSERS: dict[ValueKind, Callable[[str], object]] = {
    ValueKind.BOOL: _parse_bool,
    ValueKind.INT: int,
    ValueKind.FLOAT: float,
    ValueKind.PATH: _parse_path,
    ValueKind.OPTIONAL_PATH: _parse_optional_path,
    ValueKind.STR_LIST: _parse_list,
    ValueKind.INT_OR_AUTO: _parse_int_or_auto,
    ValueKind.WORD: str.strip,
    ValueKind.STR: _parse_path,  # any non-empty text
    ValueKind.OPTIONAL_STR: _parse_optional_path,  # empty: not set
}
