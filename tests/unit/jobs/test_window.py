"""The daily run window: open/closed and the wait until it opens, with a fixed clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from vpo.jobs.window import parse_window


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 3, hour, minute)


@pytest.mark.parametrize(
    ("text", "hour", "minute", "expected"),
    [
        ("01:00-07:00", 0, 59, False),
        ("01:00-07:00", 1, 0, True),
        ("01:00-07:00", 6, 59, True),
        ("01:00-07:00", 7, 0, False),
        ("22:00-06:00", 23, 30, True),
        ("22:00-06:00", 5, 0, True),
        ("22:00-06:00", 12, 0, False),
        ("00:00-00:00", 12, 0, True),
    ],
)
def test_window_is_open(text: str, hour: int, minute: int, expected: bool) -> None:
    assert parse_window(text).is_open(at(hour, minute)) is expected


def test_seconds_until_open_today_and_tomorrow() -> None:
    window = parse_window("01:00-07:00")
    assert window.seconds_until_open(at(0, 30)) == 30 * 60
    assert window.seconds_until_open(at(8)) == 17 * 3600
    assert window.seconds_until_open(at(2)) == 0


@pytest.mark.parametrize("text", ["1-7", "25:00-07:00", "01:60-02:00", "", "01:00"])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"01:00-07:00|does not exist"):
        parse_window(text)


def test_config_refuses_a_bad_window() -> None:
    from pydantic import ValidationError

    from vpo.config.models import JobsConfig

    assert JobsConfig(window="01:00-07:00").window == "01:00-07:00"
    with pytest.raises(ValidationError, match="01:00-07:00"):
        JobsConfig(window="night")
