"""mkvmerge argv for a remux into Matroska/WebM: one pass, everything explicit.

Every kept track gets its language, name and all flags set explicitly, so the
output never inherits a value the plan did not ask for.
"""

from __future__ import annotations

from pathlib import Path

from vpo.media.model import Container, TrackType
from vpo.plan import Plan
from vpo.tools.commands.common import FLAG_NAMES, absolute, flag_value

_SELECT = {
    TrackType.VIDEO: ("--video-tracks", "--no-video"),
    TrackType.AUDIO: ("--audio-tracks", "--no-audio"),
    TrackType.SUBTITLE: ("--subtitle-tracks", "--no-subtitles"),
}


def build_mkvmerge_argv(executable: str, plan: Plan, output: Path) -> list[str]:
    """Remux ``plan.source`` into ``output`` with the plan's tracks, order and headers."""
    if plan.container not in (Container.MATROSKA, Container.WEBM):
        raise ValueError(f"mkvmerge writes Matroska/WebM, not {plan.container.value}")
    if any(t.source_index is None or t.encode is not None for t in plan.tracks):
        raise ValueError("mkvmerge cannot encode or synthesise tracks")
    source = plan.source
    kept = [source.tracks[t.source_index] for t in plan.tracks if t.source_index is not None]
    argv = [executable, "--quiet", "--output", absolute(output)]
    if plan.container is Container.WEBM:
        argv.append("--webm")
    for track_type, (select, none) in _SELECT.items():
        ids = [str(t.track_id) for t in kept if t.type is track_type]
        if ids:
            argv += [select, ",".join(ids)]
        elif source.tracks_of(track_type):
            argv.append(none)
    argv += _attachment_options(plan)
    for planned in plan.tracks:
        assert planned.source_index is not None
        track_id = source.tracks[planned.source_index].track_id
        argv += ["--language", f"{track_id}:{planned.language}"]
        argv += ["--track-name", f"{track_id}:{planned.title or ''}"]
        for flag, _prop, option, _disp in FLAG_NAMES:
            argv += [option, f"{track_id}:{int(flag_value(planned.flags, flag))}"]
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
