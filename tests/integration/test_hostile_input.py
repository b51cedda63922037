"""Hostile policies and config files through the real ``vpo`` executable.

Each case runs vpo in a child process with a memory cap and a timeout, so that
with a protection disabled the test fails (MemoryError, RecursionError, or the
timeout of a FIFO that blocks) instead of taking the machine down with it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from vpo.errors import ExitCode
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = pytest.mark.integration

VPO = str(Path(sys.executable).parent / "vpo")
MEMORY_CAP = 2 << 30  # bytes of address space for the child: /dev/zero read whole fails fast
MediaFactory = Callable[..., Path]

VALID = "schema_version: 12\nphases:\n  - name: p\n    audio_filter: {languages: [eng]}\n"


def billion_laughs() -> str:
    text = "schema_version: 12\nconfig:\n  x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, 10):
        text += f"  x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 9) + "]\n"
    return text + "phases:\n  - name: p\n"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def vpo(*args: str | Path, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            [VPO, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            preexec_fn=_cap_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"vpo {' '.join(map(str, args))} still ran after 60 s")
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def one_line_error(code: int, err: str) -> str:
    assert code == ExitCode.USAGE, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def make_path(kind: str, tmp_path: Path, content: str = VALID) -> Path:
    if kind == "/dev/zero":
        return Path("/dev/zero")
    path = tmp_path / f"{kind}.in"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "10 MB":
        with path.open("w", encoding="utf-8") as out:
            out.write(content)
            out.write(("# padding" + " " * 90 + "\n") * 100_000)
    else:
        path.write_text(content, encoding="utf-8")
    return path


UNREADABLE = [
    ("/dev/zero", "is a character device; a policy file must be a regular file"),
    ("fifo", "is a FIFO (named pipe); a policy file must be a regular file"),
    ("directory", "is a directory, not a policy file"),
    ("10 MB", "is 9.5 MiB; a policy file may be at most 1 MiB"),
]


@pytest.mark.parametrize(("kind", "message"), UNREADABLE, ids=[k for k, _ in UNREADABLE])
def test_policy_validate_refuses_what_is_not_a_small_file(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = make_path(kind, tmp_path)
    code, out, err = vpo("policy", "validate", path)
    assert out == ""
    assert one_line_error(code, err) == f"{path}: {message}"


@pytest.mark.parametrize(("kind", "message"), UNREADABLE, ids=[k for k, _ in UNREADABLE])
def test_process_refuses_such_a_policy_before_any_file(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = make_path(kind, tmp_path)
    media = tmp_path / "media"
    media.mkdir()
    code, _, err = vpo("process", "-p", path, "--dry-run", media)
    assert one_line_error(code, err) == f"vpo: {path}: {message}"


HOSTILE_YAML = [
    ("billion laughs", billion_laughs(), "more than 10,000 values"),
    ("50,000 deep flow", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested deeper than 64"),
    ("50,000 deep block", "a:\n" + "- " * 50_000 + "x\n", "nested deeper than 64 levels"),
    ("5,000 digits", "schema_version: " + "1" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in HOSTILE_YAML], ids=[c[0] for c in HOSTILE_YAML]
)
def test_hostile_yaml_gives_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = make_path("policy", tmp_path, text)
    code, _, err = vpo("policy", "validate", path)
    line = one_line_error(code, err)
    assert line.startswith(f"{path}")
    assert "YAML error: " in line
    assert message in line


CONFIG_CASES = [
    ("/dev/zero", "is a character device; a config file must be a regular file"),
    ("fifo", "is a FIFO (named pipe); a config file must be a regular file"),
    ("directory", "config file is a directory; point VPO_CONFIG at a file"),
    ("10 MB", "is 9.5 MiB; a config file may be at most 1 MiB"),
    ("deep array", "invalid TOML: arrays or inline tables nested too deeply"),
    ("deep inline table", "invalid TOML: arrays or inline tables nested too deeply"),
    ("long dotted key", "key or table name has more than 32 dotted parts"),
    ("long table name", "key or table name has more than 32 dotted parts"),
]
CONFIG_TEXT = {
    "deep array": "x = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep inline table": "x = " + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n",
    "long dotted key": "[processing]\n" + ".".join(["a"] * 50_000) + " = 1\n",
    "long table name": "[[" + ".".join(["a"] * 50_000) + "]]\n",
}


@pytest.mark.parametrize(("kind", "message"), CONFIG_CASES, ids=[k for k, _ in CONFIG_CASES])
def test_config_show_refuses_hostile_config(tmp_path: Path, kind: str, message: str) -> None:
    text = CONFIG_TEXT.get(kind, "[processing]\nworkers = 1\n")
    path = make_path(kind if kind not in CONFIG_TEXT else "config", tmp_path, text)
    code, _, err = vpo("config", "show", env={"VPO_CONFIG": str(path)})
    line = one_line_error(code, err)
    assert line.startswith(f"vpo: {path}")
    assert message in line


REDOS_POLICY = """\
schema_version: 12
config:
  commentary_patterns: ["(a+)+$"]
phases:
  - name: order
    track_order: [video, audio_main, audio_commentary]
    conditional:
      - name: hostile
        when: {exists: {track_type: audio, title: {regex: "^(a|aa)+$"}}}
        then: [{warn: "matched"}]
"""


def test_redos_policy_on_a_hostile_title_finishes(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    spec = MediaSpec(
        container="mkv",
        audio=(AudioSpec(language="eng", default=True, title="a" * 40 + "!"), AudioSpec()),
    )
    movie = media_factory(spec)
    policy = make_path("policy", tmp_path, REDOS_POLICY)
    code, out, err = vpo(
        "process", "-p", policy, "--dry-run", "--json", "--db", tmp_path / "db", movie
    )
    assert code == ExitCode.OK, err
    # Neither pattern matches the title (the correct answer): the hostile track
    # stays main audio, so nothing moves, and the conditional does not warn.
    (planned,) = json.loads(out)["files"]
    assert planned["kind"] == "noop"
    assert planned["phases"][0]["plan"]["warnings"] == []


def test_validate_names_a_pattern_re2_cannot_run(tmp_path: Path) -> None:
    text = (
        "schema_version: 12\nconfig:\n  commentary_patterns: ['(dir)\\1']\nphases:\n  - name: p\n"
    )
    path = make_path("policy", tmp_path, text)
    code, _, err = vpo("policy", "validate", path)
    line = one_line_error(code, err)
    assert line.startswith(f"{path}:3: config.commentary_patterns[0]: regular expression")
    assert "is not supported" in line
    assert "backreferences" in line
