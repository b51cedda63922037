"""Golden test of the dry-run table, plus the small formatting rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.cells import cell_len

from vpo.cli.render import plan_table
from vpo.cli.render.plan_table import display_path, flags_text, render_file, render_summary
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.policy.loader import parse_policy
from vpo.policy.phases import FileEvaluation, evaluate_file

GOLDEN = Path(__file__).parents[2] / "golden"

POLICY = """
schema_version: 12
config:
  audio_language_preference: [eng, jpn]
  subtitle_language_preference: [eng]
phases:
  - name: strip
    audio_filter: {languages: [eng, jpn]}
    subtitle_filter: {languages: [eng], preserve_forced: true}
    attachment_filter: {remove_all: true}
  - name: order
    track_order: [video, audio_main, audio_alternate, subtitle_forced, subtitle_main,
                  audio_commentary]
    default_flags: {set_subtitle_default_when_audio_differs: true}
    transcode: {video: {target_codec: hevc}}
  - name: big-only
    skip_when: {file_size_under: 1GB}
    default_flags: {}
  - name: must-have-ger
    conditional:
      - name: ger
        when: {not: {exists: {track_type: audio, language: ger}}}
        then: {fail: no German audio}
"""


def golden_evaluation() -> FileEvaluation:
    def track(
        i: int, kind: TrackType, codec: str, lang: str, title: str | None = None, **flags: bool
    ) -> Track:
        return Track(i, i, kind, codec, lang, title=title, flags=TrackFlags(**flags))

    media = MediaFile(
        path=Path("Films/Spirited Away (2001).mkv"),
        container=Container.MATROSKA,
        size=700_000_000,
        mtime_ns=0,
        tracks=(
            track(0, TrackType.VIDEO, "h264", "und", default=True),
            track(1, TrackType.AUDIO, "ac3", "eng", "English dub", default=True),
            track(2, TrackType.AUDIO, "flac", "jpn", original=True),
            track(3, TrackType.AUDIO, "aac", "eng", "Commentary with the director"),
            track(4, TrackType.AUDIO, "ac3", "fre"),
            track(5, TrackType.SUBTITLE, "ass", "eng", "Full subtitles for a very long title"),
            track(6, TrackType.SUBTITLE, "ass", "eng", "Signs", forced=True),
            track(7, TrackType.SUBTITLE, "subrip", "fre"),
        ),
        attachments=(Attachment(1, "font.ttf"),),
    )
    policy = parse_policy(POLICY, "golden.yaml")
    return evaluate_file(policy, policy.phases, media)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"
    )


def test_dry_run_table_matches_golden() -> None:
    check_golden("dry_run_table.txt", render_file(golden_evaluation()))


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        (TrackFlags(), "-"),
        (TrackFlags(default=True, forced=True), "D F"),
        (TrackFlags(hearing_impaired=True, commentary=True, original=True), "HI C O"),
    ],
)
def test_flags_text(flags: TrackFlags, text: str) -> None:
    assert flags_text(flags) == text


def _one_plan_lines(*titles: str) -> list[str]:
    media = MediaFile(
        path=Path("a.mkv"),
        container=Container.MATROSKA,
        size=1,
        mtime_ns=0,
        tracks=tuple(
            Track(i, i, TrackType.AUDIO, "aac", "jpn", title=title)
            for i, title in enumerate(titles)
        ),
    )
    policy = parse_policy(
        "schema_version: 12\nphases:\n  - name: p\n    audio_actions: {clear_all_titles: true}\n",
        "p.yaml",
    )
    return render_file(evaluate_file(policy, policy.phases, media)).splitlines()


def test_wide_titles_keep_the_columns_aligned() -> None:
    lines = _one_plan_lines("千と千尋の神隠し", "Spirited Away", "日本語" * 20)
    table = [line for line in lines if " aac " in line or "flags" in line]
    starts = {cell_len(line[: line.index(" -  ")]) for line in table if " -  " in line}
    assert len(table) == 4 and len(starts) == 1, "\n".join(lines)
    assert "日本語日本語日本語日本語日本語…" in lines[-1]  # cut at 32 cells, not 32 characters


def test_titles_are_escaped_never_sent_to_the_terminal_raw() -> None:
    text = "\n".join(_one_plan_lines("\x1b[2J\x1b]0;pwned\x07red", "two\nlines"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b]0;pwned\\x07red" in text  # the same escaping as vpo inspect
    assert "two\\nlines" in text
    assert len(text.splitlines()) == 5  # file, phase, header, two rows


def test_display_path_escapes_control_characters() -> None:
    assert display_path(Path("a\nb.mkv")) == "a\\nb.mkv"
    assert display_path(Path("ünï cödé 'q'.mkv")) == "ünï cödé 'q'.mkv"


@pytest.mark.parametrize(
    ("counts", "total", "expected"),
    [
        (
            {"metadata": 390, "remux": 18, "noop": 4},
            412,
            "412 files: 390 metadata-only, 18 remux, 4 no change, 0 errors",
        ),
        (
            {"encode": 1, "errors": 1},
            2,
            "2 files: 0 metadata-only, 0 remux, 1 encode, 0 no change, 1 error",
        ),
        ({"noop": 1}, 1, "1 file: 0 metadata-only, 0 remux, 1 no change, 0 errors"),
    ],
)
def test_summary_line(counts: dict[str, int], total: int, expected: str) -> None:
    assert render_summary(counts, total) == expected


@pytest.mark.parametrize(
    "text",
    [
        *map(chr, range(32, 127)),
        *sorted(plan_table.ONE_CELL),
        "→ #",
        "Commentary…",
        "映画 title",
        "e\u0301",  # a combining accent: no cell of its own
        "😀 emoji",
        "",
    ],
)
def test_cell_len_measures_as_rich_does(text: str) -> None:
    assert plan_table.cell_len(text) == cell_len(text)


def test_a_release_date_shows_in_the_dry_run_table_and_json() -> None:
    from vpo.cli.render.plan_json import file_dict
    from vpo.media.metadata import FileMetadata, TitleMetadata

    media = MediaFile(
        path=Path("a.mkv"), container=Container.MATROSKA, size=1, mtime_ns=0, tracks=()
    )
    policy = parse_policy(
        "schema_version: 12\nphases:\n  - name: dates\n    file_timestamp: {mode: release_date}\n",
        "p.yaml",
    )
    film = TitleMetadata(source="radarr", release_dates=(("in_cinemas", "2001-07-20"),))
    evaluation = evaluate_file(policy, policy.phases, media, FileMetadata((film,)))
    lines = render_file(evaluation).splitlines()
    assert lines[1] == "  phase dates: metadata only (container mkv)"
    assert (
        "    file time → 2001-07-20 00:00 UTC (release date 2001-07-20 (radarr in_cinemas))"
        in lines
    )
    plan = file_dict(evaluation)["phases"][0]["plan"]
    assert plan["file_time"] == {
        "before": "1970-01-01T00:00:00+00:00",
        "after": "2001-07-20T00:00:00+00:00",
        "reason": "release date 2001-07-20 (radarr in_cinemas)",
    }
