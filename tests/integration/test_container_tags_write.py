"""set_container_metadata writes any container tag: mkvpropedit (the whole global
tag set from a temp XML file) in a header edit, mkvmerge in a remux, ffmpeg for
other containers; verified on the output, and a second run plans nothing.
Tags are checked with ffprobe."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

POLICY = """\
schema_version: 12
phases:
  - name: tags
    KEEP
    conditional:
      - name: tag
        when: {container_metadata: {field: comment, operator: neq, value: "Tagged by vpo"}}
        then:
          - set_container_metadata: {field: comment, value: "Tagged by vpo"}
          - set_container_metadata: {field: director, value: "Jane & <Doe>"}
          - set_container_metadata: {field: stale, value: ""}
"""
EXISTING = """<?xml version="1.0" encoding="UTF-8"?>
<Tags><Tag><Targets/>
  <Simple><Name>STALE</Name><String>remove me</String></Simple>
  <Simple><Name>KEEPER</Name><String>kept as it was</String></Simple>
</Tag></Tags>
"""
TWO_AUDIO = (AudioSpec(language="eng", default=True), AudioSpec(language="fre"))


@pytest.fixture(autouse=True)
def no_settle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")  # files tagged a moment ago


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(tmp_path / "lib.sqlite"), *args])


def ffprobe_tags(path: Path) -> dict[str, str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    tags: dict[str, str] = json.loads(out)["format"].get("tags", {})
    return {key.lower(): value for key, value in tags.items()}


def tag_matroska(path: Path, tmp_path: Path) -> None:
    xml = tmp_path / "existing.xml"
    xml.write_text(EXISTING, encoding="utf-8")
    subprocess.run(["mkvpropedit", "-q", str(path), "--tags", f"global:{xml}"], check=True)


def policy_file(tmp_path: Path, keep: str) -> Path:
    text = POLICY.replace("    KEEP\n", f"    {keep}\n" if keep else "")
    path = tmp_path / "tags.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("container", "keep", "tool"),
    [
        ("mkv", "", "mkvpropedit"),
        ("mkv", "audio_filter: {languages: [eng]}", "mkvmerge"),
        ("mp4", "audio_filter: {languages: [eng]}", "ffmpeg"),
        ("mp4", "", "ffmpeg"),
    ],
)
def test_any_tag_is_written_verified_and_converges(
    tmp_path: Path, media_factory: MediaFactory, container: str, keep: str, tool: str
) -> None:
    movie = media_factory(MediaSpec(container=container, audio=TWO_AUDIO))
    if container == "mkv":
        tag_matroska(movie, tmp_path)
    policy = policy_file(tmp_path, keep)
    applied = run(tmp_path, "-p", str(policy), "--json", str(movie))
    assert applied.exit_code == ExitCode.OK, applied.output
    (entry,) = json.loads(applied.stdout)["files"]
    assert [p["tool"] for p in entry["phases"]] == [tool]
    tags = ffprobe_tags(movie)
    assert tags["comment"] == "Tagged by vpo"
    assert "stale" not in tags
    if container == "mkv":
        assert tags["director"] == "Jane & <Doe>"
        assert tags["keeper"] == "kept as it was"  # the other global tags stay
    else:
        assert "director" not in tags  # MP4 cannot hold it: the plan warned
    again = run(tmp_path, "-p", str(policy), "--dry-run", "--json", str(movie))
    assert json.loads(again.stdout)["files"][0]["kind"] == "noop", again.output


def test_a_tag_the_container_cannot_hold_is_a_plan_warning(
    tmp_path: Path, media_factory: MediaFactory
) -> None:
    movie = media_factory(MediaSpec(container="ts", audio=(AudioSpec(language="eng"),)))
    before = movie.read_bytes()
    policy = policy_file(tmp_path, "")
    dry = run(tmp_path, "-p", str(policy), "--dry-run", "--json", str(movie))
    assert dry.exit_code == ExitCode.OK, dry.output
    (entry,) = json.loads(dry.stdout)["files"]
    assert entry["kind"] == "noop"
    assert "set_container_metadata: MPEG-TS cannot hold the tag 'comment'; not changed" in (
        dry.stdout
    )
    assert run(tmp_path, "-p", str(policy), str(movie)).exit_code == ExitCode.OK
    assert movie.read_bytes() == before


def test_a_tag_the_tool_did_not_write_fails_the_file_and_leaves_it(
    tmp_path: Path, media_factory: MediaFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    movie = media_factory(MediaSpec(container="mkv", audio=(AudioSpec(language="eng"),)))
    before = movie.read_bytes()
    lazy = tmp_path / "mkvpropedit"
    lazy.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")  # "succeeds", writes nothing
    lazy.chmod(0o755)
    monkeypatch.setenv("VPO_TOOLS_MKVPROPEDIT", str(lazy))
    applied = run(tmp_path, "-p", str(policy_file(tmp_path, "")), str(movie))
    assert applied.exit_code == ExitCode.FILES_FAILED, applied.output
    assert "container tag 'comment' is None, plan says 'Tagged by vpo'" in applied.output
    assert "Traceback" not in applied.output
    assert movie.read_bytes() == before
    assert sorted(p.name for p in movie.parent.iterdir() if p.name.startswith(".vpo")) == []
