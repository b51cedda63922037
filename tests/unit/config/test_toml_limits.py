"""Bounded reading of config.toml: size, special files, deep nesting, long dotted keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vpo.config.toml_file import (
    MAX_CONFIG_BYTES,
    MAX_KEY_PARTS,
    parse_config_text,
    read_config_file,
)
from vpo.errors import ConfigError

C = Path("c.toml")


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, C)
    return str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 50_000 + "]" * 50_000 + "\n",
        "x = " + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n",
    ],
    ids=["arrays", "inline tables"],
)
def test_deep_nesting_is_one_error(text: str) -> None:
    assert error_of(text) == (
        "c.toml: invalid TOML: arrays or inline tables nested too deeply; "
        "vpo's settings need at most one level"
    )


# tomllib's time grows with the square of a dotted key's length; 5,000 parts
# take it about a second, 50,000 several minutes. These are refused before it.
LONG = ".".join(["a"] * 5_000)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"[processing]\n{LONG} = 1\n", 2),
        (f"[{LONG}]\n", 1),
        (f"[[{LONG}]]\n", 1),
        (f"x = {{{LONG} = 1}}\n", 1),
        ("[processing]\n" + " . ".join(['"a"'] * 5_000) + " = 1\n", 2),
    ],
    ids=["key", "table", "array of tables", "inline table", "quoted parts"],
)
def test_long_dotted_keys_are_refused_before_parsing(text: str, line: int) -> None:
    assert error_of(text) == (
        f"c.toml:{line}: key or table name has more than {MAX_KEY_PARTS} dotted parts; "
        "vpo's keys have two"
    )


def test_dots_in_values_and_keys_within_the_limit_are_fine() -> None:
    key = ".".join(["a"] * MAX_KEY_PARTS)
    text = (
        f"{key} = 1\n"
        f'x = ["{".".join(["v"] * 100)}", {", ".join(["1.5"] * 100)}]\n'
        f"y = '{'.' * 100}'\n"
    )
    assert parse_config_text(text, C).data["x"][0].count(".") == 99


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    # /dev/zero and FIFOs: tests/unit/test_input_file.py, and through the CLI
    # (with a memory cap) tests/integration/test_hostile_input.py.
    path = tmp_path / "config.toml"
    path.write_bytes(b"#" * MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert str(caught.value) == (
        f"{path}: is 1.0 MiB; a config file may be at most 1 MiB; point VPO_CONFIG at a file"
    )


LOCATE_CHILD = """
import sys
import subprocess
import sys
from pathlib import Path
from vpo.config.toml_file import parse_config_text
text = '["a' + " " * 200_000 + 'b"]\\nx = 1\\n[processing]\\nworkers = 2\\n'
print(parse_config_text(text, Path("c.toml")).location("processing", "workers"))
"""


def test_finding_a_key_line_is_linear_in_long_blank_runs() -> None:
    # A child process, so that a quadratic scan fails on the timeout rather
    # than holding the suite for the hour it would take.
    try:
        done = subprocess.run(
            [sys.executable, "-c", LOCATE_CHILD],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("finding the line of processing.workers still ran after 30 s")
    assert (done.returncode, done.stdout.strip()) == (0, "c.toml:4"), done.stderr
