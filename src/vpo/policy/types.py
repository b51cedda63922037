"""Reusable annotated field types of the policy schema.

Scalars that users may write as a single value or a list are normalised to
tuples *before* validation, so the models never need unions (which would make
pydantic's error paths unreadable).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from vpo.media.language import normalize_language
from vpo.policy import units
from vpo.policy.patterns import check_pattern


class PolicyModel(BaseModel):
    """Base of every policy model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def as_tuple(value: Any) -> Any:
    """Accept ``x`` where a list ``[x]`` is meant."""
    if value is None or isinstance(value, (list, tuple)):
        return value
    return (value,)


def _language(value: str) -> str:
    # UnknownLanguageError is a ValueError, so pydantic reports it with the suggestion.
    return normalize_language(str(value))


def _lower(value: str) -> str:
    return value.strip().lower()


def _regex(value: str) -> str:
    check_pattern(value)  # ValueError naming what RE2 cannot run
    return value


def _coerce_str(value: Any) -> Any:
    """YAML turns ``no``-like or numeric codes into other types; languages are text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


LanguageCode = Annotated[str, BeforeValidator(_coerce_str), AfterValidator(_language)]
LanguageList = Annotated[tuple[LanguageCode, ...], BeforeValidator(as_tuple)]

ORIGINAL = "original"  # in a language list: the title's original language (Sonarr/Radarr)


def _language_or_original(value: str) -> str:
    if str(value).strip().lower() == ORIGINAL:
        return ORIGINAL
    return normalize_language(str(value))


LanguageOrOriginal = Annotated[
    str, BeforeValidator(_coerce_str), AfterValidator(_language_or_original)
]
LanguageListWithOriginal = Annotated[tuple[LanguageOrOriginal, ...], BeforeValidator(as_tuple)]
CodecName = Annotated[str, AfterValidator(_lower)]
CodecList = Annotated[tuple[CodecName, ...], BeforeValidator(as_tuple)]
Regex = Annotated[str, AfterValidator(_regex)]
ByteSize = Annotated[int, BeforeValidator(units.parse_size)]
Seconds = Annotated[float, BeforeValidator(units.parse_duration)]
Height = Annotated[int, BeforeValidator(units.parse_resolution)]
Bitrate = Annotated[int, BeforeValidator(units.parse_bitrate)]
