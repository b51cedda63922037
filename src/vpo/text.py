"""Text for one-line messages: every error and result line names a path safely."""

from __future__ import annotations

import json
import re
from typing import Any

# A lone surrogate in a str is how Python carries a byte that is not UTF-8 in a file
# name (os.fsdecode's surrogateescape: byte 0xXX becomes U+DCXX).
_SURROGATE = re.compile("[\ud800-\udfff]")


def one_line(value: object) -> str:
    """``str(value)`` with control characters escaped, so a newline in a file name
    cannot split one message into two (or forge another line)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def json_text(document: Any, *, indent: int | None = 2) -> str:
    """``document`` as JSON that is always valid UTF-8, for ``--json`` output.

    Text stays readable (no ``\\u`` escapes for accents or CJK). A byte of a file
    name that is not UTF-8 is written as the JSON escape ``\\udcXX`` (XX its hex
    value), the form Python's ``os.fsdecode`` gives it, so the exact name comes
    back with ``os.fsencode(json.loads(text)["path"])``. Only lone surrogates need
    the escape, and they can only stand inside JSON strings, so replacing them in
    the dumped text is exact.
    """
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
