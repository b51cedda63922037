from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpo.config.toml_file import (
    find_key_line,
    find_section_line,
    parse_config_text,
    read_config_file,
)
from vpo.errors import ConfigError

SAMPLE = """\
# comment mentioning workers = 9
library.database = "/x.db"

[tools]
ffmpeg = "/opt/ffmpeg"
"probe_timeout" = 30

[ processing ]  # trailing comment
  workers=3

[jobs]
keep_backup = true
"""


@pytest.mark.parametrize(
    ("section", "key", "line"),
    [
        ("tools", "ffmpeg", 5),
        ("tools", "probe_timeout", 6),
        ("processing", "workers", 9),
        ("library", "database", 2),
        ("processing", "max_workers", None),
        ("jobs", "keep_backup", 12),
        ("jobs", "temp_dir", None),
    ],
)
def test_find_key_line(section: str, key: str, line: int | None) -> None:
    assert find_key_line(SAMPLE, section, key) == line


@pytest.mark.parametrize(
    ("section", "line"),
    [("tools", 4), ("processing", 8), ("jobs", 11), ("library", 2), ("discovery", None)],
)
def test_find_section_line(section: str, line: int | None) -> None:
    assert find_section_line(SAMPLE, section) == line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[processing]\nworkers = = 2\n", "c.toml:2: invalid TOML: Invalid value (column 11)"),
        ("[jobs]\nkeep_backup = yes\n", "c.toml:2: invalid TOML: Invalid value (column 15)"),
        ("[tools\n", "c.toml:1: invalid TOML:"),
        ('[tools]\nffmpeg = "/x\n', "c.toml:2: invalid TOML:"),
    ],
)
def test_invalid_toml_names_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, Path("c.toml"))
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_missing_file_is_not_an_error(tmp_path: Path) -> None:
    assert read_config_file(tmp_path / "config.toml") is None


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file is a directory"):
        read_config_file(tmp_path)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[tools]\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"config\.toml:2: config file is not UTF-8 text"):
        read_config_file(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[tools]\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read config file: permission denied"):
        read_config_file(path)


def test_parsed_file_keeps_text_for_locations(tmp_path: Path) -> None:
    path = tmp_path / "odd name 'é'.toml"
    path.write_text(SAMPLE, encoding="utf-8")
    parsed = read_config_file(path)
    assert parsed is not None
    assert parsed.data["processing"] == {"workers": 3}
    assert parsed.location("processing", "workers") == f"{path}:9"
    assert parsed.location("discovery") == str(path)
