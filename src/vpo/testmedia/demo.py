"""A small, realistic demo library: the cases a policy has to get right.

Each file is one situation users have (a commentary track, a foreign film, an
anime whose English dub comes first, a track with no language, the default
flag on the wrong track, MP4 and WebM). A marker file records what the demo
wrote, so a rebuild only ever deletes the demo's own files.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from vpo.errors import FatalError
from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

MARKER_NAME = ".vpo-demo-library.json"
MARKER_SCHEMA = "vpo.demo-library/1"


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One file of the demo library and the situation it shows."""

    relative_path: str
    spec: MediaSpec
    shows: str


DEMO_FILES: tuple[DemoFile, ...] = (
    DemoFile(
        "Movies/The Long Voyage (2019)/The Long Voyage (2019).mkv",
        MediaSpec(
            audio=(
                AudioSpec(codec="ac3", channels=6, default=True, title="English 5.1"),
                AudioSpec(commentary=True, title="Director's commentary"),
                AudioSpec(language="spa", title="Español"),
            ),
            subtitles=(
                SubtitleSpec(forced=True, title="Forced (signs)"),
                SubtitleSpec(title="English"),
                SubtitleSpec(hearing_impaired=True, title="English SDH"),
            ),
            title="The Long Voyage",
        ),
        "English film: commentary track, forced English subtitles",
    ),
    DemoFile(
        "Movies/Le Café des Étoiles (2001)/Le Café des Étoiles (2001).mkv",
        MediaSpec(
            audio=(AudioSpec(language="fre", default=True, original=True, channels=6),),
            subtitles=(SubtitleSpec(title="English"), SubtitleSpec(language="fre")),
            title="Le Café des Étoiles",
        ),
        "French film with English subtitles (none default)",
    ),
    DemoFile(
        "Anime/Kaze no Tani (風の谷)/Kaze no Tani - 01.mkv",
        MediaSpec(
            audio=(
                AudioSpec(default=True, title="English dub"),
                AudioSpec(language="jpn", original=True, title="日本語"),
            ),
            subtitles=(
                SubtitleSpec(codec="ass", title="English (full)"),
                SubtitleSpec(codec="ass", forced=True, title="English (signs)"),
                SubtitleSpec(codec="ass", language="jpn", title="日本語"),
            ),
            font_attachment=True,
        ),
        "anime: English dub first and default, Japanese second",
    ),
    DemoFile(
        "TV/Night Shift/Season 01/Night Shift - S01E01 - Pilot.mkv",
        MediaSpec(
            audio=(AudioSpec(language="und", default=True),),
            subtitles=(SubtitleSpec(),),
        ),
        "audio track with an undetermined (und) language",
    ),
    DemoFile(
        "TV/Night Shift/Season 01/Night Shift - S01E02 - Fonts & Chapters.mkv",
        MediaSpec(
            audio=(AudioSpec(default=True),),
            subtitles=(SubtitleSpec(codec="ass", default=True, title="Styled"),),
            font_attachment=True,
            chapters=4,
            title="Night Shift S01E02",
        ),
        "styled subtitles with a font attachment, and chapters",
    ),
    DemoFile(
        "Movies/Die Brücke (1959)/Die Brücke (1959).mkv",
        MediaSpec(
            audio=(
                AudioSpec(language="ger", original=True, title="Deutsch"),
                AudioSpec(commentary=True, default=True, title="Commentary"),
            ),
            subtitles=(SubtitleSpec(default=True, hearing_impaired=True, title="English SDH"),),
        ),
        "default flag on the wrong tracks (commentary audio, SDH subtitles)",
    ),
    DemoFile(
        "Movies/Home Video (2015)/Home Video (2015).mp4",
        MediaSpec(
            container="mp4",
            audio=(AudioSpec(default=True), AudioSpec(language="spa")),
            subtitles=(SubtitleSpec(codec="mov_text", default=True),),
        ),
        "MP4 with AAC audio and mov_text subtitles",
    ),
    DemoFile(
        "Movies/Open Clip/Open Clip.webm",
        MediaSpec(
            container="webm",
            video_codec="vp9",
            audio=(AudioSpec(codec="opus", default=True),),
            subtitles=(SubtitleSpec(codec="webvtt", language="ger"),),
        ),
        "WebM (VP9, Opus, WebVTT)",
    ),
)


