"""Policies in the shape of the original VPO's example policies (written here from its
documented keys, not copied) validate and dry-run on the demo library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.demo import build_demo_library
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

NORMALISE_13 = """\
schema_version: 13
name: Normalise media
description: MKV, HEVC, an E-AC-3 5.1 companion, English first
category: transcode
config:
  audio_languages: [eng, und]
  subtitle_languages: [eng, und]
  commentary_patterns: [commentary, director, "audio description"]
phases:
  - name: container
    container: {target: mkv, on_incompatible_codec: transcode}
  - name: video
    skip_when: {mode: any, video_codec: [hevc, av1]}
    transcode:
      video: {to: hevc, crf: 20, preset: medium, hw: auto, hw_fallback: true,
              ffmpeg_args: ["-x265-params", "log-level=error"]}
      audio: {preserve: [truehd, dts-hd, flac, eac3], to: aac, bitrate: 192k}
  - name: audio
    audio_synthesis:
      tracks:
        - name: EAC3 5.1
          codec: eac3
          channels: "5.1"
          bitrate: 640k
          skip_if_exists: {codec: [eac3], channels: {gte: 6}, language: [eng, und],
                           not_commentary: true}
          source:
            prefer:
              - language: [eng, und]
              - not_commentary: true
              - codec: [truehd, dts, flac]
              - channels: max
          create_if: {exists: {track_type: audio, channels: {gte: 6}, language: [eng, und]}}
          language: inherit
          position: 1
  - name: tidy
    keep_audio: {languages: [eng, und], minimum: 1, fallback: {mode: content_language}}
    keep_subtitles: {languages: [eng, und], preserve_forced: true}
    filter_attachments: {remove_all: true}
    track_order: [video, audio_main, audio_alternate, subtitle_main, subtitle_forced,
                  audio_commentary, subtitle_commentary]
    default_flags:
      set_first_video_default: true
      set_preferred_audio_default: true
      clear_other_defaults: true
      set_subtitle_default_when_audio_differs: true
    rules:
      match: first
      items:
        - name: force-english-for-foreign-audio
          when: >-
            multi_language(threshold == 0.05)
            or not exists(audio, lang == eng, default == true)
          then:
            - set_forced: {language: eng, value: true}
"""

RADARR_12 = """\
schema_version: 12
name: Radarr original language
category: organize
phases:
  - name: language
    conditional:
      - name: japanese-original
        when:
          plugin_metadata: {plugin: radarr, field: original_language, value: jpn}
        then:
          - set_language: {track_type: audio, match_language: und, new_language: jpn}
        else:
          - warn: "no Radarr metadata"
  - name: order
    audio_filter: {languages: [jpn, eng, und]}
    default_flags: {preferred_audio_codec: [truehd, eac3, ac3]}
"""

CONTAINER_META_13 = """\
schema_version: 13
name: Container titles
phases:
  - name: titles
    rules:
      match: all
      items:
        - name: no-title
          when: "not container_meta(title)"
          then: [{warn: "no container title"}]
        - name: tidy-title
          when:
            container_metadata: {field: title, operator: contains, value: "Voyage"}
          then:
            - set_container_metadata: {field: title, value: "The Long Voyage"}
"""

TRANSCODE_12 = """\
schema_version: 12
name: Conditional HEVC
description: only what needs it
phases:
  - name: squeeze
    skip_when: {audio_codec_exists: truehd, resolution: 2160p}
    conditional:
      - name: keep-small-video
        when: "video.height <= 480"
        then: [{skip_video_transcode: true}]
    transcode:
      video:
        target_codec: hevc
        skip_if: {codec_matches: [hevc, h265], resolution_within: 1080p, bitrate_under: 15M}
        quality: {mode: crf, crf: 20, preset: medium, tune: film}
        scaling: {max_resolution: 1080p, algorithm: lanczos, upscale: false}
        hardware_acceleration: {enabled: auto, fallback_to_cpu: true}
      audio: {preserve_codecs: [truehd, dts-hd, flac, pcm_s24le], transcode_to: aac,
              transcode_bitrate: 192k}
"""

TRANSCRIPTION_13 = """\
schema_version: 13
name: Transcription analysis
phases:
  - name: analyse
    transcription: {enabled: true, update_language_from_transcription: true,
                    confidence_threshold: 0.8, detect_commentary: true}
  - name: order
    keep_audio: {languages: [eng, jpn, und], keep_music_tracks: true}
    track_order: [video, audio_main, audio_alternate, audio_music, audio_commentary,
                  subtitle_forced, subtitle_main]
    rules:
      match: first
      items:
        - name: dubbed
          when: {is_dubbed: {value: true, language: eng}}
          then: [{set_default: {track_type: audio, language: jpn}}]
"""

POLICIES = {
    "normalise-13": (NORMALISE_13, "multi_language"),
    "radarr-12": (RADARR_12, None),
    "container-meta-13": (CONTAINER_META_13, None),
    "transcode-12": (TRANSCODE_12, None),
    "transcription-13": (TRANSCRIPTION_13, "transcription"),
}


@pytest.fixture(scope="module")
def demo_library(tmp_path_factory: pytest.TempPathFactory, tools: ToolPaths) -> Path:
    root = tmp_path_factory.mktemp("demo") / "demo-library"
    build_demo_library(root, tools)
    return root


@pytest.mark.parametrize("name", POLICIES)
def test_original_shaped_policy_validates_and_dry_runs_on_the_demo_library(
    name: str, demo_library: Path, tmp_path: Path
) -> None:
    text, analysis = POLICIES[name]
    policy = tmp_path / f"{name}.yaml"
    policy.write_text(text, encoding="utf-8")
    validated = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert validated.exit_code == ExitCode.OK, validated.output
    notice = [line for line in validated.stdout.splitlines() if "needs audio analysis" in line]
    assert len(notice) == (1 if analysis else 0)
    database = tmp_path / "lib.sqlite"
    planned = CliRunner().invoke(
        cli,
        ["process", "--db", str(database), "-p", str(policy), "--dry-run", "--json",
         str(demo_library)],
    )  # fmt: skip
    assert planned.exit_code == ExitCode.OK, planned.output
    files = json.loads(planned.stdout)["files"]
    assert files and all(f["status"] == "planned" for f in files), planned.stdout
    assert planned.stderr.count("needs audio analysis") == (1 if analysis else 0)
    if name == "container-meta-13":
        voyage = [f for f in files if "Long Voyage" in f["path"]]
        assert voyage and voyage[0]["kind"] == "noop"  # its title already is "The Long Voyage"
