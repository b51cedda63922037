"""The daily run window (``[jobs] window = "01:00-07:00"``): pure time arithmetic.

A window may cross midnight ("22:00-06:00"); start == end means "always open".
No file starts outside the window; files already running finish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class RunWindow:
    """Local wall-clock times between which new files may start."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def is_open(self, now: datetime) -> bool:
        if self.start == self.end:
            return True
        current = now.time().replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= current < self.end
        return current >= self.start or current < self.end

    def seconds_until_open(self, now: datetime) -> float:
        """0 when open; else the seconds until the next start (for a timed wait)."""
        if self.is_open(now):
            return 0.0
        opening = now.replace(
            hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0
        )
        if opening <= now:
            opening += timedelta(days=1)
        return max(0.0, (opening - now).total_seconds())


def parse_window(text: str) -> RunWindow:
    """``"01:00-07:00"`` → RunWindow; ValueError with a one-line reason otherwise."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f'must look like "01:00-07:00", got {text!r}')
    hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
    if hour1 > 23 or hour2 > 23 or minute1 > 59 or minute2 > 59:
        raise ValueError(f"has a time that does not exist: {text!r}")
    return RunWindow(time(hour1, minute1), time(hour2, minute2))
