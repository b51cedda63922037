"""Version banners of the four tools, captured from real builds, and doctor's verdicts."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.tools.versions import (
    FEATURES,
    MINIMUM_VERSIONS,
    ToolState,
    ToolVersion,
    UnrecognisedVersionError,
    assess_tool,
    at_least,
    check_tool,
    parse_ffmpeg_version,
    parse_mkvtoolnix_version,
    parse_version_output,
    read_tool_version,
)

# First lines of `-version` / `--version` as printed by real builds.
DEBIAN_FFMPEG = """\
ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers
built with gcc 12 (Debian 12.2.0-14+deb12u1)
configuration: --prefix=/usr --extra-version=0+deb12u1 --toolchain=hardened
libavutil      57. 28.100 / 57. 28.100
"""
DEBIAN_FFPROBE = DEBIAN_FFMPEG.replace("ffmpeg version", "ffprobe version").replace(
    "2000-2026", "2007-2026"
)
MKVMERGE_74 = "mkvmerge v74.0.0 ('You Oughta Know') 64-bit\n"
MKVPROPEDIT_74 = "mkvpropedit v74.0.0 ('You Oughta Know') 64-bit\n"


@pytest.mark.parametrize(
    ("tool", "output", "text", "number"),
    [
        ("ffmpeg", DEBIAN_FFMPEG, "5.1.9-0+deb12u1", (5, 1, 9)),
        ("ffprobe", DEBIAN_FFPROBE, "5.1.9-0+deb12u1", (5, 1, 9)),
        ("ffmpeg", "ffmpeg version n6.1.1 Copyright (c) 2000-2023", "n6.1.1", (6, 1, 1)),
        (
            "ffmpeg",
            "ffmpeg version 7.0.2-static https://johnvansickle.com/",
            "7.0.2-static",
            (7, 0, 2),
        ),
        ("ffmpeg", "ffmpeg version 7.1 Copyright (c) 2000-2024", "7.1", (7, 1)),
        (
            "ffmpeg",
            "ffmpeg version 6.0-full_build-www.gyan.dev Copyright",
            "6.0-full_build-www.gyan.dev",
            (6, 0),
        ),
        (
            "ffmpeg",
            "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright",
            "4.4.2-0ubuntu0.22.04.1",
            (4, 4, 2),
        ),
        # git snapshots carry no comparable release number
        (
            "ffmpeg",
            "ffmpeg version N-113000-g1a2b3c4d5e-20240101 Copyright",
            "N-113000-g1a2b3c4d5e-20240101",
            None,
        ),
        (
            "ffmpeg",
            "ffmpeg version 2024-03-04-git-e30369bc1c-full_build-www.gyan.dev Copyright",
            "2024-03-04-git-e30369bc1c-full_build-www.gyan.dev",
            None,
        ),
    ],
)
def test_parse_ffmpeg(tool: str, output: str, text: str, number: tuple[int, ...] | None) -> None:
    assert parse_ffmpeg_version(tool, output) == ToolVersion(tool, text, number)


@pytest.mark.parametrize(
    ("tool", "output", "number"),
    [
        ("mkvmerge", MKVMERGE_74, (74, 0, 0)),
        ("mkvpropedit", MKVPROPEDIT_74, (74, 0, 0)),
        ("mkvmerge", "mkvmerge v9.8.0 ('Kuglblitz') 64bit\n", (9, 8, 0)),
        ("mkvmerge", "mkvmerge v88.0 ('All I Know So Far') 64-bit\n", (88, 0)),
    ],
)
def test_parse_mkvtoolnix(tool: str, output: str, number: tuple[int, ...]) -> None:
    parsed = parse_mkvtoolnix_version(tool, output)
    assert parsed.number == number
    assert parsed.text == "v" + ".".join(map(str, number))


@pytest.mark.parametrize(
    ("tool", "output"),
    [
        ("ffmpeg", DEBIAN_FFPROBE),  # the ffprobe banner is not ffmpeg's
        ("mkvpropedit", MKVMERGE_74),
        ("mkvmerge", "Usage: something else\n"),
        ("ffprobe", ""),
    ],
)
def test_foreign_output_is_unrecognised(tool: str, output: str) -> None:
    with pytest.raises(UnrecognisedVersionError):
        parse_version_output(tool, output)


def test_unknown_tool_is_rejected() -> None:
    with pytest.raises(ValueError, match="mkvextract"):
        parse_version_output("mkvextract", "mkvextract v74.0.0")


@given(st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)))
def test_any_release_number_round_trips(number: tuple[int, int, int]) -> None:
    dotted = ".".join(map(str, number))
    assert parse_ffmpeg_version("ffmpeg", f"ffmpeg version {dotted} Copyright").number == number
    assert parse_mkvtoolnix_version("mkvmerge", f"mkvmerge v{dotted} ('x') 64-bit").number == number


def test_minimums_and_features_cover_all_four_tools() -> None:
    assert (
        set(MINIMUM_VERSIONS) == set(FEATURES) == {"ffprobe", "ffmpeg", "mkvmerge", "mkvpropedit"}
    )
    assert MINIMUM_VERSIONS["ffmpeg"] == (5, 0)
    assert MINIMUM_VERSIONS["mkvmerge"] == (60, 0)


@pytest.mark.parametrize(
    ("tool", "number", "state"),
    [
        ("ffmpeg", (5, 0), ToolState.OK),
        ("ffmpeg", (5, 1, 9), ToolState.OK),
        ("ffmpeg", (4, 4, 2), ToolState.TOO_OLD),
        ("ffprobe", (4, 99), ToolState.TOO_OLD),
        ("mkvmerge", (59, 0, 0), ToolState.TOO_OLD),
        ("mkvmerge", (60,), ToolState.OK),
        ("mkvpropedit", (74, 0, 0), ToolState.OK),
        ("ffmpeg", None, ToolState.UNKNOWN_VERSION),
    ],
)
def test_assess_version(tool: str, number: tuple[int, ...] | None, state: ToolState) -> None:
    status = assess_tool(tool, f"/bin/{tool}", ToolVersion(tool, "x", number))
    assert status.state is state
    assert status.state.usable is (state in (ToolState.OK, ToolState.UNKNOWN_VERSION))


def test_assess_too_old_message() -> None:
    status = assess_tool("ffmpeg", "/opt/ffmpeg", ToolVersion("ffmpeg", "4.4.2", (4, 4, 2)))
    assert status.detail == "version 4.4.2 is older than the minimum 5.0"
    assert status.unavailable == FEATURES["ffmpeg"]


def test_assess_missing_says_where_it_looked() -> None:
    assert assess_tool("mkvmerge", None).detail == "not on PATH"
    configured = assess_tool("mkvmerge", None, configured="/opt/mkvmerge")
    assert configured.state is ToolState.MISSING
    assert configured.detail == "configured path /opt/mkvmerge not found"


def test_assess_broken_keeps_the_error() -> None:
    status = assess_tool("ffprobe", "/x/ffprobe", error="'ffprobe -version' failed (exit 1): boom")
    assert status.state is ToolState.BROKEN
    assert status.detail == "'ffprobe -version' failed (exit 1): boom"


def write_stub(directory: Path, name: str, body: str) -> Path:
    """A tiny executable standing in for a tool (an old or broken build)."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_check_tool_with_an_old_stub(tmp_path: Path) -> None:
    stub = write_stub(tmp_path, "ffmpeg", 'echo "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright"')
    status = check_tool("ffmpeg", str(stub))
    assert status.state is ToolState.TOO_OLD
    assert status.version is not None and status.version.number == (4, 4, 2)


