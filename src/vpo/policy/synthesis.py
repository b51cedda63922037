"""The ``audio_synthesis`` operation: new audio tracks made from an existing one (pure).

A typical use adds an AAC stereo track next to a 5.1 or 7.1 track for devices
that cannot decode or downmix surround. The source is chosen by the ordered
``source.prefer`` criteria: each narrows the candidates, and a criterion that no
candidate meets is passed over (a preference, not a requirement).

A track is not synthesised when a matching track already exists: ``skip_if_exists``
when given, else a non-commentary track with the same codec, channel count and
language. That is
what makes the second run a no-op: the track made on the first run matches.
"""

from __future__ import annotations

from vpo.media.model import TrackFlags, TrackType
from vpo.plan import AudioEncode, EncodeSettings, PlannedTrack
from vpo.policy.classify import is_commentary
from vpo.policy.conditions import condition_holds
from vpo.policy.schema import PolicyConfig
from vpo.policy.schema_conditional import Comparison
from vpo.policy.schema_transcode import (
    AudioSynthesisOperation,
    SourcePreference,
    SynthesisSkipIf,
    SynthesisTrack,
)
from vpo.policy.transcode import canonical_codec, not_storable_warning, storable
from vpo.policy.work import Work


def planned_channels(work: Work, track: PlannedTrack) -> int | None:
    """Channels the output track will have (encode settings first, then the source)."""
    if track.encode is not None and track.encode.audio is not None:
        if track.encode.audio.channels is not None:
            return track.encode.audio.channels
        if track.encode.derived_from is not None:
            return work.media.tracks[track.encode.derived_from].channels
    channels, _, _ = work.dimensions(track)
    return channels


def plan_synthesis(
    work: Work, operation: AudioSynthesisOperation, config: PolicyConfig
) -> list[PlannedTrack]:
    """Add each configured track to ``work`` unless a matching track exists.

    Returns the existing tracks that stood in for a configured one: transcode must
    leave them as they are, or the next run would find no match and synthesise.
    """
    standing_in: list[PlannedTrack] = []
    for wanted in operation.tracks:
        match = _synthesise(work, wanted, config)
        if match is not None:
            standing_in.append(match)
    return standing_in


def _synthesise(work: Work, wanted: SynthesisTrack, config: PolicyConfig) -> PlannedTrack | None:
    label = f"audio_synthesis: '{wanted.name}'"
    if not storable(wanted.codec, work.container):
        work.warnings.append(not_storable_warning(label, wanted.codec, work.container))
        return None
    if wanted.create_if is not None:
        dimensions = [work.dimensions(t) for t in work.tracks]
        if not condition_holds(wanted.create_if, work.tracks, dimensions, config, work.media):
            work.notes.append(f"{label}: create_if does not hold; not added")
            return None
    source = choose_source(work, wanted.source.prefer, config)
    if source is None:
        work.warnings.append(f"{label}: no audio track to make it from; not added")
        return None
    language = source.language if wanted.language == "inherit" else wanted.language
    existing = _existing_match(work, wanted, language, config)
    if existing is not None:
        work.notes.append(f"{label}: track {existing} already matches; not added")
        return work.tracks[existing]
    source_channels = planned_channels(work, source)
    if source_channels is not None and source_channels < wanted.channels:
        work.warnings.append(
            f"{label}: source track {source.source_index} has {source_channels} channel(s), "
            f"fewer than {wanted.channels}; not upmixed, not added"
        )
        return None
    assert source.source_index is not None
    new = PlannedTrack(
        source_index=None,
        type=TrackType.AUDIO,
        codec=wanted.codec,
        language=language,
        title=wanted.title,
        flags=TrackFlags(),
        encode=EncodeSettings(
            wanted.codec,
            audio=AudioEncode(bitrate=wanted.bitrate, channels=wanted.channels),
            derived_from=source.source_index,
        ),
    )
    position = insert_position(work.tracks, source, wanted.position)
    work.tracks.insert(position, new)
    work.notes.append(
        f"{label}: {wanted.codec} {wanted.channels} ch from track {source.source_index}, "
        f"at position {position}"
    )
    return None


def insert_position(tracks: list[PlannedTrack], source: PlannedTrack, position: str | int) -> int:
    """Where the new track goes: after its source, at the end, or at an index
    (clamped to the end)."""
    if position == "after_source":
        return tracks.index(source) + 1
    if position == "end":
        return len(tracks)
    assert isinstance(position, int)
    return min(position, len(tracks))


def choose_source(
    work: Work, prefer: tuple[SourcePreference, ...], config: PolicyConfig
) -> PlannedTrack | None:
    """The track to synthesise from: the first candidate left after the criteria."""
    candidates = [
        t for t in work.tracks if t.type is TrackType.AUDIO and t.source_index is not None
    ]
    for preference in prefer:
        narrowed = _narrow(work, candidates, preference, config)
        if narrowed:
            candidates = narrowed
    return candidates[0] if candidates else None


def _narrow(
    work: Work, candidates: list[PlannedTrack], preference: SourcePreference, config: PolicyConfig
) -> list[PlannedTrack]:
    kept = candidates
    if preference.language is not None:
        kept = [t for t in kept if t.language in preference.language]
    if preference.not_commentary:
        kept = [t for t in kept if not is_commentary(t, config)]
    if preference.codec is not None:
        codecs = {canonical_codec(c) for c in preference.codec}
        kept = [t for t in kept if canonical_codec(t.codec) in codecs]
    if preference.channels is not None:
        counts = {id(t): planned_channels(work, t) or 0 for t in kept}
        if preference.channels == "max":
            best = max(counts.values(), default=0)
        elif preference.channels == "min":
            best = min(counts.values(), default=0)
        else:
            best = int(preference.channels)
        kept = [t for t in kept if counts[id(t)] == best]
    return kept


def _existing_match(
    work: Work, wanted: SynthesisTrack, language: str, config: PolicyConfig
) -> int | None:
    """Position of an audio track that makes the synthesis unnecessary."""
    rule = wanted.skip_if_exists or SynthesisSkipIf(
        codec=(wanted.codec,),
        channels=Comparison(eq=wanted.channels),
        language=(language,),
        not_commentary=True,
    )
    for position, track in enumerate(work.tracks):
        if track.type is TrackType.AUDIO and _matches(work, track, rule, config):
            return position
    return None


def _matches(work: Work, track: PlannedTrack, rule: SynthesisSkipIf, config: PolicyConfig) -> bool:
    codecs = {canonical_codec(c) for c in rule.codec or ()}
    if rule.codec is not None and canonical_codec(track.codec) not in codecs:
        return False
    if rule.channels is not None and not rule.channels.holds(planned_channels(work, track)):
        return False
    if rule.language is not None and track.language not in rule.language:
        return False
    return not (rule.not_commentary and is_commentary(track, config))
