"""Containers in planning: the ``container`` operation, and keeping every plan
within what its container can store (vpo.media.containers has the table)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from vpo.media.containers import (
    FLAG_NAMES,
    UNKNOWN,
    capabilities,
    stored_flags,
    stored_language,
    stored_title,
)
from vpo.media.model import Container, Track, TrackType
from vpo.plan import (
    AudioEncode,
    EncodeSettings,
    PlannedTrack,
    Unchanged,
    VideoEncode,
    identity_plan,
)
from vpo.policy.schema import CodecMapping, ContainerOperation
from vpo.policy.transcode import MAX_CHANNELS, transcode_for_mp4
from vpo.policy.work import Work

# Stored in MP4 only after conversion to mov_text (done in the same remux pass).
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "text"})
STYLED_SUBTITLES = frozenset({"ass", "ssa"})
_TARGETS = {"mkv": Container.MATROSKA, "mp4": Container.MP4}


def cannot_hold(container: Container, track: PlannedTrack) -> bool:
    """True when ``track`` cannot go into ``container`` as it is (nor be converted on
    the way, as text subtitles are for MP4)."""
    if capabilities(container).holds(track.type, track.codec):
        return False
    text_to_mov = container is Container.MP4 and track.codec in TEXT_SUBTITLES
    return not (track.type is TrackType.SUBTITLE and text_to_mov)


def plan_container(work: Work, operation: ContainerOperation) -> str | None:
    """Set the target container on ``work``; returns a failure message for ``error``.

    Tracks the target cannot hold follow ``on_incompatible_codec``: ``error``
    fails the file, ``skip`` leaves it in its container, ``transcode`` encodes
    them into codecs it holds (bitmap subtitles, which cannot be, are dropped).
    """
    target = _TARGETS[operation.target]
    if work.container is target:
        return None
    blockers = [t for t in work.tracks if cannot_hold(target, t)]
    if operation.codec_mappings and operation.on_incompatible_codec == "transcode":
        failure = _apply_mappings(work, target, operation.codec_mappings)
        if failure is not None:
            return failure
        blockers = [t for t in work.tracks if cannot_hold(target, t) and t.encode is None]
    if blockers:
        listed = ", ".join(f"track {t.source_index} ({t.type.value} {t.codec})" for t in blockers)
        name = capabilities(target).name
        if operation.on_incompatible_codec == "error":
            return (
                f"cannot convert to {name}: {listed} cannot be stored in {name} "
                "(set on_incompatible_codec: skip, or remove those tracks first)"
            )
        if operation.on_incompatible_codec == "skip":
            work.warnings.append(f"container: not converted to {name} because {listed}")
            return None
        transcode_for_mp4(work, blockers)  # on_incompatible_codec: transcode
    if target is Container.MP4:
        _convert_for_mp4(work)
    else:
        _convert_for_matroska(work)
    work.notes.append(f"container: {work.container.value} → {target.value}")
    work.container = target
    if not operation.preserve_metadata:
        _drop_source_tags(work)
    return None


def _apply_mappings(
    work: Work, target: Container, mappings: Mapping[str, CodecMapping]
) -> str | None:
    """``codec_mappings``: each track whose codec ``target`` cannot take as it is and
    that has an entry is transcoded, converted or removed as the entry says; the
    others keep the default treatment. Returns a failure message for an entry that
    cannot apply to its track (a video codec for audio, a codec ``target`` cannot hold)."""
    name = capabilities(target).name
    for track in list(work.tracks):
        mapping = mappings.get(track.codec)
        if mapping is None or capabilities(target).holds(track.type, track.codec):
            continue
        label = f"{track.type.value} track {track.source_index} ({track.codec})"
        if mapping.action == "remove":
            work.remove(track, f"codec_mappings: {track.codec} removed")
            work.notes.append(f"container: {label} removed (codec_mappings)")
            continue
        codec = mapping.codec
        assert codec is not None
        if _codec_type(codec) is not track.type or not capabilities(target).holds(
            track.type, codec
        ):
            return (
                f"codec_mappings: {track.codec} → {codec} does not fit {label} in {name} "
                f"(name {'an' if track.type is TrackType.AUDIO else 'a'} {track.type.value} "
                f"codec {name} can hold)"
            )
        if track.type is TrackType.SUBTITLE:
            if mapping.action == "transcode" or track.codec not in TEXT_SUBTITLES:
                return f"codec_mappings: {label} cannot become {codec}; only text subtitles convert"
            continue  # text subtitles become mov_text on the way (_convert_for_mp4)
        if mapping.action == "convert":
            return f"codec_mappings: {label} cannot be converted without encoding; use transcode"
        position = work.tracks.index(track)
        channels, _, _ = work.dimensions(track)
        limit = MAX_CHANNELS.get(codec)
        downmix = limit if channels is not None and limit is not None and channels > limit else None
        encode = (
            EncodeSettings(codec, audio=AudioEncode(bitrate=mapping.bitrate, channels=downmix))
            if track.type is TrackType.AUDIO
            else EncodeSettings(codec, VideoEncode())
        )
        work.tracks[position] = replace(track, codec=codec, encode=encode)
        work.notes.append(f"container: {label} → {codec} for {name} (codec_mappings)")
    return None


def _codec_type(codec: str) -> TrackType:
    if codec in ("h264", "hevc"):
        return TrackType.VIDEO
    if codec == "mov_text":
        return TrackType.SUBTITLE
    return TrackType.AUDIO


def _drop_source_tags(work: Work) -> None:
    """``preserve_metadata: false``: the converted file carries none of the source's
    container tags nor its title (actions of the phase may still set them)."""
    for name, _value in work.media.tags:
        if name != "title":
            work.tags.setdefault(name, None)
    if isinstance(work.title, Unchanged):
        work.title = None
    work.notes.append("container: the source's container tags are not kept (preserve_metadata)")


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


def keep_to_storable(work: Work) -> None:
    """Plan only flags, languages and titles the output container can store.

    A value the container cannot hold reads back as off / ``und`` / no title,
    so that is what is planned: a rule asking for more (a default flag on AVI)
    becomes a no-op with a warning instead of a plan no run can ever satisfy.
    Values a conversion loses (Matroska's "original" flag going into MP4) are
    noted. A value the file already has is never taken away in its own
    container (another muxer may have stored more than ffmpeg can write).
    Matroska stores everything, so Matroska plans never change here.
    """
    container = work.container
    if capabilities(container) is UNKNOWN:
        _leave_unwritable(work)
        return
    converting = container is not work.media.container
    dropped: dict[str, list[str]] = {}
    lost: dict[str, list[str]] = {}
    for position, track in enumerate(work.tracks):
        stored = replace(
            track,
            flags=stored_flags(container, track.flags),
            language=stored_language(container, track.type, track.language),
            title=stored_title(container, track.type, track.title),
        )
        if stored == track:
            continue
        source = work.media.tracks[track.source_index] if track.source_index is not None else None
        label = f"{track.type.value} #{position}"
        for field, wanted, before in _differences(track, stored, source):
            unchanged = source is not None and wanted == before
            if unchanged and not converting:
                stored = _with_field(stored, field, wanted)  # the file has it: left alone
                continue
            target = lost if unchanged else dropped
            target.setdefault(field, []).append(f"{label} {field} {_shown(wanted)}")
        work.tracks[position] = stored
    name = capabilities(container).name
    for field, items in dropped.items():
        work.warnings.append(
            f"{name} cannot store track {_field_noun(field)}; not planned: {', '.join(items)}"
        )
    for field, items in lost.items():
        work.notes.append(f"{name} cannot store track {_field_noun(field)}: {', '.join(items)}")


def _leave_unwritable(work: Work) -> None:
    """vpo writes no format outside the table (ASF, FLV, 3GP …): such a file is
    left exactly as it is unless the phase converts it (``container``)."""
    identity = list(identity_plan(work.media, "").tracks)
    if work.tracks == identity and not work.removed and not work.removed_attachments:
        return
    work.tracks[:] = identity
    work.removed.clear()
    work.removed_attachments.clear()
    name = work.media.format_name or work.container.value
    work.warnings.append(
        f"vpo cannot write {name} files; left as it is "
        "(convert it with container: {target: mkv} to apply this phase)"
    )


def _differences(
    track: PlannedTrack, stored: PlannedTrack, source: Track | None
) -> list[tuple[str, object, object]]:
    """(field, planned value, source value) for each field the container cannot keep."""
    rows: list[tuple[str, object, object]] = []
    for name in FLAG_NAMES:
        if getattr(track.flags, name) != getattr(stored.flags, name):
            before = getattr(source.flags, name) if source is not None else None
            rows.append((name, getattr(track.flags, name), before))
    if track.language != stored.language:
        rows.append(("language", track.language, source.language if source else None))
    if (track.title or None) != stored.title:
        rows.append(("title", track.title, source.title if source else None))
    return rows


def _with_field(track: PlannedTrack, field: str, value: object) -> PlannedTrack:
    if field == "language":
        assert isinstance(value, str)
        return replace(track, language=value)
    if field == "title":
        assert value is None or isinstance(value, str)
        return replace(track, title=value)
    assert isinstance(value, bool)
    return replace(track, flags=replace(track.flags, **{field: value}))


def _field_noun(field: str) -> str:
    if field in ("language", "title"):
        return f"{field}s"
    return f"{field.replace('_', '-')} flags"


def _shown(value: object) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return repr(value) if isinstance(value, str) else str(value)


def constrain_to_container(work: Work) -> None:
    """A written file gets its muxer's own rules, so a second run sees what was planned.

    MP4 and MOV muxers (ffmpeg 5.1) mark the first track of a type default when
    none of that type is; planning anything else could never converge.
    """
    if not capabilities(work.container).muxer_default:
        return
    for track_type in TrackType:
        of_type = [i for i, t in enumerate(work.tracks) if t.type is track_type]
        if of_type and not any(work.tracks[i].flags.default for i in of_type):
            first = work.tracks[of_type[0]]
            work.tracks[of_type[0]] = replace(first, flags=replace(first.flags, default=True))
            work.notes.append(
                f"{work.container.value} marks the first {track_type.value} track default "
                "when none is; planned so"
            )