class DemoDirectoryError(FatalError):
    """The target holds files that are not vpo's demo: never touch them."""


def build_demo_library(root: Path, tools: ToolPaths) -> list[Path]:
    """Generate every demo file under ``root``, listed first in the marker file.

    The marker comes first so that an interrupted build is still recognised as
    the demo's (and rebuilt) rather than refused as somebody else's folder.
    The work is in external processes, so one thread per core makes it faster.
    """
    root.mkdir(parents=True, exist_ok=True)
    marker = {"schema": MARKER_SCHEMA, "files": [item.relative_path for item in DEMO_FILES]}
    (root / MARKER_NAME).write_text(
        json.dumps(marker, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    try:
        paths = list(
            pool.map(
                lambda item: generate_media(item.spec, root / item.relative_path, tools),
                DEMO_FILES,
            )
        )
        age_files(paths)
        return paths
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: start no further files


DEMO_POLICY_NAME = "demo-policy.yaml"
DEMO_DATABASE_NAME = "demo-library.db"
DEMO_POLICY = """\
# The demo's policy: English first and default, foreign films get English
# subtitles switched on, subtitles in languages nobody here reads are dropped.
schema_version: 12
config:
  audio_language_preference: [eng, jpn, und]
  subtitle_language_preference: [eng]
  on_error: skip

phases:
  - name: tidy
    subtitle_filter:
      languages: [eng, fre, jpn]
      preserve_forced: true
    subtitle_actions:
      clear_all_default: true
    track_order: [video, audio_main, audio_alternate, subtitle_forced, subtitle_main,
                  audio_commentary, subtitle_commentary]
    default_flags:
      set_first_video_default: true
      set_preferred_audio_default: true
      clear_other_defaults: true
      set_subtitle_default_when_audio_differs: true
"""
AGE_SECONDS = 24 * 3600  # demo files look a day old, like a library's (not still growing)


def write_demo_policy(root: Path) -> Path:
    """The policy the demo applies, written beside the library (not a media file)."""
    path = root / DEMO_POLICY_NAME
    path.write_text(DEMO_POLICY, encoding="utf-8")
    return path


def age_files(paths: list[Path], seconds: float = AGE_SECONDS) -> None:
    """Backdate modification times: vpo leaves files modified seconds ago alone."""
    when = time.time() - seconds
    for path in paths:
        os.utime(path, (when, when))


def demo_files(root: Path) -> list[Path]:
    return [root / item.relative_path for item in DEMO_FILES]


def existing_demo_library(root: Path) -> bool:
    """True when ``root`` holds a complete demo library written by vpo."""
    return (root / MARKER_NAME).is_file() and all(p.is_file() for p in demo_files(root))


def remove_demo_library(root: Path) -> None:
    """Delete what the marker lists (and folders left empty); nothing else."""
    marker = root / MARKER_NAME
    try:
        listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError) as error:
        raise DemoDirectoryError(f"{marker}: unreadable demo marker ({error})") from error
    for relative in listed:
        path = (root / str(relative)).resolve()
        if root.resolve() not in path.parents:
            continue  # a tampered marker must not reach outside the library
        path.unlink(missing_ok=True)
        for folder in path.parents:
            if folder == root.resolve():
                break
            if folder.is_dir() and any(folder.iterdir()):
                break
            if folder.is_dir():
                folder.rmdir()
    marker.unlink()


def check_demo_target(root: Path) -> None:
    """Refuse a target that exists and holds anything but a demo library."""
    if not root.exists():
        return
    if not root.is_dir():
        raise DemoDirectoryError(f"{root}: exists and is not a directory; choose another path")
    if (root / MARKER_NAME).is_file():
        return
    if any(root.iterdir()):
        raise DemoDirectoryError(
            f"{root}: directory is not empty and is not a vpo demo library; "
            "choose an empty or new directory"
        )
