"""Loading and validation: every broken policy gets file, line, field path and a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vpo.policy.loader import PolicyError, load_policy, parse_policy
from vpo.policy.schema import TrackCategory

EXAMPLES = sorted((Path(__file__).parents[3] / "examples" / "policies").glob("*.yaml"))

HEAD = "schema_version: 12\nphases:\n  - name: p\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(textwrap.dedent(text), "pol.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_examples_are_found() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "anime.yaml",
        "english-first.yaml",
        "strip-foreign.yaml",
        "mp4-old-devices.yaml",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_policies_validate(path: Path) -> None:
    assert load_policy(path).phases


def test_norwegian_stays_norwegian_and_codes_are_normalised() -> None:
    policy = parse_policy(HEAD + "    audio_filter: {languages: [no, fr, de, ja, en-US]}\n")
    audio_filter = policy.phases[0].audio_filter
    assert audio_filter is not None
    assert audio_filter.languages == ("nor", "fre", "ger", "jpn", "eng")


def test_schema_version_11_is_the_same_format() -> None:
    policy = parse_policy(HEAD.replace("12", "11") + "    track_order: [video, audio_main]\n")
    assert policy.phases[0].track_order == (TrackCategory.VIDEO, TrackCategory.AUDIO_MAIN)


BROKEN = [
    (
        HEAD + "    audio_filter:\n      languages: [eng, jap]\n",
        "pol.yaml:5: phases[0].audio_filter.languages[1]: "
        "unknown language code 'jap' (did you mean 'jpn'?)",
    ),
    (
        HEAD + "    audio_filter:\n      languages: [eng]\n      fallbak: {mode: keep_all}\n",
        "pol.yaml:6: phases[0].audio_filter.fallbak: unknown key 'fallbak' "
        "(did you mean 'fallback'?)",
    ),
    (
        HEAD + "    track_order:\n      - video\n      - audio_mian\n",
        "pol.yaml:6: phases[0].track_order[1]: 'audio_mian' is not allowed; expected one of "
        "video, audio_main, audio_alternate, audio_commentary, subtitle_main, subtitle_forced, "
        "subtitle_commentary, attachment, audio_music, audio_sfx, audio_non_speech "
        "(did you mean 'audio_main'?)",
    ),
    (
        HEAD + "    container: {target: avi}\n",
        "pol.yaml:4: phases[0].container.target: 'avi' is not allowed; expected one of mkv, mp4",
    ),
    (
        HEAD + "    container: {}\n",
        "pol.yaml:4: phases[0].container.target: missing required key 'target'",
    ),
    (
        "schema_version: 10\nphases:\n  - name: p\n",
        "pol.yaml:1: schema_version: schema_version 10 is not supported; this vpo reads 11, 12, 13",
    ),
    (
        "schema_version: 12\nphases:\n  - name: config\n",
        "pol.yaml:3: phases[0].name: 'config' is reserved; choose another phase name",
    ),
    (
        "schema_version: 12\nphases:\n  - name: 1st\n",
        "pol.yaml:3: phases[0].name: a phase name starts with a letter, then letters, digits, "
        "'-' or '_' (at most 64 characters)",
    ),
    (
        "schema_version: 12\nphases:\n  - name: a\n  - name: a\n",
        "pol.yaml:4: phases[1].name: phase name 'a' is used twice",
    ),
    (
        "schema_version: 12\nphases:\n  - name: a\n  - name: b\n    depends_on: [aa]\n",
        "pol.yaml:5: phases[1].depends_on[0]: phase 'aa' does not exist; depends_on and run_if "
        "name earlier phases (did you mean 'a'?)",
    ),
    (
        "schema_version: 12\nphases:\n  - name: a\n    run_if: {phase_modified: b}\n  - name: b\n",
        "pol.yaml:4: phases[0].run_if.phase_modified: phase 'b' is not an earlier phase; "
        "depends_on and run_if name earlier phases",
    ),
    (
        "schema_version: 12\nconfig:\n  on_eror: skip\nphases:\n  - name: a\n",
        "pol.yaml:3: config.on_eror: unknown key 'on_eror' (did you mean 'on_error'?)",
    ),
    (
        "schema_version: 12\nconfig:\n  commentary_patterns: ['(director']\nphases:\n  - name: a\n",
        "pol.yaml:3: config.commentary_patterns[0]: invalid regular expression '(director': "
        "missing ), unterminated subpattern at position 0",
    ),
    (
        HEAD + "    subtitle_filter: {remove_all: true, languages: [eng]}\n",
        "pol.yaml:4: phases[0].subtitle_filter: remove_all: true removes every subtitle; "
        "drop 'languages' or it",
    ),
    (
        HEAD + "    skip_when: {file_size_over: 5 gigs}\n",
        "pol.yaml:4: phases[0].skip_when.file_size_over: '5 gigs' is not a size; "
        "write it like 700MB, 5GB or 4GiB",
    ),
    (
        HEAD + "    skip_when: {duration_under: half an hour}\n",
        "pol.yaml:4: phases[0].skip_when.duration_under: 'half an hour' is not a duration; "
        "write it like 90s, 30m or 1h30m",
    ),
    (
        HEAD + "    conditional:\n      - name: r\n        when:\n"
        "          exists: {track_type: audio, languag: eng}\n",
        "pol.yaml:7: phases[0].conditional[0].when.exists.languag: unknown key 'languag' "
        "(did you mean 'language'?)",
    ),
    (
        HEAD + "    conditional:\n      - name: r\n        when: {}\n",
        "pol.yaml:6: phases[0].conditional[0].when: a condition needs exactly one of exists, "
        "count, plugin_metadata, container_metadata, audio_is_multi_language, is_original, "
        "is_dubbed, and, or, not",
    ),
    (
        HEAD + "    conditional:\n      - name: r\n        when: {exists: {track_type: audio}}\n"
        "        then:\n          - {}\n",
        "pol.yaml:8: phases[0].conditional[0].then[0]: each action needs exactly one of "
        "set_default, set_forced, set_language, set_title, skip_track_filter, "
        "skip_video_transcode, skip_audio_transcode, set_container_metadata, warn, fail",
    ),
    (
        HEAD + "    transcode:\n      video: {target_codec: h265}\n",
        "pol.yaml:5: phases[0].transcode.video.target_codec: 'h265' is not allowed; expected "
        "one of hevc, h264, vp9, av1 (did you mean 'hevc'?)",
    ),
    (
        HEAD + "    transcode:\n      video:\n        target_codec: hevc\n"
        "        quality: {mode: bitrate}\n",
        "pol.yaml:7: phases[0].transcode.video.quality: mode 'bitrate' needs a bitrate, "
        "like 'bitrate: 5M'",
    ),
    (
        HEAD + "    transcode:\n      video:\n        target_codec: hevc\n"
        "        scaling: {max_resolution: 900p}\n",
        "pol.yaml:7: phases[0].transcode.video.scaling.max_resolution: '900p' is not a "
        "resolution; use one of 480p, 576p, 720p, 1080p, 1440p, 2160p, 4k",
    ),
    (
        HEAD
        + "    audio_synthesis:\n      tracks:\n        - {name: s, codec: mp3, channels: 2}\n",
        "pol.yaml:6: phases[0].audio_synthesis.tracks[0].codec: 'mp3' is not allowed; "
        "expected one of aac, ac3, eac3, opus, flac",
    ),
    (
        HEAD + "    audio_synthesis:\n      tracks:\n"
        "        - {name: s, codec: aac, channels: stereo, language: englsh}\n",
        "pol.yaml:6: phases[0].audio_synthesis.tracks[0].language: unknown language code "
        "'englsh' (did you mean 'eng'?)",
    ),
    (
        HEAD + "    audio_filter: {languages: [eng]}\n    audio_filter: {languages: [fre]}\n",
        "pol.yaml:5: YAML error: duplicate key; each key may appear once per mapping",
    ),
    (
        HEAD + "    audio_filter: {languages: [eng]\n",
        "pol.yaml:5: YAML error: expected ',' or '}', but got '<stream end>'",
    ),
    ("- just\n- a list\n", "pol.yaml:1: a policy is a mapping with schema_version and phases"),
    ("schema_version: 12\n", "pol.yaml:1: phases: missing required key 'phases'"),
    ("# nothing\n", "pol.yaml: is empty; a policy needs schema_version and phases"),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN, ids=[str(i) for i in range(len(BROKEN))])
def test_broken_policy_message(text: str, expected: str) -> None:
    assert expected in errors_of(text)


def test_channels_accept_names_and_unquoted_5_1() -> None:
    policy = parse_policy(
        HEAD + "    audio_synthesis:\n      tracks:\n"
        "        - {name: a, codec: ac3, channels: 5.1}\n"
        "        - {name: b, codec: aac, channels: stereo}\n"
    )
    synthesis = policy.phases[0].audio_synthesis
    assert synthesis is not None
    assert [t.channels for t in synthesis.tracks] == [6, 2]


def test_all_errors_are_reported_at_once_in_line_order() -> None:
    issues = errors_of(
        HEAD + "    audio_filter: {languages: [jap]}\n    container: {target: avi}\n"
        "    track_order: [vidoe]\n"
    )
    assert [issue.split(":")[1] for issue in issues] == ["4", "5", "6"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "policy file not found"),
        (b"\xff\xfe\x00bad", "not UTF-8 text (byte 0)"),
    ],
)
def test_file_problems(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "my policy.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_directory_is_not_a_policy(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="is a directory, not a policy file"):
        load_policy(tmp_path)
