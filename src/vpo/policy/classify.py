"""Track classification for ``track_order`` and default selection.

Definitions (also in docs/policy.md):
- commentary: the commentary flag is set, or the title matches one of
  ``config.commentary_patterns`` (case-insensitive regexes, run by RE2:
  see policy/patterns.py).
- forced subtitle: the forced flag is set, or the title contains the word "forced".
- main audio language: the first language of ``audio_language_preference`` that
  some non-commentary audio track has. When none has a preferred language, every
  non-commentary audio track is main (there is nothing to prefer).
- rank of a language: its position in the relevant preference list; languages not
  listed rank after all listed ones.
Classification reads only a track's type, language, title and commentary/forced
flags, which ordering and default selection never change, so it is stable across
runs (a requirement for convergence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vpo.media.model import TrackType
from vpo.plan import PlannedTrack
from vpo.policy import patterns
from vpo.policy.schema import PolicyConfig, TrackCategory

_FORCED_TITLE = re.compile(r"\bforced\b", re.IGNORECASE)


def is_commentary(track: PlannedTrack, config: PolicyConfig) -> bool:
    if track.flags.commentary:
        return True
    title = track.title or ""
    return patterns.search_any(config.commentary_patterns, title)


def is_forced_subtitle(track: PlannedTrack) -> bool:
    return track.type is TrackType.SUBTITLE and (
        track.flags.forced or bool(_FORCED_TITLE.search(track.title or ""))
    )


def language_rank(language: str, preference: Sequence[str]) -> int:
    """Position in the preference list; unlisted languages rank last."""
    try:
        return list(preference).index(language)
    except ValueError:
        return len(preference)


def main_audio_language(tracks: Sequence[PlannedTrack], config: PolicyConfig) -> str | None:
    """Most preferred language among non-commentary audio; None if none is preferred."""
    present = {
        t.language for t in tracks if t.type is TrackType.AUDIO and not is_commentary(t, config)
    }
    for language in config.audio_language_preference:
        if language in present:
            return language
    return None


def classify(track: PlannedTrack, config: PolicyConfig, main_language: str | None) -> TrackCategory:
    """The track_order category of one track (see the module docstring)."""
    if track.type is TrackType.VIDEO:
        return TrackCategory.VIDEO
    if track.type is TrackType.AUDIO:
        if is_commentary(track, config):
            return TrackCategory.AUDIO_COMMENTARY
        if main_language is None or track.language == main_language:
            return TrackCategory.AUDIO_MAIN
        return TrackCategory.AUDIO_ALTERNATE
    if is_commentary(track, config):
        return TrackCategory.SUBTITLE_COMMENTARY
    if is_forced_subtitle(track):
        return TrackCategory.SUBTITLE_FORCED
    return TrackCategory.SUBTITLE_MAIN


def preference_for(track_type: TrackType, config: PolicyConfig) -> tuple[str, ...]:
    if track_type is TrackType.SUBTITLE:
        return config.subtitle_language_preference
    return config.audio_language_preference
