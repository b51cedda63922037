"""Policies written for the original VPO (schema 12 and 13): validated, dry-run and
applied on generated media, tracks checked with mkvmerge -J."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli, main
from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

MIXED = MediaSpec(
    container="mkv",
    audio=(
        AudioSpec(language="fre", default=True),
        AudioSpec(language="jpn", channels=6),
        AudioSpec(language="eng", title="Commentary"),
    ),
    subtitles=(SubtitleSpec(language="ger"), SubtitleSpec(language="eng")),
)

V12 = """\
schema_version: 12
name: Anime night
description: Japanese audio, English subtitles
category: organize
config:
  audio_language_preference: [jpn, eng]
  subtitle_language_preference: [eng]
phases:
  - name: tidy
    audio_filter: {languages: [jpn, eng]}
    subtitle_filter: {languages: [eng]}
    track_order: [video, audio_main, audio_commentary, subtitle_main]
    default_flags: {set_subtitle_default_when_audio_differs: true}
    conditional:
      - name: title-surround
        when: "exists(audio, lang == jpn, channels >= 6)"
        then:
          - set_title: {track_type: audio, language: jpn, to: "Japanese 5.1"}
"""

V13 = """\
schema_version: 13
name: Anime night
description: Japanese audio, English subtitles
category: organize
config:
  audio_languages: [jpn, eng]      # most wanted first
  subtitle_languages: [eng]
phases:
  - name: tidy
    keep_audio: {languages: [jpn, eng]}
    keep_subtitles: {languages: [eng]}
    track_order: [video, audio_main, audio_commentary, subtitle_main]
    default_flags: {set_subtitle_default_when_audio_differs: true}
    rules:
      match: first
      items:
        - name: title-surround
          when: "exists(audio, lang == jpn, channels >= 6)"
          then:
            - set_title: {track_type: audio, language: jpn, to: "Japanese 5.1"}
"""

ANALYSIS = """\
schema_version: 13
name: Needs ears
phases:
  - name: listen
    transcription: {enabled: true}
  - name: tidy
    keep_subtitles: {languages: [eng]}
    rules:
      match: all
      items:
        - name: dubbed
          when: "is_dubbed()"
          then: [{warn: dubbed}]
        - name: french
          when: "audio.language == fre"
          then: [{warn: french}]
"""

Track = tuple[str, str | None, str | None, bool]


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated files are seconds old; the growing-file guard has its own test."""
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


def run(tmp_path: Path, *args: str) -> Result:
    database = tmp_path.parent / f"{tmp_path.name}-lib.sqlite"
    return CliRunner().invoke(cli, ["process", "--db", str(database), *args])


def tracks_on_disk(path: Path) -> list[Track]:
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True)
    return [
        (
            t["type"].replace("subtitles", "subtitle"),
            t["properties"].get("language"),
            t["properties"].get("track_name"),
            bool(t["properties"].get("default_track")),
        )
        for t in json.loads(out.stdout)["tracks"]
    ]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text", [V12, V13], ids=["12", "13"])
def test_validate_shows_name_category_and_version(tmp_path: Path, text: str) -> None:
    policy = write(tmp_path, "p.yaml", text)
    result = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert result.exit_code == ExitCode.OK
    version = "13" if "keep_audio" in text else "12"
    assert result.stdout == (
        f'{policy}: valid ("Anime night", [organize], schema {version}; 1 phase(s): tidy)\n'
    )
    as_json = CliRunner().invoke(cli, ["policy", "validate", "--json", str(policy)])
    (entry,) = json.loads(as_json.stdout)["files"]
    assert (entry["name"], entry["category"], entry["description"]) == (
        "Anime night",
        "organize",
        "Japanese audio, English subtitles",
    )
    shown = CliRunner().invoke(cli, ["policy", "show", str(policy)])
    assert "name: Anime night\ndescription: Japanese audio, English subtitles\n" in shown.stdout
    assert "category: organize\n" in shown.stdout
    assert "rules_match" not in shown.stdout  # internal, shown only when 13 says match: all


def test_v12_and_v13_policies_plan_and_apply_alike(
    tmp_path: Path, media_factory: MediaFactory
) -> None:
    documents = {}
    results = {}
    for version, text in (("12", V12), ("13", V13)):
        folder = tmp_path / version
        folder.mkdir()
        movie = media_factory(MIXED, f"{version}/movie.mkv")
        policy = write(tmp_path, f"p{version}.yaml", text)
        planned = run(tmp_path, "-p", str(policy), "--dry-run", "--json", str(movie))
        assert planned.exit_code == ExitCode.OK, planned.output
        document = json.loads(planned.stdout)
        documents[version] = (
            json.dumps(document).replace(f"/{version}/", "/X/").replace(f"p{version}.", "pX.")
        )
        applied = run(tmp_path, "-p", str(policy), str(movie))
        assert applied.exit_code == ExitCode.OK, applied.output
        results[version] = tracks_on_disk(movie)
    assert documents["12"] == documents["13"]
    assert results["13"] == [
        ("video", "und", None, True),
        ("audio", "jpn", "Japanese 5.1", True),
        ("audio", "eng", "Commentary", False),
        ("subtitle", "eng", None, False),  # the audio is the first language: no subtitle
    ]
    assert results["12"] == results["13"]


