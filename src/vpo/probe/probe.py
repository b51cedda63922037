"""probe_file: one path in, one MediaFile (or one one-line ProbeError) out.

The order matters: cheap checks on the path first, then the first bytes
decide the tool (never the extension: a text file named ``.mkv`` and an MP4
named ``.mkv`` both exist in the wild). Matroska files have their Segment size
checked before mkvmerge is trusted, because mkvmerge and ffprobe both report
a truncated file as complete.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from vpo.media.model import MediaFile
from vpo.probe.errors import (
    EmptyFileError,
    FileNotFoundProbeError,
    NotAFileError,
    NotMediaError,
    ProbeError,
    ProbeTimeoutError,
    UnexpectedProbeOutputError,
    UnreadableFileError,
)
from vpo.probe.ffprobe_json import parse_ffprobe_json
from vpo.probe.matroska_headers import read_global_tags
from vpo.probe.matroska_layout import check_segment_header
from vpo.probe.mkvmerge_json import parse_mkvmerge_json
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolResult, ToolTimeoutError, run_tool

EBML_MAGIC = b"\x1a\x45\xdf\xa3"

_STILL_IMAGE_FORMATS = frozenset({"image2", "tty", "gif", "webp_pipe"})
_DEMUXER_LINE = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*(.+)$")  # [mov,mp4 @ 0x55…] cause


def probe_file(path: Path, tools: ToolPaths, *, timeout: float = 60.0) -> MediaFile:
    """Describe ``path``; raises a ProbeError subclass or ToolError (tool missing/broken)."""
    info = check_regular_file(path)
    head = _read_head(path)
    if head.startswith(EBML_MAGIC):
        media = _probe_matroska(path, info, tools, timeout)
    else:
        media = _probe_other(path, info, tools, timeout)
    reason = unsupported_reason(media)
    if reason is not None:
        raise NotMediaError(path, reason)
    return media


def check_regular_file(path: Path) -> os.stat_result:
    """The pre-checks: exists, is a regular file, is readable, is not empty."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError) as error:
        detail = "broken symbolic link" if path.is_symlink() else None
        raise FileNotFoundProbeError(path, detail) from error
    except PermissionError as error:
        raise UnreadableFileError(path) from error
    except OSError as error:
        raise UnreadableFileError(path, error.strerror or str(error)) from error
    if stat.S_ISDIR(info.st_mode):
        raise NotAFileError(path, "it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise NotAFileError(path)
    if not os.access(path, os.R_OK):
        raise UnreadableFileError(path)
    if info.st_size == 0:
        raise EmptyFileError(path)
    return info


def unsupported_reason(media: MediaFile) -> str | None:
    """Why a file a tool could read is still not a video vpo should touch, or None."""
    name = media.format_name or ""
    if name in _STILL_IMAGE_FORMATS or name.endswith("_pipe"):
        return f"a still image or text ({name}), not a video"
    if not media.video_tracks and not media.audio_tracks:
        return "no audio or video tracks"
    return None


def ffprobe_failure_cause(stderr: str, url: str | None = None) -> str:
    """The reason in ffprobe's stderr, without the file name it repeats.

    ``[matroska,webm @ 0x…] EBML header parsing failed`` followed by
    ``file:/x.mkv: Invalid data found when processing input`` becomes
    ``Invalid data found when processing input (EBML header parsing failed)``.
    ``url`` is the input as passed to ffprobe; removing it first keeps a name
    with a newline or ': ' in it out of the cause.
    """
    if url:
        stderr = stderr.replace(f"{url}: ", "")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "ffprobe gave no reason"
    final = _strip_url_prefix(lines[-1])
    details = [m.group(1) for line in lines[:-1] if (m := _DEMUXER_LINE.match(line))]
    return f"{final} ({details[-1]})" if details else final


def _strip_url_prefix(line: str) -> str:
    """``file:/a/b.mkv: cause`` → ``cause`` (when the caller did not know the url)."""
    return line.rsplit(": ", 1)[-1] if line.startswith("file:") else line


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(len(EBML_MAGIC))
    except PermissionError as error:
        raise UnreadableFileError(path) from error
    except OSError as error:
        raise UnreadableFileError(path, error.strerror or str(error)) from error


def _probe_matroska(
    path: Path, info: os.stat_result, tools: ToolPaths, timeout: float
) -> MediaFile:
    doctype = check_segment_header(path)  # NotMediaError / TruncatedFileError, one small read
    argv = [
        tools.require("mkvmerge"),
        "--ui-language",
        "en_US",
        "--engage",
        "keep_track_statistics_tags",  # BPS tags: per-track bit rates
        "-J",
        str(path.absolute()),  # absolute: no leading '-' or '@' for mkvmerge to misread
    ]
    result = _run(argv, path, timeout, ok_codes=(0, 1, 2))
    media = parse_mkvmerge_json(
        _json_object(result, path),
        path=path,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        device=info.st_dev,
        doctype=doctype,
    )
    try:  # mkvmerge -J counts the global tags but does not show them
        return replace(media, tags=read_global_tags(path))
    except ProbeError:
        return media  # headers only mkvmerge understands: the title is all vpo knows


def _probe_other(path: Path, info: os.stat_result, tools: ToolPaths, timeout: float) -> MediaFile:
    url = f"file:{path.absolute()}"  # 'file:' so no name is taken for an option or protocol
    argv = [
        tools.require("ffprobe"),
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-show_chapters",
        url,
    ]
    result = _run(argv, path, timeout, ok_codes=None)
    if result.returncode != 0:
        stderr = result.stderr_text
        if "Permission denied" in stderr:
            raise UnreadableFileError(path)
        if "No such file or directory" in stderr:
            raise FileNotFoundProbeError(path)
        raise NotMediaError(path, ffprobe_failure_cause(stderr, url))
    return parse_ffprobe_json(
        _json_object(result, path),
        path=path,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        device=info.st_dev,
    )


def _run(
    argv: list[str], path: Path, timeout: float, *, ok_codes: tuple[int, ...] | None
) -> ToolResult:
    try:
        return run_tool(
            argv,
            timeout=timeout,
            path=path,
            check=ok_codes is not None,
            ok_codes=ok_codes or (0,),
        )
    except ToolTimeoutError as error:
        raise ProbeTimeoutError(path, f"{error.tool} took longer than {timeout:g} s") from error


def _json_object(result: ToolResult, path: Path) -> Mapping[str, Any]:
    tool = Path(result.argv[0]).name
    try:
        data = json.loads(result.stdout_text)
    except json.JSONDecodeError as error:
        raise UnexpectedProbeOutputError(
            path, f"{tool} did not print JSON ({error.msg})"
        ) from error
    if not isinstance(data, dict):
        raise UnexpectedProbeOutputError(path, f"{tool} printed JSON that is not an object")
    return data
