"""ffmpeg argv for MP4 and other non-Matroska outputs (and for encodes).

ffmpeg silently drops streams that are not mapped and inherits dispositions, so
every kept stream gets an explicit ``-map`` and a full ``-disposition``.
``-movflags +faststart`` is left out on purpose: it costs a second full pass over
the output, and vpo promises one pass per phase.
"""

from __future__ import annotations

from pathlib import Path

from vpo.media.model import Container, TrackFlags
from vpo.plan import Plan
from vpo.tools.commands.common import FLAG_NAMES, absolute, flag_value

FFMPEG_FORMATS: dict[Container, str] = {
    Container.MATROSKA: "matroska",
    Container.WEBM: "webm",
    Container.MP4: "mp4",
    Container.AVI: "avi",
    Container.MPEGTS: "mpegts",
}


def file_url(path: Path) -> str:
    """``file:`` + absolute path: a name containing ``:`` is never taken for a protocol."""
    return "file:" + absolute(path)


def disposition(flags: TrackFlags) -> str:
    """The full disposition string ("0" when no flag is set)."""
    names = [disp for flag, _p, _o, disp in FLAG_NAMES if flag_value(flags, flag)]
    return "+".join(names) if names else "0"


def build_ffmpeg_argv(executable: str, plan: Plan, output: Path) -> list[str]:
    """One ffmpeg pass from ``plan.source`` to ``output`` in the plan's container."""
    output_format = FFMPEG_FORMATS.get(plan.container)
    if output_format is None:
        raise ValueError(f"cannot write container {plan.container.value!r} with ffmpeg")
    source = plan.source
    argv = [executable, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-i", file_url(source.path)]
    for planned in plan.tracks:
        if planned.source_index is None:
            raise ValueError("ffmpeg builder cannot synthesise tracks")
        argv += ["-map", f"0:{source.tracks[planned.source_index].index}"]
    argv += ["-c", "copy", "-map_metadata", "0", "-map_chapters", "0"]
    for position, planned in enumerate(plan.tracks):
        if planned.encode is not None:
            argv += [f"-c:{position}", planned.encode.codec]
            for key, value in planned.encode.parameters:
                argv += [f"-{key}:{position}", value]
        argv += [f"-disposition:{position}", disposition(planned.flags)]
        argv += [f"-metadata:s:{position}", f"language={planned.language}"]
        argv += [f"-metadata:s:{position}", f"title={planned.title or ''}"]
        if plan.container is Container.MP4:
            argv += [f"-metadata:s:{position}", f"handler_name={planned.title or ''}"]
    argv += ["-f", output_format, file_url(output)]
    return argv
