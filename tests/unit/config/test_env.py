from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.config.env import FALSE_WORDS, TRUE_WORDS, env_layer, parse_env_value
from vpo.config.keys import ALL_KEYS, KEYS_BY_DOTTED
from vpo.errors import ConfigError


def test_every_key_has_a_vpo_section_key_variable() -> None:
    names = {key.env_var for key in ALL_KEYS}
    assert "VPO_PROCESSING_WORKERS" in names
    assert "VPO_TOOLS_FFMPEG" in names
    assert "VPO_LIBRARY_DATABASE" in names
    assert "VPO_PROCESSING_MAX_WORKERS" in names
    assert len(names) == len(ALL_KEYS)


@pytest.mark.parametrize(
    ("variable", "raw", "dotted", "value"),
    [
        ("VPO_PROCESSING_WORKERS", "4", "processing.workers", 4),
        ("VPO_PROCESSING_WORKERS", " 7 ", "processing.workers", 7),
        ("VPO_PROCESSING_MAX_WORKERS", "auto", "processing.max_workers", "auto"),
        ("VPO_PROCESSING_MAX_WORKERS", "AUTO", "processing.max_workers", "auto"),
        ("VPO_PROCESSING_MAX_WORKERS", "12", "processing.max_workers", 12),
        ("VPO_TOOLS_FFMPEG", "/opt/ffmpeg", "tools.ffmpeg", "/opt/ffmpeg"),
        ("VPO_TOOLS_FFMPEG", "", "tools.ffmpeg", None),
        ("VPO_TOOLS_PROBE_TIMEOUT", "2.5", "tools.probe_timeout", 2.5),
        ("VPO_LIBRARY_DATABASE", "/data/lib.db", "library.database", "/data/lib.db"),
        (
            "VPO_DISCOVERY_EXTENSIONS",
            "mkv, mp4,,webm ",
            "discovery.extensions",
            ["mkv", "mp4", "webm"],
        ),
        ("VPO_JOBS_TEMP_DIR", "/scratch", "jobs.temp_dir", "/scratch"),
    ],
)
def test_values_are_parsed_to_the_field_type(
    variable: str, raw: str, dotted: str, value: object
) -> None:
    layer = env_layer({variable: raw})
    assert layer[dotted].value == value
    assert layer[dotted].source == f"env {variable}"


@pytest.mark.parametrize("word", sorted(TRUE_WORDS | {"TRUE", "Yes"}))
def test_true_words(word: str) -> None:
    assert env_layer({"VPO_JOBS_KEEP_BACKUP": word})["jobs.keep_backup"].value is True


@pytest.mark.parametrize("word", sorted(FALSE_WORDS | {"False", "NO"}))
def test_false_words(word: str) -> None:
    assert env_layer({"VPO_JOBS_PRESERVE_MTIME": word})["jobs.preserve_mtime"].value is False


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        (
            "VPO_PROCESSING_WORKERS",
            "four",
            "environment variable VPO_PROCESSING_WORKERS: processing.workers must be an integer, "
            'got "four"',
        ),
        (
            "VPO_PROCESSING_WORKERS",
            "2.5",
            "environment variable VPO_PROCESSING_WORKERS: processing.workers must be an integer, "
            'got "2.5"',
        ),
        (
            "VPO_JOBS_KEEP_BACKUP",
            "maybe",
            "environment variable VPO_JOBS_KEEP_BACKUP: jobs.keep_backup must be true or false, "
            'got "maybe"',
        ),
        (
            "VPO_TOOLS_PROBE_TIMEOUT",
            "soon",
            "environment variable VPO_TOOLS_PROBE_TIMEOUT: tools.probe_timeout must be a number, "
            'got "soon"',
        ),
        (
            "VPO_PROCESSING_MAX_WORKERS",
            "many",
            "environment variable VPO_PROCESSING_MAX_WORKERS: processing.max_workers must be "
            'a whole number or "auto", got "many"',
        ),
        (
            "VPO_LIBRARY_DATABASE",
            "",
            "environment variable VPO_LIBRARY_DATABASE: library.database must be a path (string), "
            'got ""',
        ),
    ],
)
def test_bad_value_names_the_variable(variable: str, raw: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        env_layer({variable: raw})
    assert str(caught.value) == expected


def test_unknown_key_in_a_known_section_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        env_layer({"VPO_PROCESSING_WOKERS": "3"})
    assert str(caught.value) == (
        "environment variable VPO_PROCESSING_WOKERS: unknown key in [processing] "
        "(did you mean VPO_PROCESSING_WORKERS?)"
    )


def test_other_vpo_variables_and_foreign_ones_are_ignored() -> None:
    env = {
        "VPO_CONFIG": "/x.toml",
        "VPO_DEBUG": "1",
        "PATH": "/bin",
        "VPOX_PROCESSING_WORKERS": "x",
    }
    assert env_layer(env) == {}


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_any_integer_text_round_trips(number: int) -> None:
    assert parse_env_value(KEYS_BY_DOTTED["processing.workers"], str(number)) == number


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1), max_size=8))
def test_comma_separated_lists_round_trip(items: list[str]) -> None:
    key = KEYS_BY_DOTTED["discovery.extensions"]
    assert parse_env_value(key, ",".join(items)) == items