def test_audio_analysis_is_named_once_and_its_parts_are_skipped(
    tmp_path: Path, media_factory: MediaFactory
) -> None:
    policy = write(tmp_path, "ears.yaml", ANALYSIS)
    validated = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert validated.exit_code == ExitCode.OK
    lines = validated.stdout.splitlines()
    assert lines[1] == (
        f"{policy}: needs audio analysis (transcription, is_dubbed), which this version of "
        "vpo does not provide: phases with transcription and rules using these tests are "
        "skipped, music/effects options and categories never match"
    )
    movie = media_factory(MIXED)
    planned = run(tmp_path, "-p", str(policy), "--dry-run", "--json", str(movie))
    assert planned.exit_code == ExitCode.OK, planned.output
    assert planned.stderr.count("needs audio analysis (transcription, is_dubbed)") == 1
    (file_entry,) = json.loads(planned.stdout)["files"]
    phases = {p["name"]: p for p in file_entry["phases"]}
    assert phases["listen"]["outcome"] == "skipped"
    assert "transcription needs audio analysis" in phases["listen"]["reason"]
    warnings = phases["tidy"]["plan"]["warnings"]
    assert warnings[0].startswith("rule 'dubbed' skipped: is_dubbed needs audio analysis")
    assert "french" in warnings


def test_convert_command_round_trips_and_names_what_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path, "p12.yaml", "# mine\n" + V12)
    target = tmp_path / "p13.yaml"
    result = CliRunner().invoke(
        cli, ["policy", "convert", "--to", "13", "-o", str(target), str(source)]
    )
    assert (result.exit_code, result.stdout, result.stderr) == (ExitCode.OK, "", "")
    converted = target.read_text(encoding="utf-8")
    assert converted.startswith("# mine\nschema_version: 13\n")
    assert "  audio_languages: [jpn, eng]" in converted
    back = CliRunner().invoke(cli, ["policy", "convert", "--to", "12", str(target)])
    assert back.exit_code == ExitCode.OK
    assert "audio_language_preference: [jpn, eng]" in back.stdout

    every = write(tmp_path, "all.yaml", V13.replace("match: first", "match: all"))
    every.write_text(
        every.read_text(encoding="utf-8")
        + '        - {name: two, when: "video.exists", then: {warn: video}}\n',
        encoding="utf-8",
    )
    lossy = CliRunner().invoke(cli, ["policy", "convert", "--to", "12", str(every)])
    assert lossy.exit_code == ExitCode.OK
    assert lossy.stderr == (
        f"{every}: not carried over: phases[0].rules.match: 'all' has no schema 12 form "
        "(12 stops at the first rule that decides); written as conditional, which behaves "
        "as 'first'\n"
    )

    with pytest.raises(SystemExit) as exited:
        main(["policy", "convert", "--to", "13", str(tmp_path / "nope.yaml")])
    assert exited.value.code == ExitCode.USAGE
    assert capsys.readouterr().err == f"vpo: {tmp_path / 'nope.yaml'}: policy file not found\n"


TITLE = """\
schema_version: 13
phases:
  - name: label
    KEEP
    rules:
      match: first
      items:
        - name: title
          when: "not container_meta(title) == 'Living Room Cut'"
          then:
            - set_container_metadata: {field: title, value: "Living Room Cut"}
"""


def container_title(path: Path) -> str | None:
    if path.suffix == ".mkv":
        out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True)
        title: str | None = json.loads(out.stdout)["container"]["properties"].get("title")
        return title
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    tags: dict[str, str] = json.loads(out.stdout)["format"].get("tags", {})
    return tags.get("title")


@pytest.mark.parametrize(
    ("container", "keep", "tool"),
    [
        ("mkv", "", "mkvpropedit"),  # header edit in place
        ("mkv", "keep_subtitles: {remove_all: true}", "mkvmerge"),  # in a remux
        ("mp4", "", "ffmpeg"),
    ],
)
def test_set_container_metadata_writes_the_title_and_converges(
    tmp_path: Path, media_factory: MediaFactory, container: str, keep: str, tool: str
) -> None:
    spec = MediaSpec(
        container=container,
        audio=(AudioSpec(language="eng", default=True),),
        subtitles=(SubtitleSpec(language="eng"),) if container == "mkv" else (),
    )
    movie = media_factory(spec)
    policy = write(tmp_path, "title.yaml", TITLE.replace("KEEP", keep or "name: label"))
    policy.write_text(policy.read_text().replace("    name: label\n", ""), encoding="utf-8")
    applied = run(tmp_path, "-p", str(policy), "--json", str(movie))
    assert applied.exit_code == ExitCode.OK, applied.output
    (entry,) = json.loads(applied.stdout)["files"]
    assert [p["tool"] for p in entry["phases"]] == [tool]
    assert container_title(movie) == "Living Room Cut"
    again = run(tmp_path, "-p", str(policy), "--dry-run", "--json", str(movie))
    assert json.loads(again.stdout)["files"][0]["kind"] == "noop"


def test_a_title_the_tool_did_not_write_fails_verification(
    tmp_path: Path, media_factory: MediaFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    movie = media_factory(MediaSpec(container="mkv", audio=(AudioSpec(language="eng"),)))
    before = movie.read_bytes()
    lazy = tmp_path / "mkvpropedit"
    lazy.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")  # "succeeds", writes nothing
    lazy.chmod(0o755)
    monkeypatch.setenv("VPO_TOOLS_MKVPROPEDIT", str(lazy))
    policy = write(tmp_path, "title.yaml", TITLE.replace("    KEEP\n", ""))
    applied = run(tmp_path, "-p", str(policy), str(movie))
    assert applied.exit_code != ExitCode.OK
    assert "container title is None, plan says 'Living Room Cut'" in applied.output
    assert movie.read_bytes() == before
