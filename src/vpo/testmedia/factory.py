"""Generate small media files (and broken ones) with the real tools.

Every file is built in a private temp dir, checked against its spec with
``mkvmerge -J`` or ffprobe, and only then moved to the requested path: a
factory bug fails loudly instead of handing a test a wrong fixture.
"""

from __future__ import annotations

import enum
import json
import random
import shutil
import tempfile
from pathlib import Path

from vpo.errors import VpoError
from vpo.testmedia.check import SeenFile, differences, read_ffprobe_json, read_mkvmerge_json
from vpo.testmedia.commands import (
    Sidecars,
    ffmpeg_argv,
    ffprobe_argv,
    mkvmerge_argv,
    mkvmerge_identify_argv,
    mkvpropedit_argv,
)
from vpo.testmedia.encoders import SUBTITLE_SOURCES
from vpo.testmedia.sidecars import (
    FONT_FILE_NAME,
    ffmetadata_chapters,
    font_bytes,
    ogm_chapters,
    subtitle_text,
)
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import run_tool

EBML_MAGIC = bytes.fromhex("1A45DFA3")
TRUNCATE_AT = 0.6


class MediaGenerationError(VpoError):
    """The tools produced a file that does not match its spec (a factory bug)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: generated file does not match its spec: {'; '.join(problems)}")


def _timeout(spec: MediaSpec) -> float:
    return 30.0 + 2.0 * spec.duration


def _write_sidecars(spec: MediaSpec, work: Path) -> Sidecars:
    subtitles = []
    for number, subtitle in enumerate(spec.subtitles):
        suffix = SUBTITLE_SOURCES[subtitle.codec][0]
        source = work / f"subtitle-{number}{suffix}"
        label = f"{subtitle.language or 'und'} {subtitle.title or 'subtitle'} {number}"
        source.write_text(subtitle_text(subtitle.codec, label, spec.duration), encoding="utf-8")
        subtitles.append(source)
    chapters = None
    if spec.chapters:
        if spec.container == "mkv":
            chapters = work / "chapters.txt"
            chapters.write_text(ogm_chapters(spec.chapters, spec.duration), encoding="utf-8")
        else:
            chapters = work / "chapters.ffmeta"
            chapters.write_text(ffmetadata_chapters(spec.chapters, spec.duration), encoding="utf-8")
    font = None
    if spec.font_attachment:
        font = work / FONT_FILE_NAME
        font.write_bytes(font_bytes())
    return Sidecars(tuple(subtitles), chapters, font)


def _build(spec: MediaSpec, tools: ToolPaths, work: Path, target: Path) -> Path:
    """Run the tools for ``spec`` inside ``work``; return the finished file.

    Tool errors name ``target``, the file the caller asked for.
    """
    sidecars = _write_sidecars(spec, work)
    output = work / f"generated{spec.suffix}"
    timeout = _timeout(spec)
    ffmpeg = tools.require("ffmpeg")
    if spec.container == "mkv":
        encoded = work / "encoded.mkv"
        run_tool(
            ffmpeg_argv(ffmpeg, spec, encoded, Sidecars(), with_metadata=False),
            timeout=timeout,
            path=target,
        )
        run_tool(
            mkvmerge_argv(tools.require("mkvmerge"), spec, encoded, sidecars, output),
            timeout=timeout,
            path=target,
            ok_codes=(0, 1),
        )
    elif spec.container == "webm":
        run_tool(
            ffmpeg_argv(ffmpeg, spec, output, sidecars, with_metadata=False),
            timeout=timeout,
            path=target,
        )
    else:
        run_tool(
            ffmpeg_argv(ffmpeg, spec, output, sidecars, with_metadata=True),
            timeout=timeout,
            path=target,
        )
    if spec.container in ("mkv", "webm"):
        edit = mkvpropedit_argv(
            tools.require("mkvpropedit"), spec, output, set_everything=spec.container == "webm"
        )
        if edit is not None:
            run_tool(edit, timeout=timeout, path=target, ok_codes=(0, 1))
    return output


def inspect_generated(spec: MediaSpec, path: Path, tools: ToolPaths) -> SeenFile:
    """What the container's own tool reports about ``path``, reduced for comparison."""
    if spec.container in ("mkv", "webm"):
        result = run_tool(
            mkvmerge_identify_argv(tools.require("mkvmerge"), path),
            timeout=30.0,
            path=path,
            ok_codes=(0, 1),
        )
        return read_mkvmerge_json(json.loads(result.stdout))
    result = run_tool(ffprobe_argv(tools.require("ffprobe"), path), timeout=30.0, path=path)
    return read_ffprobe_json(json.loads(result.stdout))


def generate_media(spec: MediaSpec, path: Path, tools: ToolPaths) -> Path:
    """Create ``path`` (and its parent folders) holding exactly what ``spec`` says.

    Raises ToolError when a tool fails and MediaGenerationError when the result
    does not match the spec; ``path`` is then left untouched.
    """
    target = Path(path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vpo-testmedia-") as scratch:
        built = _build(spec, tools, Path(scratch), target)
        problems = differences(spec, inspect_generated(spec, built, tools))
        if problems:
            raise MediaGenerationError(target, problems)
        shutil.move(built, target)
    return target


class BrokenKind(enum.Enum):
    """Bad inputs every command must report in one line, never a traceback."""

    ZERO_BYTES = "zero-bytes"
    RANDOM_BYTES = "random-bytes"
    TRUNCATED_MKV = "truncated-mkv"
    TEXT_AS_MKV = "text-as-mkv"


TRUNCATION_SOURCE = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre")),
    subtitles=(SubtitleSpec(),),
)


def random_bytes(size: int = 64 * 1024, seed: int = 0x5650) -> bytes:
    """Deterministic noise that starts with no known file signature."""
    data = random.Random(seed).randbytes(size)
    return b"\x00NOISE" + data[6:]


def generate_broken(kind: BrokenKind, path: Path, tools: ToolPaths) -> Path:
    """Write a broken file of ``kind`` at ``path``."""
    target = Path(path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind is BrokenKind.ZERO_BYTES:
        target.write_bytes(b"")
    elif kind is BrokenKind.RANDOM_BYTES:
        target.write_bytes(random_bytes())
    elif kind is BrokenKind.TEXT_AS_MKV:
        target.write_text("This is a text file with a video file's name.\n" * 20, encoding="utf-8")
    else:
        with tempfile.TemporaryDirectory(prefix="vpo-testmedia-") as scratch:
            whole = generate_media(TRUNCATION_SOURCE, Path(scratch) / "whole.mkv", tools)
            data = whole.read_bytes()
        target.write_bytes(data[: int(len(data) * TRUNCATE_AT)])
    return target
