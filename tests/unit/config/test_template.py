from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from vpo.config import load_config
from vpo.config.keys import ALL_KEYS, default_values
from vpo.config.template import config_template, starter_files, toml_string
from vpo.config.toml_file import parse_config_text
from vpo.policy.loader import parse_policy

_SETTING_LINE = re.compile(r"^# (\w+ = .*)$")


def uncomment_settings(text: str) -> str:
    return "\n".join(_SETTING_LINE.sub(r"\1", line) for line in text.splitlines()) + "\n"


def test_untouched_template_is_valid_and_sets_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_template(), encoding="utf-8")
    loaded = load_config(env={"VPO_CONFIG": str(path)})
    assert set(loaded.sources.values()) == {"default"}


def test_every_key_is_documented_with_its_environment_variable() -> None:
    text = config_template()
    for key in ALL_KEYS:
        assert re.search(rf"^# (Example: )?{key.name} = ", text, re.MULTILINE), key.dotted
        assert f"# Environment: {key.env_var}\n" in text


def test_uncommenting_every_default_line_reproduces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(uncomment_settings(config_template()), encoding="utf-8")
    loaded = load_config(env={"VPO_CONFIG": str(path)})
    from_file = {dotted for dotted, source in loaded.sources.items() if source.startswith("file ")}
    defaults = default_values()
    # Keys whose default is "not set" stay commented out even in the uncommented template.
    with_defaults = {k.dotted for k in ALL_KEYS if defaults[k.dotted] is not None}
    assert from_file == with_defaults
    assert loaded.config == load_config(env={"VPO_CONFIG": str(tmp_path / "none.toml")}).config


def test_starter_files_are_the_config_and_a_valid_policy_beside_it(tmp_path: Path) -> None:
    files = starter_files(tmp_path / "config.toml")
    assert [f.path for f in files] == [tmp_path / "config.toml", tmp_path / "policy.yaml"]
    assert files[0].content == config_template()
    assert parse_policy(files[1].content, "policy.yaml").schema_version == 12


@given(st.text())
def test_toml_string_round_trips_any_text(text: str) -> None:
    assert parse_config_text(f"x = {toml_string(text)}", Path("t.toml")).data["x"] == text
