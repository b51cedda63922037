"""defaults < file < environment < command line, and where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.config import load_config
from vpo.config.keys import ALL_KEYS


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_file_gives_defaults_everywhere(tmp_path: Path) -> None:
    loaded = load_config(env={"VPO_CONFIG": str(tmp_path / "absent.toml")})
    assert loaded.file_exists is False
    assert loaded.path == tmp_path / "absent.toml"
    assert loaded.config.processing.workers == 2
    assert set(loaded.sources) == {key.dotted for key in ALL_KEYS}
    assert set(loaded.sources.values()) == {"default"}


def test_default_location_is_the_user_config_dir(tmp_path: Path) -> None:
    loaded = load_config(env={})
    assert loaded.path == tmp_path / "home/.config/vpo/config.toml"
    assert loaded.location.from_env is False


def test_file_overrides_default(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[processing]\n\nworkers = 3\n")
    loaded = load_config(env={"VPO_CONFIG": str(path)})
    assert loaded.file_exists is True
    assert loaded.config.processing.workers == 3
    assert loaded.sources["processing.workers"] == f"file {path}:3"
    assert loaded.sources["processing.max_workers"] == "default"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[processing]\nworkers = 3\n")
    loaded = load_config(env={"VPO_CONFIG": str(path), "VPO_PROCESSING_WORKERS": "5"})
    assert loaded.config.processing.workers == 5
    assert loaded.sources["processing.workers"] == "env VPO_PROCESSING_WORKERS"


def test_cli_overrides_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[processing]\nworkers = 3\n")
    env = {"VPO_CONFIG": str(path), "VPO_PROCESSING_WORKERS": "5"}
    loaded = load_config({"processing.workers": 7}, env=env)
    assert loaded.config.processing.workers == 7
    assert loaded.sources["processing.workers"] == "cli --workers"


def test_cli_option_not_given_leaves_lower_layers(tmp_path: Path) -> None:
    loaded = load_config({"processing.workers": None}, env={"VPO_PROCESSING_WORKERS": "5"})
    assert loaded.config.processing.workers == 5


def test_cli_flag_names_can_differ_from_the_key(tmp_path: Path) -> None:
    loaded = load_config(
        {"library.database": tmp_path / "x.db"}, env={}, cli_flags={"library.database": "--db"}
    )
    assert loaded.config.library.database == tmp_path / "x.db"
    assert loaded.sources["library.database"] == "cli --db"


def test_unknown_cli_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match=r"processing\.wokers"):
        load_config({"processing.wokers": 3}, env={})


def test_layers_mix_per_key(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[tools]\nffmpeg = "/opt/ffmpeg"\n[jobs]\nkeep_backup = true\nstable_seconds = 3\n',
    )
    env = {"VPO_CONFIG": str(path), "VPO_JOBS_KEEP_BACKUP": "no", "VPO_TOOLS_FFMPEG": ""}
    loaded = load_config({"jobs.stable_seconds": 0.5}, env=env)
    jobs = loaded.config.jobs
    assert (jobs.keep_backup, jobs.stable_seconds) == (False, 0.5)
    # an empty environment value puts an optional path back to "search PATH"
    assert loaded.config.tools.ffmpeg is None
    assert loaded.sources["tools.ffmpeg"] == "env VPO_TOOLS_FFMPEG"
    assert loaded.sources["jobs.keep_backup"] == "env VPO_JOBS_KEEP_BACKUP"
    assert loaded.sources["jobs.stable_seconds"] == "cli --stable-seconds"


LAYER_NAMES = ("file", "env", "cli")


@given(present=st.fixed_dictionaries({name: st.booleans() for name in LAYER_NAMES}))
def test_highest_layer_present_wins(
    tmp_path_factory: pytest.TempPathFactory, present: dict[str, bool]
) -> None:
    directory = tmp_path_factory.mktemp("layers")
    path = directory / "config.toml"
    values = {"file": 3, "env": 5, "cli": 7}
    if present["file"]:
        path.write_text(f"[processing]\nworkers = {values['file']}\n")
    env = {"VPO_CONFIG": str(path)}
    if present["env"]:
        env["VPO_PROCESSING_WORKERS"] = str(values["env"])
    overrides = {"processing.workers": values["cli"] if present["cli"] else None}
    loaded = load_config(overrides, env=env)
    winner = next((name for name in reversed(LAYER_NAMES) if present[name]), None)
    expected = values[winner] if winner else 2
    assert loaded.config.processing.workers == expected
    source = loaded.sources["processing.workers"]
    expected_prefix = {"file": "file ", "env": "env ", "cli": "cli ", None: "default"}[winner]
    assert source.startswith(expected_prefix)


def test_vpo_config_tilde_and_blank(tmp_path: Path) -> None:
    assert load_config(env={"VPO_CONFIG": "~/cfg.toml"}).path == tmp_path / "home/cfg.toml"
    assert load_config(env={"VPO_CONFIG": "  "}).location.from_env is False
