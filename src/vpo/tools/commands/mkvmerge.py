"""mkvmerge argv for a remux into Matroska/WebM: one pass, everything explicit.

Every kept track gets its language, name and all flags set explicitly, so the
output never inherits a value the plan did not ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vpo.media.model import Container, Track, TrackType
from vpo.plan import Plan
from vpo.tools.commands.common import FLAG_NAMES, absolute, flag_value
from vpo.tools.commands.mkvtags import global_tag_set

_SELECT = {
    TrackType.VIDEO: ("--video-tracks", "--no-video"),
    TrackType.AUDIO: ("--audio-tracks", "--no-audio"),
    TrackType.SUBTITLE: ("--subtitle-tracks", "--no-subtitles"),
}


def match_track_ids(source: Sequence[Track], identified: Sequence[Track]) -> tuple[int, ...] | None:
    """mkvmerge's id for each source track, pairing tracks in order; None when the
    two tools do not see the same track types in the same order.

    For a non-Matroska source the MediaFile comes from ffprobe, whose stream
    indexes are not mkvmerge's track ids (data streams, cover art).
    """
    if [t.type for t in source] != [t.type for t in identified]:
        return None
    return tuple(t.track_id for t in identified)


def build_mkvmerge_argv(
    executable: str,
    plan: Plan,
    output: Path,
    *,
    track_ids: Sequence[int] | None = None,
    tags_file: Path | None = None,
) -> list[str]:
    """Remux ``plan.source`` into ``output`` with the plan's tracks, order and headers.

    ``track_ids`` are mkvmerge's ids per source track (default: ``Track.track_id``,
    exact for Matroska sources; see match_track_ids for the others). ``tags_file``:
    the global tags XML (vpo.tools.tag_files) when the plan changes a tag and
    keeps any; the source's global tags are then not copied.
    """
    if plan.container not in (Container.MATROSKA, Container.WEBM):
        raise ValueError(f"mkvmerge writes Matroska/WebM, not {plan.container.value}")
    if any(t.source_index is None or t.encode is not None for t in plan.tracks):
        raise ValueError("mkvmerge cannot encode or synthesise tracks")
    source = plan.source
    ids = list(track_ids) if track_ids is not None else [t.track_id for t in source.tracks]
    if len(ids) != len(source.tracks):
        raise ValueError("track_ids must give one id per source track")
    kept = [
        replace(source.tracks[t.source_index], track_id=ids[t.source_index])
        for t in plan.tracks
        if t.source_index is not None
    ]
    argv = [executable, "--quiet", "--output", absolute(output)]
    if plan.container is Container.WEBM:
        argv.append("--webm")
    for track_type, (select, none) in _SELECT.items():
        selected = [str(t.track_id) for t in kept if t.type is track_type]
        if selected:
            argv += [select, ",".join(selected)]
        elif source.tracks_of(track_type):
            argv.append(none)
    argv += _attachment_options(plan)
    title = plan.title_change()
    if title is not None:
        argv += ["--title", title[1] or ""]  # set_container_metadata
    elif source.title and not source.container.is_matroska_family:
        argv += ["--title", source.title]  # mkvmerge does not carry an MP4's title
    tags = global_tag_set(plan)
    if tags:
        if tags_file is None:
            raise ValueError("the plan changes container tags: pass the tags file")
        argv += ["--global-tags", absolute(tags_file)]
    for planned in plan.tracks:
        assert planned.source_index is not None
        track_id = ids[planned.source_index]
        argv += ["--language", f"{track_id}:{planned.language}"]
        argv += ["--track-name", f"{track_id}:{planned.title or ''}"]
        for flag, _prop, option, _disp in FLAG_NAMES:
            argv += [option, f"{track_id}:{int(flag_value(planned.flags, flag))}"]
    if tags is not None:
        argv.append("--no-global-tags")  # a source option: the set above replaces them
    argv.append(absolute(source.path))
    argv += ["--track-order", ",".join(f"0:{t.track_id}" for t in kept)]
    return argv


def _attachment_options(plan: Plan) -> list[str]:
    attachments = plan.source.attachments
    if not plan.removed_attachments or not attachments:
        return []
    kept = [a.attachment_id for a in attachments if a.attachment_id not in plan.removed_attachments]
    if not kept:
        return ["--no-attachments"]
    return ["--attachments", ",".join(str(a) for a in kept)]
