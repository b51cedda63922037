"""Verification that can fail: a tool that exits 0 but writes the wrong thing.

tests/stubs/lie runs the real tool, then alters its output (the wrong language,
order or default flag, or a dropped track) and exits 0. Every time the write is
refused, the original is byte-identical, nothing is left beside it, and the error
names the track, the field, what the plan says and what was found. Disabling the
``if mismatches:`` branch of vpo.apply.verify makes every case here fail.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.policies import REORDER_POLICY
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.testmedia.two_phase import METADATA_POLICY as METADATA
from vpo.testmedia.two_phase import REMUX_POLICY as REMUX
from vpo.testmedia.two_phase import SPEC

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
LIE = Path(__file__).resolve().parents[1] / "stubs" / "lie"

MP4 = MediaSpec(
    container="mp4", audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)

# MP4 → one ffmpeg remux putting English first
MP4_ORDER = REORDER_POLICY


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(tmp_path / "lib.sqlite"), *args])


@pytest.fixture
def lying(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, dict[str, str]], None]:
    """Route ``tool`` through the lying stub with the given alteration."""

    def route(tool: str, alteration: dict[str, str]) -> None:
        real = {name: shutil.which(name) or name for name in ("mkvmerge", "mkvpropedit", "ffmpeg")}
        monkeypatch.setenv(f"VPO_TOOLS_{tool.upper()}", str(LIE))
        monkeypatch.setenv("VPO_STUB_REAL", real[tool])
        monkeypatch.setenv("VPO_STUB_MKVMERGE", real["mkvmerge"])
        monkeypatch.setenv("VPO_STUB_MKVPROPEDIT", real["mkvpropedit"])
        monkeypatch.setenv("VPO_STUB_FFMPEG_REAL", real["ffmpeg"])
        for name, value in alteration.items():
            monkeypatch.setenv(f"VPO_STUB_{name}", value)
        monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")

    return route


def refused(tmp_path: Path, media: Path, policy_text: str) -> tuple[str, dict[str, object]]:
    """Run vpo process on ``media`` and return its one-line error and the JSON entry."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    result = run(tmp_path, "-p", str(policy), "--json", str(media))
    assert result.exit_code == ExitCode.FILES_FAILED, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["status"] == "failed"
    return str(entry["error"]), entry


# (tool, alteration, the words the error must contain: track, field, found, expected)
REMUX_LIES = {
    "wrong language": (
        {"EDIT": "--edit track:a1 --set language=hun"},
        "track 1 (audio): language is 'hun', plan says 'eng'",
    ),
    "wrong order": (
        {"REMUX": "--track-order 0:0,0:2,0:1,0:3"},
        "track 1 (audio): language is 'fre', plan says 'eng'",
    ),
    "wrong default flag": (
        {"EDIT": "--edit track:a1 --set flag-default=0"},
        "track 1 (audio): default is False, plan says True",
    ),
    "dropped track": (
        {"REMUX": "--no-subtitles"},
        "tracks are [video, audio, audio], plan says [video, audio, audio, subtitle]",
    ),
}


@pytest.mark.parametrize("lie", sorted(REMUX_LIES))
def test_a_lying_mkvmerge_is_refused_and_the_original_stays(
    lie: str,
    media_factory: MediaFactory,
    lying: Callable[[str, dict[str, str]], None],
    tmp_path: Path,
) -> None:
    alteration, named = REMUX_LIES[lie]
    media = media_factory(SPEC, "lib/movie.mkv")
    original = media.read_bytes()
    lying("mkvmerge", alteration)
    error, _ = refused(tmp_path, media, REMUX)
    assert error.startswith(f"phase 'filter+order': verification failed: {named}")
    assert media.read_bytes() == original
    assert sorted(p.name for p in media.parent.iterdir()) == ["movie.mkv"]


IN_PLACE_LIES = {
    "wrong language": (
        {"EDIT": "--edit track:a2 --set language=hun"},
        "track 2 (audio): language is 'hun', plan says 'eng'",
    ),
    "wrong default flag": (
        {"EDIT": "--edit track:a1 --set flag-default=1"},
        "track 1 (audio): default is True, plan says False",
    ),
    "wrong title": (
        {"EDIT": "--edit track:a1 --set name=Deutsch"},
        "track 1 (audio): title is 'Deutsch', plan says 'Francais'",
    ),
}


@pytest.mark.parametrize("lie", sorted(IN_PLACE_LIES))
def test_a_lying_in_place_edit_is_undone_byte_for_byte(
    lie: str,
    media_factory: MediaFactory,
    lying: Callable[[str, dict[str, str]], None],
    tmp_path: Path,
) -> None:
    alteration, named = IN_PLACE_LIES[lie]
    media = media_factory(MediaSpec(audio=SPEC.audio), "lib/movie.mkv")
    original, before = media.read_bytes(), media.stat()
    lying("mkvpropedit", alteration)
    error, _ = refused(tmp_path, media, METADATA)
    assert error.startswith(f"phase 'flags+titles': verification failed: {named}")
    assert media.read_bytes() == original
    assert (media.stat().st_ino, media.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in media.parent.iterdir()) == ["movie.mkv"]


FFMPEG_LIES = {
    "wrong language": (
        {"FFMPEG": "-metadata:s:a:0 language=hun"},
        "track 1 (audio): language is 'hun', plan says 'eng'",
    ),
    "dropped track": (
        {"FFMPEG": "-map -0:a:1"},
        "tracks are [video, audio], plan says [video, audio, audio]",
    ),
}


@pytest.mark.parametrize("lie", sorted(FFMPEG_LIES))
def test_a_lying_ffmpeg_is_refused_and_the_original_stays(
    lie: str,
    media_factory: MediaFactory,
    lying: Callable[[str, dict[str, str]], None],
    tmp_path: Path,
) -> None:
    alteration, named = FFMPEG_LIES[lie]
    media = media_factory(MP4, "lib/clip.mp4")
    original = media.read_bytes()
    lying("ffmpeg", alteration)
    error, _ = refused(tmp_path, media, MP4_ORDER)
    assert error.startswith(f"phase 'order': verification failed: {named}")
    assert media.read_bytes() == original
    assert sorted(p.name for p in media.parent.iterdir()) == ["clip.mp4"]
