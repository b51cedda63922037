"""Text for one-line messages: every error and result line names a path safely."""

from __future__ import annotations


def one_line(value: object) -> str:
    """``str(value)`` with control characters escaped, so a newline in a file name
    cannot split one message into two (or forge another line)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
