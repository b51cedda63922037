"""Bounded reading of policies: size, nesting depth and alias expansion."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vpo.policy.loader import (
    MAX_DEPTH,
    MAX_POLICY_BYTES,
    MAX_VALUES,
    PolicyError,
    load_policy,
    parse_policy,
)

HEAD = "schema_version: 12\nphases:\n  - name: p\n"


def only_error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "pol.yaml")
    (issue,) = caught.value.issues
    return str(issue)


def billion_laughs(levels: int = 10) -> str:
    text = "schema_version: 12\nconfig:\n  x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, levels):
        text += f"  x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 9) + "]\n"
    return text + "phases:\n  - name: p\n"


CHILD = textwrap.dedent(
    """
    import sys, time
    from vpo.policy.loader import PolicyError, parse_policy
    start = time.perf_counter()
    try:
        parse_policy(sys.stdin.read(), "lol.yaml")
    except PolicyError as error:
        print(time.perf_counter() - start, error)
    """
)


def _cap_memory() -> None:
    cap = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_billion_laughs_is_refused_within_a_second() -> None:
    # A child with capped memory: without the bound it expands 9**10 values.
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD],
            input=billion_laughs(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            preexec_fn=_cap_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("billion laughs still loading after 60 s")
    assert done.returncode == 0, done.stderr[-500:]
    seconds, message = done.stdout.strip().split(" ", 1)
    assert float(seconds) < 1.0
    assert message == (
        "lol.yaml:7: YAML error: more than 10,000 values (counting each alias as a copy "
        "of what it names); a policy needs far fewer"
    )


def test_aliases_within_the_limit_still_work() -> None:
    policy = parse_policy(
        "schema_version: 12\nconfig:\n  audio_language_preference: &langs [jpn, eng]\n"
        "  subtitle_language_preference: *langs\nphases:\n  - name: p\n"
    )
    assert policy.config.subtitle_language_preference == ("jpn", "eng")


def test_value_count_counts_alias_copies() -> None:
    # 9**4 = 6,561 copies of "lol" fit; 9**5 = 59,049 do not.
    assert "more than" not in _error_or_empty(billion_laughs(4))
    assert f"more than {MAX_VALUES:,} values" in only_error(billion_laughs(5))


def _error_or_empty(text: str) -> str:
    try:
        parse_policy(text, "pol.yaml")
    except PolicyError as error:
        return str(error)
    return ""


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "a: " + "{b: " * 50_000 + "1" + "}" * 50_000 + "\n",
        "a:\n" + "- " * 50_000 + "x\n",
        "".join("  " * level + f"k{level}:\n" for level in range(200)) + "  " * 200 + "x: 1\n",
    ],
    ids=["flow sequences", "flow mappings", "block sequences", "block mappings"],
)
def test_deep_nesting_is_one_error_not_a_recursion_error(text: str) -> None:
    message = only_error(text)
    assert message.startswith("pol.yaml:")
    assert message.endswith(
        f"YAML error: nested deeper than {MAX_DEPTH} levels; a policy needs far fewer"
    )


def test_nesting_up_to_the_limit_is_read() -> None:
    nested = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert "nested deeper" not in _error_or_empty(HEAD + nested)
    deeper = "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    assert "nested deeper" in _error_or_empty(deeper)


def test_a_number_too_long_for_python_is_one_error() -> None:
    assert only_error("schema_version: " + "1" * 5000 + "\n").startswith(
        "pol.yaml: YAML error: a value cannot be read: Exceeds the limit (4300 digits)"
    )


def test_policy_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(HEAD.encode() + b"#" * (MAX_POLICY_BYTES - len(HEAD)) + b"\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: is 1.0 MiB; a policy file may be at most 1 MiB"


def test_policy_text_over_the_size_limit_is_refused_before_parsing() -> None:
    # Text that reaches parse_policy without a file (e.g. from a server client);
    # 'é' is two bytes, so this is 2 MiB of UTF-8 in 1 Mi characters.
    text = HEAD + "#" + "é" * (MAX_POLICY_BYTES // 2 + 1) + "\n"
    assert only_error(text) == "pol.yaml: is larger than 1 MiB; a policy may be at most 1 MiB"


UNITS_CHILD = """
from vpo.policy import units
blanks = "1" + " " * 200_000 + "x"
for parse in (units.parse_size, units.parse_bitrate, units.parse_duration):
    try:
        parse(blanks)
    except ValueError:
        print(parse.__name__, "refused")
"""


def test_unit_values_with_long_blank_runs_are_refused_in_linear_time() -> None:
    # In a child: the old bitrate pattern needed minutes for these 200,000 blanks.
    try:
        done = subprocess.run(
            [sys.executable, "-c", UNITS_CHILD],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("parsing '1<200,000 blanks>x' as a size/bitrate/duration ran over 30 s")
    assert done.stdout.split("\n")[:3] == [
        "parse_size refused",
        "parse_bitrate refused",
        "parse_duration refused",
    ]


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ("config:\n  on_error: " + "x" * 200_000 + "\n", "pol.yaml:3: config.on_error: 'xxxx"),
        (
            "phases:\n  - name: p\n    transcode:\n      video:\n        target_codec: hevc\n"
            "        quality: {mode: bitrate, bitrate: '1" + " " * 10 + "k" * 200_000 + "'}\n",
            "pol.yaml:7: phases[0].transcode.video.quality.bitrate: '1",
        ),
    ],
    ids=["choice", "bitrate"],
)
def test_a_huge_value_is_quoted_back_shortened(body: str, start: str) -> None:
    text = "schema_version: 12\n" + body
    if "phases:" not in body:
        text += "phases:\n  - name: p\n"
    message = only_error(text)
    assert message.startswith(start)
    assert "…'" in message
    assert len(message) < 300
