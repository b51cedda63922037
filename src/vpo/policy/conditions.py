"""Track filters and conditions of ``conditional`` rules, as pure predicates."""

from __future__ import annotations

from collections.abc import Sequence

from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile, TrackType
from vpo.plan import PlannedTrack
from vpo.policy import patterns
from vpo.policy.classify import is_commentary
from vpo.policy.plugin_metadata import plugin_holds
from vpo.policy.schema import PolicyConfig
from vpo.policy.schema_conditional import Condition, MetadataTest, TitleMatch, TrackFilter


def track_matches(
    track: PlannedTrack,
    wanted: TrackFilter,
    config: PolicyConfig,
    dimensions: tuple[int | None, int | None, int | None] = (None, None, None),
) -> bool:
    """Whether ``track`` passes every test ``wanted`` gives.

    ``dimensions`` are the source track's (channels, width, height), which a
    PlannedTrack does not carry.
    """
    channels, width, height = dimensions
    tests = (
        track.type is TrackType(wanted.track_type),
        wanted.language is None or track.language in wanted.language,
        wanted.codec is None or track.codec in wanted.codec,
        wanted.is_default is None or track.flags.default == wanted.is_default,
        wanted.is_forced is None or track.flags.forced == wanted.is_forced,
        wanted.channels is None or wanted.channels.holds(channels),
        wanted.width is None or wanted.width.holds(width),
        wanted.height is None or wanted.height.holds(height),
        wanted.title is None or _title_matches(track.title, wanted.title),
        wanted.not_commentary is None
        or (not is_commentary(track, config)) == wanted.not_commentary,
    )
    return all(tests)


def _title_matches(title: str | None, test: TitleMatch) -> bool:
    text = title or ""
    if test.contains is not None:
        return test.contains.casefold() in text.casefold()
    return test.regex is not None and patterns.search(test.regex, text)


Dimensions = Sequence[tuple[int | None, int | None, int | None]]


def condition_holds(
    condition: Condition,
    tracks: Sequence[PlannedTrack],
    dimensions: Dimensions,
    config: PolicyConfig,
    media: MediaFile | None = None,
    metadata: FileMetadata = NO_METADATA,
) -> bool:
    """Evaluate a condition over a track list (``dimensions`` parallel to ``tracks``).

    ``plugin_metadata`` tests what Sonarr/Radarr know (``metadata``; missing data:
    false). ``container_metadata`` reads the file's container tags (``MediaFile.tags``,
    the title as the ``title`` tag). Audio-analysis tests are false here; evaluate()
    skips rules that use them.
    """
    if condition.plugin_metadata is not None:
        return plugin_holds(condition.plugin_metadata, metadata)
    if condition.container_metadata is not None:
        return media is not None and metadata_holds(
            condition.container_metadata, container_tag_view(media)
        )
    if condition.exists is not None:
        wanted = condition.exists
        return any(
            track_matches(t, wanted, config, d) for t, d in zip(tracks, dimensions, strict=True)
        )
    if condition.count is not None:
        counted = condition.count
        number = sum(
            track_matches(t, counted, config, d) for t, d in zip(tracks, dimensions, strict=True)
        )
        return counted.comparison().holds(number)
    if condition.all_of is not None:
        return all(
            condition_holds(c, tracks, dimensions, config, media, metadata)
            for c in condition.all_of
        )
    if condition.any_of is not None:
        return any(
            condition_holds(c, tracks, dimensions, config, media, metadata)
            for c in condition.any_of
        )
    if condition.negated is not None:
        return not condition_holds(condition.negated, tracks, dimensions, config, media, metadata)
    return False  # an audio-analysis test: never known here


def container_tag_view(media: MediaFile) -> dict[str, str | None]:
    """The tags a ``container_metadata`` test reads: the probed global tags, with
    ``title`` as the file (or an earlier phase's plan) has it."""
    tags: dict[str, str | None] = dict(media.tags)
    tags["title"] = media.title
    return tags


def metadata_holds(test: MetadataTest, tags: dict[str, str | None]) -> bool:
    """A tag test; an absent tag only passes ``neq`` (and never ``exists``)."""
    present = tags.get(test.field)
    if test.operator == "exists":
        return present is not None
    if present is None:
        return test.operator == "neq"
    wanted = test.value
    if test.operator in ("lt", "lte", "gt", "gte"):
        try:
            number = float(present)
        except ValueError:
            return False
        bound = float(wanted) if isinstance(wanted, (int, float)) else None
        if bound is None:
            return False
        return {
            "lt": number < bound,
            "lte": number <= bound,
            "gt": number > bound,
            "gte": number >= bound,
        }[test.operator]
    text, expected = present.casefold(), str(wanted).casefold()
    if test.operator == "contains":
        return expected in text
    return (text == expected) == (test.operator == "eq")
