"""Shared fixtures: real tools, generated media, and isolation from the real home.

Media is generated once per test session per spec (shared between xdist
workers through a lock) and every test gets its own fresh copy, because tests
modify files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import settings

from vpo.testmedia.factory import BrokenKind, generate_broken, generate_media
from vpo.testmedia.spec import MediaSpec
from vpo.tools.locate import ToolPaths, locate_tools

# No per-example deadline anywhere: a busy 2-core machine must not turn slow examples
# into failures. In CI the examples are derived from each test, so a run is repeatable.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

MediaFactory = Callable[..., Path]
BrokenFactory = Callable[..., Path]

# Bump when the factory changes what it writes for an unchanged spec.
_CACHE_VERSION = "1"


@pytest.fixture(autouse=True)
def isolated_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Point HOME, the XDG dirs and VPO_CONFIG into a temp dir; drop every VPO_* variable.

    Kept outside ``tmp_path`` so tests that list their tmp dir see only their files.
    """
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("VPO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    for variable, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(variable, str(home / sub))
    config = home / ".config" / "vpo" / "config.toml"
    config.parent.mkdir()
    config.write_text("", encoding="utf-8")  # empty: every setting at its default
    monkeypatch.setenv("VPO_CONFIG", str(config))
    yield home


@pytest.fixture(scope="session")
def tools() -> ToolPaths:
    """The real ffmpeg/ffprobe/mkvmerge/mkvpropedit; a clear failure when one is missing."""
    found = locate_tools()
    if found.missing():
        pytest.fail(
            f"required tools not found on PATH: {', '.join(found.missing())}; "
            "run ./quickstart.sh test (it installs ffmpeg and mkvtoolnix)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per test run; under xdist the workers share it."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "vpo-media-cache"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("vpo-media-cache")


def _cached(cache: Path, key: str, suffix: str, make: Callable[[Path], Path]) -> Path:
    digest = hashlib.sha256(f"{_CACHE_VERSION}:{key}".encode()).hexdigest()[:20]
    cached = cache / f"{digest}{suffix}"
    with FileLock(str(cache / f"{digest}.lock")):
        if not cached.exists():
            make(cached)
    return cached


def _fresh_copy(source: Path, directory: Path, name: str) -> Path:
    target = directory / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


@pytest.fixture
def media_factory(tools: ToolPaths, media_cache: Path, tmp_path: Path) -> MediaFactory:
    """``media_factory(spec, name=None) -> Path``: a fresh copy of the file for ``spec``.

    ``name`` (default ``movie`` + the container's suffix) may contain folders
    and any characters a file name can; the copy lands in the test's tmp_path.
    """

    def make(spec: MediaSpec, name: str | None = None) -> Path:
        cached = _cached(
            media_cache, repr(spec), spec.suffix, lambda path: generate_media(spec, path, tools)
        )
        return _fresh_copy(cached, tmp_path, name or f"movie{spec.suffix}")

    return make


@pytest.fixture
def broken_factory(tools: ToolPaths, media_cache: Path, tmp_path: Path) -> BrokenFactory:
    """``broken_factory(kind, name=None) -> Path``: a fresh broken file in tmp_path."""

    def make(kind: BrokenKind, name: str | None = None) -> Path:
        cached = _cached(
            media_cache,
            f"broken:{kind.value}",
            ".bin",
            lambda path: generate_broken(kind, path, tools),
        )
        return _fresh_copy(cached, tmp_path, name or f"{kind.value}.mkv")

    return make
