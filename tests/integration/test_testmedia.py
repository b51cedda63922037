"""The test-media factory: specs, generated files read back with the tools, fixtures.

Generated files are checked here with the tools' raw output (mkvmerge -J,
ffprobe, mkvinfo), not with the factory's own checker, so a checker bug
cannot hide a factory bug.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpo.cli.demo_cmd import DEMO_STEPS, FILES, expand
from vpo.cli.main import cli
from vpo.media.language import normalize_language_lenient
from vpo.testmedia.check import differences, read_mkvmerge_json
from vpo.testmedia.demo import (
    DEMO_FILES,
    MARKER_NAME,
    build_demo_library,
    demo_files,
    remove_demo_library,
)
from vpo.testmedia.encoders import AUDIO_CODECS, CONTAINER_AUDIO, CONTAINER_SUBTITLES
from vpo.testmedia.factory import (
    EBML_MAGIC,
    TRUNCATE_AT,
    TRUNCATION_SOURCE,
    BrokenKind,
    MediaGenerationError,
    generate_media,
    random_bytes,
)
from vpo.testmedia.sidecars import FONT_FILE_NAME, ogm_chapters, srt_text
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec, expected_language
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError

RICH_MKV = MediaSpec(
    audio=(
        AudioSpec(title="Main"),  # first audio, NOT default
        AudioSpec(codec="ac3", language="fre", language_ietf="fr-CA", channels=6, default=True),
        AudioSpec(language=None, commentary=True, title="Director's commentary"),
    ),
    subtitles=(
        SubtitleSpec(forced=True, title="Signs & songs"),
        SubtitleSpec(codec="ass", language="jpn", hearing_impaired=True),
    ),
    font_attachment=True,
    chapters=3,
    title="Rich film",
)
MP4 = MediaSpec(
    container="mp4",
    audio=(AudioSpec(default=True), AudioSpec(language="spa", commentary=True)),
    subtitles=(SubtitleSpec(codec="mov_text", language="ger", default=True, forced=True),),
    chapters=2,
)
WEBM = MediaSpec(
    container="webm",
    video_codec="vp9",
    audio=(AudioSpec(codec="opus", language="jpn", original=True), AudioSpec(codec="vorbis")),
    subtitles=(SubtitleSpec(codec="webvtt", hearing_impaired=True, default=True),),
    title="Web film",
)
AVI = MediaSpec(
    container="avi", video_codec="mpeg4", audio=(AudioSpec(codec="mp3", language=None),)
)
TS = MediaSpec(
    container="ts",
    audio=(
        AudioSpec(language="fre", hearing_impaired=True),
        AudioSpec(codec="ac3", language="eng", visual_impaired=True),
    ),
)
MOV = MediaSpec(
    container="mov",
    audio=(AudioSpec(language="fre", default=True), AudioSpec(codec="pcm_s16le", language="cze")),
    subtitles=(SubtitleSpec(codec="mov_text", language="ger", default=True),),
    chapters=2,
    title="QuickTime film",
)
OGG = MediaSpec(
    container="ogg",
    video_codec="theora",
    audio=(
        AudioSpec(codec="vorbis", language="fre", title="Français"),
        AudioSpec(codec="opus", language=None),
    ),
)


def _json(argv: list[str]) -> Any:
    return json.loads(subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout)


def _mkvmerge(tools: ToolPaths, path: Path) -> Any:
    return _json([tools.require("mkvmerge"), "-J", str(path)])


def _ffprobe(tools: ToolPaths, path: Path) -> Any:
    return _json(
        [
            tools.require("ffprobe"),
            "-v",
            "error",
            "-of",
            "json",
            "-show_streams",
            "-show_format",
            "-show_chapters",
            str(path),
        ]
    )


# --- specs (pure) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AudioSpec(codec="wav"), "audio codec 'wav' not supported"),
        (lambda: AudioSpec(codec="mp3", channels=6), "supports (1, 2) channels"),
        (lambda: AudioSpec(language="xx-nonsense"), "unknown language code"),
        (lambda: AudioSpec(language="eng", language_ietf="fr-CA"), "does not match"),
        (lambda: MediaSpec(container="flv"), "unknown container"),
        (lambda: MediaSpec(container="ts", chapters=1), "ts cannot carry chapters"),
        (
            lambda: MediaSpec(container="ts", audio=(AudioSpec(title="Main"),)),
            "MPEG-TS stores no track titles",
        ),
        (
            lambda: MediaSpec(
                container="ts", audio=(AudioSpec(hearing_impaired=True, visual_impaired=True),)
            ),
            "not both",
        ),
        (lambda: MediaSpec(container="mov"), "set default=True on one"),
        (
            lambda: MediaSpec(container="ogg", video_codec="theora", audio=(AudioSpec(),)),
            "codec 'aac' not allowed",
        ),
        (lambda: MediaSpec(container="webm"), "video codec 'h264' not allowed"),
        (lambda: MediaSpec(width=63), "must be even"),
        (lambda: MediaSpec(container="mp4"), "set default=True on one"),
        (
            lambda: MediaSpec(
                container="avi", video_codec="mpeg4", audio=(AudioSpec(codec="mp3"),)
            ),
            "AVI stores no track language",
        ),
        (
            lambda: MediaSpec(
                container="mp4", font_attachment=True, audio=(AudioSpec(default=True),)
            ),
            "font attachments",
        ),
        (lambda: MediaSpec(subtitles=(SubtitleSpec(codec="mov_text"),)), "not allowed"),
        (
            lambda: MediaSpec(container="mp4", audio=(AudioSpec(default=True, original=True),)),
            "cannot carry flag(s) original",
        ),
    ],
)
def test_specs_a_container_cannot_represent_are_rejected(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        make()
    assert message in str(caught.value)


def test_track_layout_follows_file_order_and_avi_has_no_flags() -> None:
    layout = RICH_MKV.tracks()
    assert [t.type.value for t in layout] == ["video"] + ["audio"] * 3 + ["subtitle"] * 2
    assert [t.flags.default for t in layout[1:4]] == [False, True, False]
    assert all(not t.flags.default for t in AVI.tracks())


@pytest.mark.parametrize(
    ("language", "container", "expected"),
    [(None, "mkv", "eng"), (None, "webm", "eng"), (None, "mp4", "und"), ("fr", "mkv", "fre")],
)
def test_expected_language(language: str | None, container: str, expected: str) -> None:
    assert expected_language(language, container) == expected


def test_sidecar_texts_fit_inside_the_duration() -> None:
    assert "00:00:01,900" in srt_text("x", 2.0)  # second cue ends at 95 % of 2 s
    chapters = ogm_chapters(3, 3.0)
    assert "CHAPTER03=00:00:02.000" in chapters and chapters.count("NAME=") == 3


def test_random_bytes_are_deterministic_and_not_ebml() -> None:
    assert random_bytes() == random_bytes()
    assert not random_bytes().startswith(EBML_MAGIC)


# --- generated files, read back with the tools ---------------------------------


@pytest.mark.integration
def test_matroska_flags_languages_attachments_chapters(
    media_factory: Any, tools: ToolPaths
) -> None:
    path = media_factory(RICH_MKV)
    data = _mkvmerge(tools, path)
    tracks = data["tracks"]
    props = [t["properties"] for t in tracks]
    assert [t["type"] for t in tracks] == [
        "video",
        "audio",
        "audio",
        "audio",
        "subtitles",
        "subtitles",
    ]
    assert [p["default_track"] for p in props] == [True, False, True, False, False, False]
    assert props[2]["language_ietf"] == "fr-CA" and props[2]["audio_channels"] == 6
    assert props[3].get("flag_commentary") is True
    assert props[3]["track_name"] == "Director's commentary"
    assert props[4]["forced_track"] is True and props[4]["track_name"] == "Signs & songs"
    assert props[5]["codec_id"] == "S_TEXT/ASS" and props[5]["flag_hearing_impaired"] is True
    assert [a["file_name"] for a in data["attachments"]] == [FONT_FILE_NAME]
    assert data["chapters"] == [{"num_entries": 3}]
    assert data["container"]["properties"]["title"] == "Rich film"
    assert data["container"]["properties"]["writing_application"].startswith("mkvmerge")


@pytest.mark.integration
def test_matroska_first_audio_has_flagdefault_0_and_no_language_means_no_element(
    media_factory: Any, tools: ToolPaths
) -> None:
    mkvinfo = shutil.which("mkvinfo")
    assert mkvinfo, "mkvinfo ships with mkvtoolnix"
    text = subprocess.run(
        [mkvinfo, str(media_factory(RICH_MKV))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    blocks = text.split("+ Track number: ")[1:]
    first_audio, commentary = blocks[1], blocks[3].split("|+ ")[0]
    assert '"Default track" flag: 0' in first_audio
    assert "Language" not in commentary


@pytest.mark.integration
@pytest.mark.parametrize("spec", [MP4, AVI, TS, MOV, OGG], ids=["mp4", "avi", "ts", "mov", "ogg"])
def test_ffmpeg_containers_read_back_with_ffprobe(
    spec: MediaSpec, media_factory: Any, tools: ToolPaths
) -> None:
    data = _ffprobe(tools, media_factory(spec))
    # MP4 chapters travel in a QuickTime text track that ffprobe lists as a data stream.
    streams = [s for s in data["streams"] if s["codec_type"] != "data"]
    assert [s["codec_name"] for s in streams] == [t.codec for t in spec.tracks()]
    for stream, track in zip(streams, spec.tracks(), strict=True):
        assert bool(stream["disposition"]["default"]) == track.flags.default
        assert bool(stream["disposition"]["forced"]) == track.flags.forced
        assert bool(stream["disposition"]["comment"]) == track.flags.commentary
        assert bool(stream["disposition"]["hearing_impaired"]) == track.flags.hearing_impaired
        assert bool(stream["disposition"]["visual_impaired"]) == track.flags.visual_impaired
        language = normalize_language_lenient(stream.get("tags", {}).get("language"))
        assert language == expected_language(track.language, spec.container)
        assert stream.get("tags", {}).get("title") == track.title
    assert len(data["chapters"]) == spec.chapters


@pytest.mark.integration
def test_webm_is_webm_with_every_flag_set(media_factory: Any, tools: ToolPaths) -> None:
    path = media_factory(WEBM)
    assert path.name == "movie.webm"
    data = _mkvmerge(tools, path)
    props = [t["properties"] for t in data["tracks"]]
    assert [p["codec_id"] for p in props] == ["V_VP9", "A_OPUS", "A_VORBIS", "D_WEBVTT/SUBTITLES"]
    assert [p["default_track"] for p in props] == [True, False, False, True]
    assert props[1]["flag_original"] is True and props[1]["language"] == "jpn"
    assert props[3]["flag_hearing_impaired"] is True
    assert _ffprobe(tools, path)["format"]["format_name"] == "matroska,webm"


@pytest.mark.integration
def test_odd_file_names_are_generated_where_asked(tmp_path: Path, tools: ToolPaths) -> None:
    target = tmp_path / "Sub dir" / "-leading dash 'quoted' \"x\" été\nnewline.mkv"
    made = generate_media(MediaSpec(duration=1.0), target, tools)
    assert made == target and target.read_bytes().startswith(EBML_MAGIC)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp files left


@pytest.mark.integration
def test_checker_names_the_field_that_differs(media_factory: Any, tools: ToolPaths) -> None:
    seen = read_mkvmerge_json(_mkvmerge(tools, media_factory(RICH_MKV)))
    assert differences(RICH_MKV, seen) == []
    flipped = MediaSpec(
        audio=(AudioSpec(title="Main", default=True), *RICH_MKV.audio[1:]),
        subtitles=RICH_MKV.subtitles,
        font_attachment=True,
        chapters=3,
        title="Rich film",
    )
    problems = differences(flipped, seen)
    assert len(problems) == 1 and problems[0].startswith("track 1: flags")
    error = MediaGenerationError(Path("x.mkv"), problems)
    assert str(error).startswith("x.mkv: generated file does not match its spec: track 1")


@pytest.mark.integration
def test_media_factory_returns_fresh_copies(
    media_factory: Any, media_cache: Path, tmp_path: Path
) -> None:
    spec = MediaSpec(duration=1.0, audio=(AudioSpec(language="ita"),))
    first = media_factory(spec, "a.mkv")
    first.write_bytes(b"modified by a test")
    second = media_factory(spec, "Season 01/b ü.mkv")
    assert second.parent == tmp_path / "Season 01"
    assert second.read_bytes().startswith(EBML_MAGIC)
    assert second.stat().st_ino != first.stat().st_ino
    cached = [p for p in media_cache.iterdir() if p.suffix == ".mkv"]
    assert sum(p.read_bytes() == second.read_bytes() for p in cached) == 1


@pytest.mark.integration
def test_broken_files(broken_factory: Any, tools: ToolPaths) -> None:
    assert broken_factory(BrokenKind.ZERO_BYTES).stat().st_size == 0
    noise = broken_factory(BrokenKind.RANDOM_BYTES, "noise.mkv")
    assert noise.name == "noise.mkv" and noise.stat().st_size == 64 * 1024
    text = broken_factory(BrokenKind.TEXT_AS_MKV)
    assert text.suffix == ".mkv" and text.read_text(encoding="utf-8").startswith("This is a text")


@pytest.mark.integration
def test_truncated_mkv_is_a_valid_file_cut_short(
    broken_factory: Any, media_factory: Any, tools: ToolPaths
) -> None:
    truncated = broken_factory(BrokenKind.TRUNCATED_MKV)
    whole = media_factory(TRUNCATION_SOURCE)
    assert truncated.read_bytes().startswith(EBML_MAGIC)
    ratio = truncated.stat().st_size / whole.stat().st_size
    assert abs(ratio - TRUNCATE_AT) < 0.02
    # mkvmerge still "recognizes" the cut file: that is why vpo checks segment sizes.
    assert _mkvmerge(tools, truncated)["container"]["recognized"] is True


def test_home_is_isolated(isolated_home: Path) -> None:
    assert os.environ["HOME"] == str(isolated_home)
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(isolated_home))
    assert Path(os.environ["VPO_CONFIG"]).read_text(encoding="utf-8") == ""


# --- the demo library and `vpo demo` -----------------------------------------------


@pytest.fixture(scope="module")
def demo_library(tmp_path_factory: pytest.TempPathFactory, tools: ToolPaths) -> Path:
    """Built once for this module; tests that change it work on a copy."""
    root = tmp_path_factory.mktemp("demo") / "demo-library"
    build_demo_library(root, tools)
    return root


def _copy_library(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(source, target)
    return target


def _props(tools: ToolPaths, path: Path) -> list[dict[str, Any]]:
    return [t["properties"] for t in _mkvmerge(tools, path)["tracks"]]


@pytest.mark.integration
def test_demo_library_holds_the_promised_cases(demo_library: Path, tools: ToolPaths) -> None:
    files = {item.relative_path: demo_library / item.relative_path for item in DEMO_FILES}
    assert len(files) == 8 and all(p.is_file() for p in files.values())
    marker = json.loads((demo_library / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["files"] == list(files)
    anime = _props(tools, files["Anime/Kaze no Tani (風の谷)/Kaze no Tani - 01.mkv"])
    assert [(p["language"], p["default_track"]) for p in anime[1:3]] == [
        ("eng", True),
        ("jpn", False),
    ]
    assert [p["language"] for p in anime[3:]] == ["eng", "eng", "jpn"]
    pilot = _props(tools, files["TV/Night Shift/Season 01/Night Shift - S01E01 - Pilot.mkv"])
    assert pilot[1]["language"] == "und"
    wrong = _props(tools, files["Movies/Die Brücke (1959)/Die Brücke (1959).mkv"])
    assert wrong[2]["flag_commentary"] is True and wrong[2]["default_track"] is True
    assert wrong[1]["default_track"] is False
    french = _props(
        tools, files["Movies/Le Café des Étoiles (2001)/Le Café des Étoiles (2001).mkv"]
    )
    assert french[1]["language"] == "fre" and french[2]["language"] == "eng"
    long_voyage = files["Movies/The Long Voyage (2019)/The Long Voyage (2019).mkv"]
    voyage = _props(tools, long_voyage)
    assert voyage[2].get("flag_commentary") is True and voyage[4]["forced_track"] is True
    mp4 = _ffprobe(tools, files["Movies/Home Video (2015)/Home Video (2015).mp4"])
    assert "mp4" in mp4["format"]["format_name"]
    webm = _mkvmerge(tools, files["Movies/Open Clip/Open Clip.webm"])
    assert webm["tracks"][0]["properties"]["codec_id"] == "V_VP9"


def test_demo_steps_expand_placeholders(tmp_path: Path) -> None:
    files = demo_files(tmp_path)
    assert expand(("inspect", FILES), tmp_path, files) == ["inspect", *map(str, files)]
    anime = expand(("inspect", "--json", "{anime}"), tmp_path, files)[2]
    assert "Anime" in anime and anime.startswith(str(tmp_path))
    assert all(step.args[0] for step in DEMO_STEPS)


def test_vpo_demo_refuses_an_unrelated_directory(tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_text("my notes", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path), "--force"])
    assert result.exit_code == 2
    assert "is not empty and is not a vpo demo library" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    as_file = CliRunner().invoke(cli, ["demo", str(mine)])
    assert as_file.exit_code == 2 and "is not a directory" in as_file.output


def test_a_tampered_marker_cannot_delete_outside_the_library(tmp_path: Path) -> None:
    outside = tmp_path / "precious.mkv"
    outside.write_bytes(b"keep me")
    root = tmp_path / "demo"
    (root / "Movies").mkdir(parents=True)
    (root / "Movies" / "a.mkv").write_bytes(b"demo")
    marker = {"schema": "vpo.demo-library/1", "files": ["Movies/a.mkv", "../precious.mkv"]}
    (root / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")
    remove_demo_library(root)
    assert outside.read_bytes() == b"keep me"
    assert list(root.iterdir()) == []  # demo file, its empty folder and the marker are gone


@pytest.mark.integration
def test_vpo_demo_reuses_an_existing_library(demo_library: Path, tmp_path: Path) -> None:
    root = _copy_library(demo_library, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in demo_files(root)}
    result = CliRunner().invoke(cli, ["demo", str(root)])
    assert result.exit_code == 0, result.output
    assert "Using the demo library" in result.output and "What to try next" in result.output
    assert {p: p.stat().st_mtime_ns for p in demo_files(root)} == before


@pytest.mark.integration
def test_vpo_demo_force_rebuilds_only_its_own_files(demo_library: Path, tmp_path: Path) -> None:
    root = _copy_library(demo_library, tmp_path)
    users = root / "Movies" / "My Own Film.mkv"
    users.write_bytes(b"not the demo's")
    inodes = {p: p.stat().st_ino for p in demo_files(root)}
    result = CliRunner().invoke(cli, ["demo", str(root), "--force"])
    assert result.exit_code == 0, result.output
    assert "Built 8 files" in result.output
    assert users.read_bytes() == b"not the demo's"
    assert all(p.stat().st_ino != inode for p, inode in inodes.items())


# --- property: any valid Matroska/WebM spec comes out exactly as specified ------------

_LANGUAGES = st.sampled_from([None, "und", "eng", "fre", "jpn", "ger", "spa"])
_FLAG = st.booleans()


@st.composite
def matroska_specs(draw: st.DrawFn) -> MediaSpec:
    container = draw(st.sampled_from(["mkv", "webm"]))
    audio_codecs = CONTAINER_AUDIO[container]
    audio = []
    for _ in range(draw(st.integers(0, 3))):
        codec = draw(st.sampled_from(audio_codecs))
        audio.append(
            AudioSpec(
                codec=codec,
                channels=draw(st.sampled_from(AUDIO_CODECS[codec].channels)),
                language=draw(_LANGUAGES),
                title=draw(st.sampled_from([None, "Main", "Comm: 'x' & \"y\"", "日本語"])),
                default=draw(_FLAG),
                forced=draw(_FLAG),
                commentary=draw(_FLAG),
                hearing_impaired=draw(_FLAG),
                visual_impaired=draw(_FLAG),
                original=draw(_FLAG),
            )
        )
    subtitles = [
        SubtitleSpec(
            codec=draw(st.sampled_from(CONTAINER_SUBTITLES[container])),
            language=draw(_LANGUAGES),
            default=draw(_FLAG),
            forced=draw(_FLAG),
            hearing_impaired=draw(_FLAG),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return MediaSpec(
        container=container,
        video_codec="h264" if container == "mkv" else "vp9",
        duration=1.0,
        audio=tuple(audio),
        subtitles=tuple(subtitles),
        font_attachment=container == "mkv" and draw(_FLAG),
        chapters=draw(st.integers(0, 3)),
        title=draw(st.sampled_from([None, "A film"])),
        video_language=draw(_LANGUAGES),
        video_default=draw(_FLAG),
    )


@pytest.mark.integration
@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=matroska_specs())
def test_any_matroska_spec_is_generated_exactly(spec: MediaSpec, tools: ToolPaths) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = generate_media(spec, Path(scratch) / f"any{spec.suffix}", tools)
        tracks = _mkvmerge(tools, path)["tracks"]
    assert len(tracks) == len(spec.tracks())
    for track, layout in zip(tracks, spec.tracks(), strict=True):
        props = track["properties"]
        assert props.get("default_track", True) == layout.flags.default
        assert props.get("forced_track", False) == layout.flags.forced
        assert props.get("flag_commentary", False) == layout.flags.commentary
        assert props.get("flag_hearing_impaired", False) == layout.flags.hearing_impaired
        assert props.get("flag_original", False) == layout.flags.original
        assert props.get("track_name") == layout.title
        language = normalize_language_lenient(props.get("language", "eng"))
        assert language == expected_language(layout.language, spec.container)


@pytest.mark.integration
def test_vpo_demo_completes_an_interrupted_build(demo_library: Path, tmp_path: Path) -> None:
    root = _copy_library(demo_library, tmp_path)
    shutil.rmtree(root / "Anime")  # as if Ctrl-C came before the anime file was written
    result = CliRunner().invoke(cli, ["demo", str(root)])
    assert result.exit_code == 0, result.output
    assert "Built 8 files" in result.output
    assert all(p.is_file() for p in demo_files(root))


@pytest.mark.integration  # the tool preflight runs before the first write
def test_vpo_demo_reports_an_unwritable_target_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", str(blocker / "library")])
    assert result.exit_code == 1
    assert f"{blocker / 'library'}: cannot write the demo library: Not a directory" in result.output
    assert "Traceback" not in result.output


def test_a_failing_tool_names_the_requested_file_and_leaves_nothing(tmp_path: Path) -> None:
    false = shutil.which("false")
    assert false is not None
    target = tmp_path / "wanted movie.mkv"
    broken_tools = ToolPaths(ffprobe=false, ffmpeg=false, mkvmerge=false, mkvpropedit=false)
    with pytest.raises(ToolError) as caught:
        generate_media(MediaSpec(), target, broken_tools)
    assert str(caught.value).startswith(f"{target}: false failed (exit 1)")
    assert list(tmp_path.iterdir()) == []
