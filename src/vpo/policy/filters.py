"""``audio_filter``, ``subtitle_filter`` and ``attachment_filter``.

The last audio track is never dropped unless the policy says so with
``minimum: 0``: when fewer than ``minimum`` tracks match, the fallback decides
which others stay (see docs/policy.md).
"""

from __future__ import annotations

from vpo.media.model import TrackType
from vpo.plan import PlannedTrack
from vpo.policy.classify import is_commentary, is_forced_subtitle
from vpo.policy.containers import STYLED_SUBTITLES
from vpo.policy.schema import AttachmentFilter, AudioFilter, PolicyConfig, SubtitleFilter
from vpo.policy.work import Work


def filter_audio(work: Work, rule: AudioFilter, config: PolicyConfig) -> str | None:
    """Remove audio tracks not in ``rule.languages``; returns a failure for mode ``error``.

    ``minimum`` counts non-commentary tracks (a lone commentary is no film
    soundtrack); only a file whose audio is all commentary counts commentaries.
    """
    audio = [t for t in work.tracks if t.type is TrackType.AUDIO]
    if not audio:
        return None
    counted = [t for t in audio if not is_commentary(t, config)] or audio
    kept = [t for t in audio if t.language in rule.languages]
    needed = min(rule.minimum, len(counted))
    if _count_in(kept, counted) < needed:
        mode = rule.fallback.mode
        if mode == "error":
            wanted = ", ".join(rule.languages)
            return (
                f"audio_filter: only {_count_in(kept, counted)} audio track(s) in {wanted} "
                f"(commentaries not counted), minimum is {rule.minimum} (fallback mode: error)"
            )
        if mode == "keep_all":
            kept = list(audio)
        else:
            if mode == "content_language":
                content = _content_language(audio, rule, config)
                # Commentaries are not rescued: keeping them would make the
                # choice depend on track order, and a second run differ.
                kept = [t for t in audio if t in kept or (t in counted and t.language == content)]
            for track in counted:  # top up in file order (keep_first, or not enough yet)
                if _count_in(kept, counted) >= needed:
                    break
                if track not in kept:
                    kept.append(track)
        work.notes.append(f"audio_filter: too few tracks match; fallback {mode} keeps {len(kept)}")
    wanted = ", ".join(rule.languages)
    for track in audio:
        if track not in kept:
            work.remove(track, f"audio language {track.language} not in [{wanted}]")
    return None


def _count_in(tracks: list[PlannedTrack], counted: list[PlannedTrack]) -> int:
    return sum(1 for t in tracks if t in counted)


def _content_language(audio: list[PlannedTrack], rule: AudioFilter, config: PolicyConfig) -> str:
    """The film's own language among the tracks the filter would drop.

    The ``original`` flag wins; otherwise the first non-commentary track.
    Only non-matching tracks count, so the answer is the same on a second run.
    """
    others = [t for t in audio if t.language not in rule.languages]
    spoken = [t for t in others if not is_commentary(t, config)] or others
    original = [t for t in spoken if t.flags.original]
    return (original or spoken)[0].language


def filter_subtitles(work: Work, rule: SubtitleFilter, config: PolicyConfig) -> None:
    subtitles = [t for t in work.tracks if t.type is TrackType.SUBTITLE]
    for track in subtitles:
        if rule.preserve_forced and is_forced_subtitle(track):
            continue
        if rule.remove_all:
            work.remove(track, "subtitle_filter: remove_all")
        elif rule.languages is not None and track.language not in rule.languages:
            wanted = ", ".join(rule.languages)
            work.remove(track, f"subtitle language {track.language} not in [{wanted}]")


def filter_attachments(work: Work, rule: AttachmentFilter) -> None:
    if not rule.remove_all:
        return
    for attachment in work.media.attachments:
        if attachment.attachment_id not in work.removed_attachments:
            work.removed_attachments.append(attachment.attachment_id)
    styled = [t for t in work.tracks if t.codec in STYLED_SUBTITLES]
    if work.media.attachments and styled:
        work.warnings.append(
            "attachment_filter: removing attachments while "
            f"{len(styled)} styled (ASS/SSA) subtitle track(s) stay; they may need the fonts"
        )
