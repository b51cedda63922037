"""``[integrations.sonarr]``-style sub-tables: file, environment, errors, ``[watch]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.config import load_config
from vpo.errors import ConfigError


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sub_tables_load_from_the_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[integrations.radarr]\npolicy = "films"\npath_map = ["/movies=/srv/films"]\n'
        '[integrations.sonarr]\nurl = "http://sonarr:8989"\n'
        '[watch]\nfolders = ["/media/in=anime"]\n',
    )
    loaded = load_config(env={"VPO_CONFIG": str(path)})
    radarr = loaded.config.integrations.radarr
    assert (radarr.policy, radarr.path_map) == ("films", ("/movies=/srv/films",))
    assert loaded.config.integrations.sonarr.url == "http://sonarr:8989"
    assert loaded.config.watch.folders == ("/media/in=anime",)
    assert loaded.sources["integrations.radarr.policy"].startswith("file ")


def test_environment_overrides_a_sub_table(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[integrations.radarr]\npolicy = "films"\n')
    loaded = load_config(env={"VPO_CONFIG": str(path), "VPO_INTEGRATIONS_RADARR_POLICY": "other"})
    assert loaded.config.integrations.radarr.policy == "other"
    assert loaded.sources["integrations.radarr.policy"] == "env VPO_INTEGRATIONS_RADARR_POLICY"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[integrations.radarr]\npolicyy = "x"\n',
            "unknown key 'policyy' in [integrations.radarr]",
        ),
        ('[integrations.lidarr]\nurl = "x"\n', "unknown section [integrations.lidarr]"),
        ("[integrations.radarr]\npath_map = 3\n", "integrations.radarr.path_map"),
    ],
)
def test_sub_table_mistakes_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(env={"VPO_CONFIG": str(path)})


def test_unknown_sub_table_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="VPO_INTEGRATIONS_RADARR_APIKEY: unknown key"):
        load_config(env={"VPO_INTEGRATIONS_RADARR_APIKEY": "x"})
