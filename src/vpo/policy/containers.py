"""The ``container`` operation: which codecs each target can hold, and what to do
when a track cannot go there."""

from __future__ import annotations

from dataclasses import replace

from vpo.media.model import Container, TrackType
from vpo.plan import PlannedTrack
from vpo.policy.schema import ContainerOperation
from vpo.policy.transcode import transcode_for_mp4
from vpo.policy.work import Work

# Stored in MP4 only after conversion to mov_text (done in the same remux pass).
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "text"})
STYLED_SUBTITLES = frozenset({"ass", "ssa"})
# No home in MP4 for old devices: needs an encode (audio) or cannot be kept (bitmaps).
# ffprobe names DTS-HD "dts" too, so every DTS counts.
MP4_INCOMPATIBLE = frozenset(
    {
        "truehd",
        "mlp",
        "dts",
        "hdmv_pgs_subtitle",
        "dvd_subtitle",
        "dvb_subtitle",
        "vorbis",
    }
)
_TARGETS = {"mkv": Container.MATROSKA, "mp4": Container.MP4}


def _mp4_incompatible(track: PlannedTrack) -> bool:
    return track.codec in MP4_INCOMPATIBLE or track.codec.startswith("pcm_")


def plan_container(work: Work, operation: ContainerOperation) -> str | None:
    """Set the target container on ``work``; returns a failure message for ``error``."""
    target = _TARGETS[operation.target]
    if work.container is target:
        return None
    if target is Container.MP4:
        blockers = [t for t in work.tracks if _mp4_incompatible(t)]
        if blockers:
            listed = ", ".join(
                f"track {t.source_index} ({t.type.value} {t.codec})" for t in blockers
            )
            if operation.on_incompatible_codec == "error":
                return (
                    f"cannot convert to MP4: {listed} cannot be stored in MP4 "
                    "(set on_incompatible_codec: skip, or remove those tracks first)"
                )
            if operation.on_incompatible_codec == "skip":
                work.warnings.append(f"container: not converted to MP4 because {listed}")
                return None
            transcode_for_mp4(work, blockers)  # on_incompatible_codec: transcode
        _convert_for_mp4(work)
    else:
        _convert_for_matroska(work)
    work.notes.append(f"container: {work.container.value} → {target.value}")
    work.container = target
    return None


def _convert_for_mp4(work: Work) -> None:
    for position, track in enumerate(work.tracks):
        if track.type is TrackType.SUBTITLE and track.codec in TEXT_SUBTITLES:
            if track.codec in STYLED_SUBTITLES:
                work.warnings.append(
                    f"container: track {track.source_index} ({track.codec}) becomes mov_text "
                    "in MP4 and loses its styling"
                )
            work.tracks[position] = replace(track, codec="mov_text")
    for attachment in work.media.attachments:
        if attachment.attachment_id not in work.removed_attachments:
            work.removed_attachments.append(attachment.attachment_id)
    if work.media.attachments:
        work.warnings.append(
            f"container: MP4 cannot hold attachments; {len(work.media.attachments)} removed"
        )


def _convert_for_matroska(work: Work) -> None:
    for position, track in enumerate(work.tracks):
        if track.type is TrackType.SUBTITLE and track.codec == "mov_text":
            work.tracks[position] = replace(track, codec="subrip")


def constrain_to_container(work: Work) -> None:
    """Plan only what the target container can store, so a second run sees what it planned.

    MP4 (as ffmpeg writes it) has no "original" flag, and a track type with no
    default track gets its first track marked default by the muxer. Planning
    anything else could never converge.
    """
    if work.container is not Container.MP4:
        return
    for position, track in enumerate(work.tracks):
        if track.flags.original:
            work.tracks[position] = replace(track, flags=replace(track.flags, original=False))
    for track_type in TrackType:
        of_type = [i for i, t in enumerate(work.tracks) if t.type is track_type]
        if of_type and not any(work.tracks[i].flags.default for i in of_type):
            first = work.tracks[of_type[0]]
            work.tracks[of_type[0]] = replace(first, flags=replace(first.flags, default=True))
            work.notes.append(
                f"MP4 marks the first {track_type.value} track default when none is; planned so"
            )