def test_check_tool_with_a_failing_stub(tmp_path: Path) -> None:
    stub = write_stub(tmp_path, "mkvmerge", 'echo "mkvmerge: cannot load libQt" >&2; exit 2')
    status = check_tool("mkvmerge", str(stub))
    assert status.state is ToolState.BROKEN
    assert status.detail == "'mkvmerge --version' failed (exit 2): mkvmerge: cannot load libQt"


def test_check_tool_with_a_foreign_program(tmp_path: Path) -> None:
    stub = write_stub(tmp_path, "mkvpropedit", 'echo "hello world"')
    status = check_tool("mkvpropedit", str(stub))
    assert status.state is ToolState.BROKEN
    assert status.detail == "does not look like mkvpropedit: hello world"


def test_check_tool_with_a_hanging_stub(tmp_path: Path) -> None:
    stub = write_stub(tmp_path, "ffprobe", "sleep 30")
    status = check_tool("ffprobe", str(stub), timeout=0.5)
    assert status.state is ToolState.BROKEN
    assert "timed out" in status.detail


@pytest.mark.integration
@pytest.mark.parametrize("tool", sorted(MINIMUM_VERSIONS))
def test_installed_tools_parse(tool: str) -> None:
    executable = shutil.which(tool)
    assert executable is not None, f"{tool} is not installed; run ./quickstart.sh test"
    version = read_tool_version(tool, executable)
    assert version.number is not None
    assert check_tool(tool, executable).state is ToolState.OK


@given(
    st.lists(st.integers(0, 99), min_size=1, max_size=4),
    st.lists(st.integers(0, 99), min_size=1, max_size=4),
)
def test_at_least_reads_missing_parts_as_zero(left: list[int], right: list[int]) -> None:
    padded_left = tuple(left + [0] * (4 - len(left)))
    padded_right = tuple(right + [0] * (4 - len(right)))
    assert at_least(tuple(left), tuple(right)) is (padded_left >= padded_right)


def test_check_tool_explains_an_unusable_configured_path(tmp_path: Path) -> None:
    not_executable = tmp_path / "ffmpeg"
    not_executable.write_text("#!/bin/sh\n")
    assert check_tool("ffmpeg", None, configured=str(not_executable)).detail == (
        f"configured path {not_executable} is not executable"
    )
    assert check_tool("ffmpeg", None, configured=str(tmp_path)).detail == (
        f"configured path {tmp_path} is a directory"
    )
    assert check_tool("ffmpeg", None, configured=str(tmp_path / "nope")).detail == (
        f"configured path {tmp_path / 'nope'} not found"
    )
