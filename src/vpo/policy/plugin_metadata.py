"""What Sonarr/Radarr know, as policies use it (pure): ``plugin_metadata`` tests,
the value ``from_plugin_metadata`` takes, and the language ``original`` stands for.

Missing data (no entry for the plugin, an unknown field value, an empty tag list)
makes every test false, ``neq`` and ``exists`` included, as in the original VPO;
``not`` turns that into true. Nothing here raises on a file's metadata.
"""

from __future__ import annotations

from datetime import date

from vpo.media.metadata import FileMetadata
from vpo.policy.metadata_fields import LANGUAGE_FIELDS, metadata_language
from vpo.policy.schema import Phase, PolicyConfig
from vpo.policy.schema_conditional import PluginMetadataTest
from vpo.policy.types import ORIGINAL

Scalar = str | int | float | bool


def plugin_value(metadata: FileMetadata, plugin: str, field: str) -> object:
    """The value of ``plugin``'s ``field`` for this file, or None when unknown."""
    title = metadata.of(plugin)
    if title is None:
        return None
    value = title.field_value(field)
    if value is None or value == "" or value == ():
        return None
    if field in LANGUAGE_FIELDS:
        return metadata_language(value)
    return value


def plugin_holds(test: PluginMetadataTest, metadata: FileMetadata) -> bool:
    """Whether ``test`` holds for this file's metadata; false when the data is missing."""
    actual = plugin_value(metadata, test.plugin, test.field)
    if actual is None:
        return False
    if test.operator == "exists":
        return True
    expected = test.value
    wanted: tuple[Scalar, ...] = (
        expected if isinstance(expected, tuple) else () if expected is None else (expected,)
    )
    if isinstance(actual, tuple):  # tags, genres: is the item there?
        items = {_folded(item) for item in actual}
        found = any(_folded(value) in items for value in wanted)
        if test.operator in ("eq", "contains", "in"):
            return found
        return not found if test.operator == "neq" else False
    if test.operator in ("eq", "in"):
        return any(_equal(actual, value) for value in wanted)
    if test.operator == "neq":
        return not any(_equal(actual, value) for value in wanted)
    if test.operator == "contains":
        return any(_folded(value) in _folded(actual) for value in wanted)
    return bool(wanted) and _ordered(actual, wanted[0], test.operator)


def _folded(value: object) -> str:
    return str(value).casefold()


def _equal(actual: object, expected: Scalar) -> bool:
    if _is_number(actual) and _is_number(expected):
        return actual == expected
    return _folded(actual) == _folded(expected)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ordered(actual: object, bound: Scalar, operator: str) -> bool:
    """lt/lte/gt/gte on numbers, or on dates (a release date against ``"2020-01-01"``)."""
    if isinstance(actual, (int, float)) and _is_number(actual) and _is_number(bound):
        return _compare(float(actual), float(bound), operator)
    left, right = _date(actual), _date(bound)
    if left is None or right is None:
        return False
    return _compare(left.toordinal(), right.toordinal(), operator)


def _compare(left: float, right: float, operator: str) -> bool:
    if operator == "lt":
        return left < right
    if operator == "lte":
        return left <= right
    if operator == "gt":
        return left > right
    return operator == "gte" and left >= right


def release_day(value: object) -> date | None:
    """The day of an ISO 8601 date or date-time (``2001-07-20``, ``2001-07-20T00:00:00Z``)."""
    return _date(value)


def _date(value: object) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def resolve_original(
    phase: Phase, config: PolicyConfig, metadata: FileMetadata
) -> tuple[Phase, PolicyConfig, str | None]:
    """``phase`` and ``config`` with ``original`` in their language lists replaced by
    this title's original language, or left out when it is unknown (the rest of the
    list still applies); with a note for the plan when ``original`` was used."""
    lists = _original_lists(phase, config)
    if not lists:
        return phase, config, None
    code = next(
        (found for title in metadata if (found := metadata_language(title.original_language))),
        None,
    )

    def resolved(languages: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for language in languages:
            value = code if language == ORIGINAL else language
            if value is not None and value not in out:
                out.append(value)
        return tuple(out)

    config = config.model_copy(
        update={
            "audio_language_preference": resolved(config.audio_language_preference),
            "subtitle_language_preference": resolved(config.subtitle_language_preference),
        }
    )
    changes: dict[str, object] = {}
    if phase.audio_filter is not None:
        languages = resolved(phase.audio_filter.languages)
        changes["audio_filter"] = phase.audio_filter.model_copy(update={"languages": languages})
    if phase.subtitle_filter is not None and phase.subtitle_filter.languages is not None:
        languages = resolved(phase.subtitle_filter.languages)
        changes["subtitle_filter"] = phase.subtitle_filter.model_copy(
            update={"languages": languages}
        )
    phase = phase.model_copy(update=changes) if changes else phase
    where = ", ".join(lists)
    if code is None:
        note = f"original language unknown: 'original' in {where} matches nothing"
    else:
        note = f"original language is {code} ({where})"
    return phase, config, note


def _original_lists(phase: Phase, config: PolicyConfig) -> list[str]:
    """The names of the language lists that mention ``original``."""
    lists = [
        ("audio_language_preference", config.audio_language_preference),
        ("subtitle_language_preference", config.subtitle_language_preference),
        ("audio_filter", phase.audio_filter.languages if phase.audio_filter else ()),
        (
            "subtitle_filter",
            (phase.subtitle_filter.languages or ()) if phase.subtitle_filter else (),
        ),
    ]
    return [name for name, languages in lists if ORIGINAL in languages]
