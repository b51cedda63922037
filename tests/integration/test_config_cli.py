"""``vpo config show/path`` and ``vpo init`` through click's CliRunner.

The root conftest points HOME, the XDG dirs and VPO_CONFIG into a temp dir;
these tests set VPO_CONFIG themselves where the file matters.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.config import load_config
from vpo.config.template import config_template
from vpo.errors import ExitCode
from vpo.policy.loader import parse_policy


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "my config" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("VPO_CONFIG", str(path))
    for name in list(os.environ):
        if name.startswith("VPO_") and name != "VPO_CONFIG":
            monkeypatch.delenv(name)
    return path


def vpo(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_show_lists_every_value_with_its_source(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text("[processing]\nworkers = 3\n")
    monkeypatch.setenv("VPO_JOBS_KEEP_BACKUP", "yes")
    result = vpo("config", "show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"config file: {config_file}  (exists; from VPO_CONFIG)"
    normalised = [" ".join(line.split()) for line in lines]
    assert f"workers = 3 # file {config_file}:2" in normalised
    keep_backup = next(line for line in lines if line.strip().startswith("keep_backup"))
    assert keep_backup.split() == ["keep_backup", "=", "true", "#", "env", "VPO_JOBS_KEEP_BACKUP"]
    max_workers = next(line for line in lines if line.strip().startswith("max_workers"))
    assert max_workers.split() == ["max_workers", "=", '"auto"', "#", "default"]
    for section in ("[tools]", "[library]", "[discovery]", "[processing]", "[jobs]"):
        assert section in lines


def test_show_json(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('[tools]\nffmpeg = "/opt/ff mpeg"\n')
    monkeypatch.setenv("VPO_DISCOVERY_EXTENSIONS", "mkv,MP4")
    result = vpo("config", "show", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["schema"] == "vpo.config/1"
    assert document["config_file"] == {"path": str(config_file), "exists": True, "from_env": True}
    settings = document["settings"]
    assert settings["tools"]["ffmpeg"] == {
        "value": "/opt/ff mpeg",
        "source": f"file {config_file}:2",
        "env": "VPO_TOOLS_FFMPEG",
    }
    assert settings["discovery"]["extensions"]["value"] == ["mkv", "mp4"]
    assert settings["discovery"]["extensions"]["source"] == "env VPO_DISCOVERY_EXTENSIONS"
    assert settings["processing"]["workers"] == {
        "value": 2,
        "source": "default",
        "env": "VPO_PROCESSING_WORKERS",
    }
    assert settings["library"]["database"]["value"].endswith("vpo/library.db")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[processing]\nwokers = 3\n",
            ":2: unknown key 'wokers' in [processing] (did you mean 'workers'?)",
        ),
        ("[processing]\nworkers = 0\n", ":2: processing.workers must be at least 1, got 0"),
        ("[jobs\n", ":1: invalid TOML:"),
    ],
)
def test_broken_config_is_one_line_and_exit_2(config_file: Path, text: str, message: str) -> None:
    config_file.write_text(text)
    result = vpo("config", "show")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.startswith(f"vpo: {config_file}{message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_bad_environment_variable_is_named(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPO_PROCESSING_WORKERS", "many")
    result = vpo("config", "show", "--json")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        "vpo: environment variable VPO_PROCESSING_WORKERS: processing.workers must be an "
        'integer, got "many"\n'
    )


def test_path_reports_existence_without_reading(config_file: Path) -> None:
    assert vpo("config", "path").stdout == (
        f"{config_file}  (does not exist: defaults apply; from VPO_CONFIG)\n"
    )
    config_file.write_text("this is not TOML [")
    result = vpo("config", "path")
    assert result.exit_code == 0
    assert result.stdout == f"{config_file}  (exists; from VPO_CONFIG)\n"


def test_path_default_location_is_in_the_xdg_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VPO_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert vpo("config", "path").stdout == (
        f"{tmp_path / 'xdg' / 'vpo' / 'config.toml'}  (does not exist: defaults apply; "
        "default location)\n"
    )


def test_init_writes_the_commented_template_and_a_starter_policy(config_file: Path) -> None:
    result = vpo("init")
    assert result.exit_code == 0, result.output
    policy = config_file.with_name("policy.yaml")
    assert result.stdout == (
        f"wrote configuration: {config_file}\nwrote starter policy: {policy}\n"
    )
    assert config_file.read_text(encoding="utf-8") == config_template()
    assert parse_policy(policy.read_text(encoding="utf-8"), str(policy)).phases[0].name == "tidy"
    assert vpo("policy", "validate", str(policy)).exit_code == 0
    # every setting is commented out: the file changes nothing
    assert set(load_config().sources.values()) == {"default"}
    assert not [p.name for p in config_file.parent.iterdir() if p.name.startswith(".vpo-")]


def test_init_refuses_to_overwrite_without_force(config_file: Path) -> None:
    config_file.write_text("[processing]\nworkers = 4\n")
    result = vpo("init")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"vpo: {config_file}: already exists; use --force to overwrite\n"
    assert config_file.read_text() == "[processing]\nworkers = 4\n"
    forced = vpo("init", "--force")
    assert forced.exit_code == 0
    assert config_file.read_text(encoding="utf-8") == config_template()


@pytest.mark.parametrize("name", ["new dir", "-dash 'quoted' ü", "odd\nname"])
def test_init_path_to_a_directory(config_file: Path, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    result = vpo("init", "--path", str(target))
    assert result.exit_code == 0, result.output
    written = target / "config.toml"
    assert written.read_text(encoding="utf-8") == config_template()
    shown = str(written).replace("\n", "\\n")  # one line even for a newline in the name
    assert f"set VPO_CONFIG={shown} to use this file" in result.stdout
    assert result.stdout.count("\n") == 3  # config, starter policy, the VPO_CONFIG hint
    assert (target / "policy.yaml").is_file()


def test_init_path_to_a_toml_file(config_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "vpo.toml"
    result = vpo("init", "--path", str(target))
    assert result.exit_code == 0, result.output
    assert target.is_file()


def test_init_into_an_impossible_place_is_one_line(config_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = vpo("init", "--path", str(blocker / "config.toml"))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"vpo: {blocker / 'config.toml'}: cannot write: ")
    assert result.stderr.count("\n") == 1
