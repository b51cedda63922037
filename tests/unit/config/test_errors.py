"""Every configuration error is one line naming where the bad value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.config import load_config
from vpo.errors import ConfigError, ExitCode


def load_text(tmp_path: Path, text: str) -> str:
    """Load ``text`` as the config file; the error message with the path shortened."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(env={"VPO_CONFIG": str(path)})
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.exit_code == ExitCode.USAGE
    return message.replace(str(path), "config.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "# settings\n\n[processing]\nworkers = 2\nwokers = 3\n",
            "config.toml:5: unknown key 'wokers' in [processing] (did you mean 'workers'?)",
        ),
        (
            "[jobs]\nzzz = 1\n",
            "config.toml:2: unknown key 'zzz' in [jobs]",
        ),
        (
            "[tools]\n[procesing]\nworkers = 3\n",
            "config.toml:2: unknown section [procesing] (did you mean [processing]?)",
        ),
        (
            "workers = 3\n",
            "config.toml:1: unknown key 'workers' at top level; it belongs in [processing]",
        ),
        (
            "[processing.limits]\ncpu = 3\n",
            "config.toml:1: unknown key 'limits' in [processing]",
        ),
        (
            "processing = 3\n",
            "config.toml:1: 'processing' must be a table ([processing])",
        ),
        (
            "[processing]\nworkers = 0\n",
            "config.toml:2: processing.workers must be at least 1, got 0",
        ),
        (
            '[processing]\nworkers = "four"\n',
            'config.toml:2: processing.workers must be an integer, got "four"',
        ),
        (
            "[processing]\nworkers = 2.5\n",
            "config.toml:2: processing.workers must be an integer, got 2.5",
        ),
        (
            '[processing]\nmax_workers = "lots"\n',
            'config.toml:2: processing.max_workers must be a whole number of at least 1 or "auto", '
            'got "lots"',
        ),
        (
            '[processing]\nencode_resources = "GPU"\n',
            'config.toml:2: processing.encode_resources must be NAME=AMOUNT entries, e.g. "GPU=1" '
            '(as dask worker --resources), got "GPU"',
        ),
        (
            '[processing]\nexecutor = "dask:/x"\n',
            'config.toml:2: processing.executor must be "threads", "processes" or '
            '"dask://HOST:PORT", got "dask:/x"',
        ),
        (
            '[jobs]\n\nkeep_backup = "yes"\n',
            'config.toml:3: jobs.keep_backup must be true or false, got "yes"',
        ),
        (
            "[jobs]\nstable_seconds = -1\n",
            "config.toml:2: jobs.stable_seconds must be at least 0, got -1",
        ),
        (
            "[tools]\nprobe_timeout = 0\n",
            "config.toml:2: tools.probe_timeout must be greater than 0, got 0",
        ),
        (
            "[tools]\nprobe_timeout = inf\n",
            "config.toml:2: tools.probe_timeout must be a finite number, got inf",
        ),
        (
            "[tools]\nffmpeg = 5\n",
            "config.toml:2: tools.ffmpeg must be a path (string), got 5",
        ),
        (
            '[discovery]\nextensions = "mkv"\n',
            'config.toml:2: discovery.extensions must be a list of strings, got "mkv"',
        ),
        (
            "[discovery]\nextensions = []\n",
            "config.toml:2: discovery.extensions must list at least one extension, got []",
        ),
        (
            "[processing]\nworkers = \n",
            "config.toml:2: invalid TOML: Invalid value (column 11)",
        ),
    ],
)
def test_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert load_text(tmp_path, text) == expected


def test_environment_constraint_error_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"VPO_PROCESSING_WORKERS": "0"})
    assert str(caught.value) == (
        "environment variable VPO_PROCESSING_WORKERS: processing.workers must be at least 1, got 0"
    )


def test_cli_error_names_the_option() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"processing.workers": 0}, env={})
    assert str(caught.value) == "option --workers: processing.workers must be at least 1, got 0"


def test_config_path_pointing_at_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"VPO_CONFIG": str(tmp_path)})
    assert (
        str(caught.value) == f"{tmp_path}: config file is a directory; point VPO_CONFIG at a file"
    )
