"""Regular expressions written in policies, run by RE2 (linear time).

A policy is input vpo does not control, and so is every track title it is
matched against. Python's ``re`` backtracks: ``(a+)+$`` against forty "a"s and
a "!" runs for hours, holding the interpreter so that Ctrl-C is not handled.
RE2 matches in time linear in the title for any pattern, so every policy
pattern (``commentary_patterns``, ``title: {regex: …}``) goes through here and
nowhere else. RE2 refuses what it cannot run in linear time (backreferences,
lookaround, possessive quantifiers) and patterns whose compiled program would
exceed its memory budget; ``check_pattern`` turns that into a message for
``vpo policy validate``. Matching is case-insensitive, as documented in
docs/policy.md.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType
from typing import Any, Protocol


class _Compiled(Protocol):
    def search(self, text: str) -> object | None: ...


# RE2's own default budget (8 MiB) is enough for any sensible title pattern;
# a pattern needing more is refused at validation, not at match time.
_MAX_MEM = 8 << 20

_UNSUPPORTED_HINT = (
    "vpo runs policy patterns with RE2, which matches in linear time but has no "
    "backreferences, lookaround, possessive quantifiers or verbose mode; see docs/policy.md"
)


def _re2() -> ModuleType:
    """The re2 module, imported on first use: commands that match no title
    (``vpo --version``, ``config show``) do not pay the 20 ms it takes."""
    import re2

    module: ModuleType = re2  # untyped package: Any until here
    return module


def _options() -> Any:
    options = _re2().Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print its own line to stderr
    options.max_mem = _MAX_MEM
    return options


@lru_cache(maxsize=512)
def _compile(pattern: str) -> _Compiled:
    compiled: _Compiled = _re2().compile(pattern, _options())
    return compiled


def _reason(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return text.strip() or "cannot be compiled"


def check_pattern(pattern: str) -> None:
    """Raise ValueError with a user-facing reason when ``pattern`` cannot run.

    Python's parser names syntax errors best (with a position), so it speaks
    first; what it accepts but RE2 refuses is a feature RE2 cannot run in
    linear time, or a pattern too large for RE2's memory budget.
    """
    try:
        re.compile(pattern)  # parsing only: nothing is matched with ``re``
    except re.error as error:
        raise ValueError(f"invalid regular expression '{pattern}': {error}") from None
    try:
        _compile(pattern)
    except _re2().error as error:
        reason = _reason(error)
        if "too large" in reason or "repetition size" in reason:
            raise ValueError(
                f"regular expression '{pattern}' is too large to run safely ({reason}); "
                "use a shorter pattern or smaller repeat counts"
            ) from None
        raise ValueError(
            f"regular expression '{pattern}' is not supported: {reason} ({_UNSUPPORTED_HINT})"
        ) from None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text``, ignoring case.

    Patterns reach this only after ``check_pattern`` accepted them at validation.
    """
    return _compile(pattern).search(text) is not None


def search_any(patterns: tuple[str, ...], text: str) -> bool:
    """Whether any of ``patterns`` matches in ``text``."""
    return any(search(pattern, text) for pattern in patterns)
