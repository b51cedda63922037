"""Policy regexes run by RE2: hostile patterns finish, unsupported ones are named."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from vpo.media.model import TrackFlags, TrackType
from vpo.plan import PlannedTrack
from vpo.policy import patterns
from vpo.policy.classify import is_commentary
from vpo.policy.loader import PolicyError, parse_policy

HOSTILE_TITLE = "a" * 40 + "!"
POLICY_HEAD = "schema_version: 12\nconfig:\n  commentary_patterns: [{pattern}]\nphases:\n"

# Runs in a child process so that, with the protection disabled, the test
# fails on its timeout instead of hanging the suite (Python's ``re`` needs
# about 2**40 steps here and cannot be interrupted).
CHILD = textwrap.dedent(
    """
    import time
    from vpo.media.model import TrackFlags, TrackType
    from vpo.plan import PlannedTrack
    from vpo.policy.classify import is_commentary
    from vpo.policy.conditions import track_matches
    from vpo.policy.loader import parse_policy
    from vpo.policy.schema_conditional import TrackFilter

    policy = parse_policy(
        "schema_version: 12\\nconfig:\\n  commentary_patterns: ['(a+)+$']\\n"
        "phases:\\n  - name: p\\n"
    )
    track = PlannedTrack(
        source_index=0, type=TrackType.AUDIO, codec="aac", language="eng",
        title="a" * 40 + "!", flags=TrackFlags(),
    )
    wanted = TrackFilter.model_validate(
        {"track_type": "audio", "title": {"regex": "^(a|a)*$"}}
    )
    start = time.perf_counter()
    found = (is_commentary(track, policy.config), track_matches(track, wanted, policy.config))
    print(found, time.perf_counter() - start)
    """
)


def test_catastrophic_patterns_finish_within_a_second() -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=20, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("matching (a+)+$ against 40 'a's and '!' still ran after 20 s")
    assert done.returncode == 0, done.stderr
    found, seconds = done.stdout.rsplit(" ", 1)
    assert found == "(False, False)"  # the correct answer: neither pattern matches
    assert float(seconds) < 1.0


def test_commentary_pattern_is_case_insensitive_and_unicode() -> None:
    policy = parse_policy(POLICY_HEAD.format(pattern="'kommentar|écoute'") + "  - name: p\n")
    for title, expected in [("KOMMENTAR", True), ("ÉCOUTE", True), ("Main", False)]:
        track = PlannedTrack(
            source_index=0,
            type=TrackType.AUDIO,
            codec="aac",
            language="eng",
            title=title,
            flags=TrackFlags(),
        )
        assert is_commentary(track, policy.config) is expected


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(a)\1", ["'(a)\\1' is not supported", "backreferences"]),
        ("(?=director)", ["'(?=director)' is not supported", "lookaround"]),
        ("(?<!x)y", ["is not supported", "invalid perl operator"]),
        ("a++", ["is not supported", "possessive"]),
        ("(x{1000}){2}", ["too large to run safely", "smaller repeat counts"]),
        ("(director", ["invalid regular expression '(director': missing )"]),
    ],
)
def test_pattern_re2_cannot_run_is_named_at_validation(pattern: str, words: list[str]) -> None:
    text = POLICY_HEAD.format(pattern=f"'{pattern}'") + "  - name: p\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "pol.yaml")
    (issue,) = caught.value.issues
    assert str(issue).startswith("pol.yaml:3: config.commentary_patterns[0]: ")
    for word in words:
        assert word in issue.message


def test_title_regex_condition_is_checked_too() -> None:
    text = (
        "schema_version: 12\nphases:\n  - name: p\n    conditional:\n      - name: r\n"
        "        when: {exists: {track_type: audio, title: {regex: '(a)\\1'}}}\n"
        "        then: [{warn: x}]\n"
    )
    with pytest.raises(PolicyError, match="is not supported"):
        parse_policy(text, "pol.yaml")


def test_search_helpers() -> None:
    assert patterns.search("dir(ector)?'?s", "Director's cut")
    assert not patterns.search("^main$", "Main track")
    assert patterns.search_any(("x", "track"), "Main TRACK")
    assert not patterns.search_any((), "anything")
