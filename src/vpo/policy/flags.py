"""``default_flags``: which track of each type is the default.

Selection runs on the tracks in their *output* order, so the default follows
the reorder: among the best-ranked candidates, the first after ordering wins.
- preferred audio: non-commentary audio with the best audio_language_preference
  rank (unlisted languages rank last); if every audio track is commentary, the
  first audio track.
- preferred subtitle: a non-forced, non-commentary subtitle whose language is in
  subtitle_language_preference, best rank first, full before hearing-impaired;
  none if no language is listed.
- audio differs: the default audio's language is known (not ``und``) and is not
  the first language of audio_language_preference (a foreign-language film).
"""

from __future__ import annotations

from dataclasses import replace

from vpo.media.language import UNDETERMINED
from vpo.media.model import TrackType
from vpo.plan import PlannedTrack
from vpo.policy.classify import is_commentary, is_forced_subtitle, language_rank
from vpo.policy.schema import DefaultFlags, PolicyConfig
from vpo.policy.transcode import canonical_codec
from vpo.policy.work import Work


def preferred_audio(
    tracks: list[PlannedTrack], config: PolicyConfig, codecs: tuple[str, ...] = ()
) -> PlannedTrack | None:
    """Best language rank; among equals, the first codec of ``codecs``
    (``preferred_audio_codec``); then output order."""
    audio = [t for t in tracks if t.type is TrackType.AUDIO]
    spoken = [t for t in audio if not is_commentary(t, config)] or audio
    if not spoken:
        return None
    wanted = [canonical_codec(c) for c in codecs]

    def codec_rank(track: PlannedTrack) -> int:
        codec = canonical_codec(track.codec)
        return wanted.index(codec) if codec in wanted else len(wanted)

    return min(
        spoken,
        key=lambda t: (language_rank(t.language, config.audio_language_preference), codec_rank(t)),
    )  # min() keeps the first of equal ranks: output order breaks ties


def preferred_subtitle(tracks: list[PlannedTrack], config: PolicyConfig) -> PlannedTrack | None:
    preference = config.subtitle_language_preference
    candidates = [
        t
        for t in tracks
        if t.type is TrackType.SUBTITLE
        and t.language in preference
        and not is_forced_subtitle(t)
        and not is_commentary(t, config)
    ]
    if not candidates:
        return None
    # Full subtitles before SDH of the same language; output order breaks ties.
    return min(
        candidates,
        key=lambda t: (language_rank(t.language, preference), t.flags.hearing_impaired),
    )


def apply_default_flags(work: Work, rule: DefaultFlags, config: PolicyConfig) -> None:
    chosen: dict[TrackType, PlannedTrack | None] = {}
    if rule.set_first_video_default:
        video = [t for t in work.tracks if t.type is TrackType.VIDEO]
        if video:
            chosen[TrackType.VIDEO] = video[0]
    if rule.set_preferred_audio_default:
        audio = preferred_audio(work.tracks, config, rule.preferred_audio_codec or ())
        if audio is not None:
            chosen[TrackType.AUDIO] = audio
    if rule.set_preferred_subtitle_default:
        subtitle = preferred_subtitle(work.tracks, config)
        if subtitle is not None:
            chosen[TrackType.SUBTITLE] = subtitle
    if rule.set_subtitle_default_when_audio_differs:
        _subtitle_when_audio_differs(work, chosen, rule, config)
    if rule.set_subtitle_forced_when_audio_differs:
        _force_subtitle_when_audio_differs(work, chosen, config)

    for track_type, track in chosen.items():
        _set_default(work, track_type, track, exclusive=rule.clear_other_defaults)
    if rule.clear_other_defaults:
        for track_type in TrackType:
            if track_type not in chosen:
                current = [t for t in work.tracks if t.type is track_type and t.flags.default]
                _set_default(work, track_type, current[0] if current else None, exclusive=True)


def _subtitle_when_audio_differs(
    work: Work,
    chosen: dict[TrackType, PlannedTrack | None],
    rule: DefaultFlags,
    config: PolicyConfig,
) -> None:
    audio = chosen.get(TrackType.AUDIO)
    if audio is None:
        defaults = [t for t in work.tracks if t.type is TrackType.AUDIO and t.flags.default]
        audio = defaults[0] if defaults else None
    if audio is None:
        return
    first_choice = config.audio_language_preference[0]
    if audio.language == UNDETERMINED:
        return  # unknown language: no reason to think the viewer needs subtitles
    if audio.language != first_choice:
        subtitle = preferred_subtitle(work.tracks, config)
        if subtitle is not None:
            chosen[TrackType.SUBTITLE] = subtitle
            work.notes.append(
                f"default_flags: audio is {audio.language}, not {first_choice}; "
                f"subtitle {subtitle.language} turned on"
            )
    elif not rule.set_preferred_subtitle_default:
        chosen[TrackType.SUBTITLE] = None  # audio is in the first language: no subtitle


def _audio_language_differs(
    work: Work, chosen: dict[TrackType, PlannedTrack | None], config: PolicyConfig
) -> str | None:
    """The default audio's language when it is known and not the first preference."""
    audio = chosen.get(TrackType.AUDIO)
    if audio is None:
        defaults = [t for t in work.tracks if t.type is TrackType.AUDIO and t.flags.default]
        audio = defaults[0] if defaults else None
    if audio is None or audio.language == UNDETERMINED:
        return None
    return audio.language if audio.language != config.audio_language_preference[0] else None


def _force_subtitle_when_audio_differs(
    work: Work, chosen: dict[TrackType, PlannedTrack | None], config: PolicyConfig
) -> None:
    """Foreign-language audio: the preferred subtitle becomes forced, unless a
    subtitle in a preferred language already is (so a second run changes nothing)."""
    language = _audio_language_differs(work, chosen, config)
    if language is None:
        return
    preference = config.subtitle_language_preference
    already = [
        t
        for t in work.tracks
        if t.type is TrackType.SUBTITLE and t.flags.forced and t.language in preference
    ]
    subtitle = preferred_subtitle(work.tracks, config)
    if already or subtitle is None:
        return
    position = work.tracks.index(subtitle)
    forced = replace(subtitle, flags=replace(subtitle.flags, forced=True))
    work.tracks[position] = forced
    if chosen.get(TrackType.SUBTITLE) is subtitle:
        chosen[TrackType.SUBTITLE] = forced
    work.notes.append(
        f"default_flags: audio is {language}, not {config.audio_language_preference[0]}; "
        f"subtitle {subtitle.language} forced"
    )


def _set_default(
    work: Work, track_type: TrackType, target: PlannedTrack | None, *, exclusive: bool
) -> None:
    """Give ``target`` the default flag; with ``exclusive``, take it from the others."""
    for position, track in enumerate(work.tracks):
        if track.type is not track_type:
            continue
        if track is target:
            default = True
        elif exclusive or target is None:
            default = False
        else:
            continue
        if track.flags.default != default:
            work.tracks[position] = replace(track, flags=replace(track.flags, default=default))
