"""Load a policy file: YAML 1.2 with line numbers → validated Policy, or one
PolicyError listing every problem as ``file:line: field.path: what is wrong``.

ruamel.yaml (YAML 1.2) keeps ``no`` a string, so Norwegian stays Norwegian, and
its round-trip tree remembers where each key and item was written.

A policy may come from anyone, so reading it is bounded (docs/policy.md, "Limits"):
only a regular file of at most ``MAX_POLICY_BYTES`` is read; mappings and
sequences nest at most ``MAX_DEPTH`` deep (checked as the scanner meets each
``[``/``{`` and as the composer builds each node, before Python's recursion
limit); and the document may hold at most ``MAX_VALUES`` values counting every
YAML alias as a full copy of what it names (a "billion laughs" document is
refused at the alias that crosses the limit, before anything is expanded).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.scanner import RoundTripScanner

from vpo import input_file
from vpo.errors import FatalError
from vpo.policy.frontdoor import Translation, translate
from vpo.policy.schema import Location, Policy, phase_reference_errors

MAX_POLICY_BYTES = 1 << 20  # 1 MiB; the longest example policy is under 4 KiB
MAX_DEPTH = 64  # nesting of mappings and sequences; real policies use about 10
MAX_VALUES = 10_000  # values after expanding aliases; real policies hold a few hundred


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One problem in a policy file; ``line`` is 1-based, None when it has no place."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {_shorten_quoted(self.message)}"


# A value quoted back in a message ("'…' is not allowed") is cut, so that a
# hostile value of a megabyte still gives a line a person can read. Quotes
# pair from the left, as the messages write them.
_QUOTED = re.compile(r"'([^'\n]*)'")


def _shorten_quoted(message: str) -> str:
    def shorten(match: re.Match[str]) -> str:
        value = match.group(1)
        return match.group(0) if len(value) <= 60 else f"'{value[:40]}…'"

    return _QUOTED.sub(shorten, message)


class PolicyError(FatalError):
    """An unusable policy: nothing is touched (exit code USAGE)."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file."""
    return parse_policy(read_policy_text(path), str(path))


def load_policy_source(path: Path) -> tuple[Policy, bytes]:
    """Read and validate one policy file; also return the bytes that were parsed
    (what a run records the hash of: a second read could see another file)."""
    text = read_policy_text(path)
    return parse_policy(text, str(path)), text.encode("utf-8")  # lossless: it was UTF-8


def read_policy_text(path: Path) -> str:
    """The text of a policy file; PolicyError (one line) when it cannot be read."""
    name = str(path)
    try:
        raw = input_file.read_input_file(path, MAX_POLICY_BYTES, "policy file")
    except input_file.InputRefused as refused:
        raise _single(name, refused.reason) from None
    except FileNotFoundError:
        raise _single(name, "policy file not found") from None
    except IsADirectoryError:
        raise _single(name, "is a directory, not a policy file") from None
    except PermissionError:
        raise _single(name, "permission denied") from None
    except OSError as error:
        raise _single(name, f"cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _single(name, f"not UTF-8 text (byte {error.start})") from None
    return text


def parse_policy(text: str, name: str = "<policy>") -> Policy:
    """Validate policy text; ``name`` is what messages call the file.

    Text that did not come from ``load_policy`` (a client of the server, a test)
    gets the same size limit as a file.
    """
    size = len(text) if len(text) > MAX_POLICY_BYTES else len(text.encode("utf-8", "replace"))
    if size > MAX_POLICY_BYTES:
        limit = input_file.describe_size(MAX_POLICY_BYTES)
        raise _single(name, f"is larger than {limit}; a policy may be at most {limit}")
    tree = _read_yaml(text, name)
    if tree is None:
        raise _single(name, "is empty; a policy needs schema_version and phases")
    if not isinstance(tree, CommentedMap):
        raise _issue(name, 1, "", "a policy is a mapping with schema_version and phases")
    translation = translate(tree)  # the version's front door → the internal shape
    if translation.issues:
        raise PolicyError(
            sorted(
                (
                    PolicyIssue(
                        name,
                        line if line is not None else _line_of(tree, loc),
                        _dotted(translation.source_loc(loc)),
                        message,
                    )
                    for loc, message, line in translation.issues
                ),
                key=lambda issue: issue.line or 0,
            )
        )
    try:
        policy = Policy.model_validate(_plain(tree))
    except ValidationError as error:
        raise PolicyError(_issues_from_validation(error, translation, name)) from None
    references = phase_reference_errors(policy)
    if references:
        raise PolicyError(
            [
                PolicyIssue(name, _line_of(tree, loc), _dotted(translation.source_loc(loc)), msg)
                for loc, msg in references
            ]
        )
    return policy


def _issue(name: str, line: int | None, path: str, message: str) -> PolicyError:
    return PolicyError([PolicyIssue(name, line, path, message)])


def _single(name: str, message: str) -> PolicyError:
    return _issue(name, None, "", message)


class _LimitExceeded(MarkedYAMLError):
    """A policy past MAX_DEPTH or MAX_VALUES; reported like any YAML error."""


class _BoundedScanner(RoundTripScanner):
    """Refuses the ``[`` or ``{`` that would nest deeper than MAX_DEPTH.

    Checked here, not only in the composer, because the scanner looks ahead
    across an open flow collection: 50,000 ``[`` would cost it seconds before
    the composer saw the first one.
    """

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.flow_context) >= MAX_DEPTH:
            raise _too_deep(self.reader.get_mark())
        super().fetch_flow_collection_start(TokenClass, to_push)


class _BoundedComposer(Composer):
    """Counts nesting and values (an alias counts as everything it names)."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._nesting = 0
        self._values = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        mark = self.parser.peek_event().start_mark
        is_alias = self.parser.check_event(AliasEvent)
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise _too_deep(mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._nesting -= 1
        # An alias returns the node composed earlier; any other node is new,
        # and its children were counted as they were composed.
        self._values += _expanded_size(node, self._sizes) if is_alias else 1
        if self._values > MAX_VALUES:
            raise _LimitExceeded(
                None,
                None,
                f"more than {MAX_VALUES:,} values (counting each alias as a copy "
                "of what it names); a policy needs far fewer",
                mark,
            )
        return node


def _too_deep(mark: Any) -> _LimitExceeded:
    return _LimitExceeded(
        None, None, f"nested deeper than {MAX_DEPTH} levels; a policy needs far fewer", mark
    )


def _expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """Values ``node`` stands for when every alias inside it is a copy (memoised)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    elif isinstance(node, MappingNode):
        size += sum(
            _expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value
        )
    sizes[id(node)] = size = min(size, MAX_VALUES + 1)
    return size


def _read_yaml(text: str, name: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.Scanner = _BoundedScanner
    yaml.Composer = _BoundedComposer
    yaml.version = (1, 2)
    yaml.preserve_quotes = True  # expression errors count the quote in their column
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        if "duplicate key" in str(problem) or "found duplicate key" in str(error):
            problem = "duplicate key; each key may appear once per mapping"
        raise _issue(name, line, "", f"YAML error: {problem}") from None
    except YAMLError as error:
        raise _single(name, f"YAML error: {error}") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        reason = str(error).split("; use sys.")[0]
        raise _single(name, f"YAML error: a value cannot be read: {reason}") from None


def _plain(node: Any) -> Any:
    """The round-trip tree as plain dicts, lists and scalars for pydantic."""
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _issues_from_validation(
    error: ValidationError, translation: Translation, name: str
) -> list[PolicyIssue]:
    tree = translation.tree
    details = error.errors(include_url=False)
    failing = [tuple(d["loc"]) for d in details if d["type"] != "too_short"]
    issues: list[PolicyIssue] = []
    for detail in details:
        loc = _clean_loc(tuple(detail["loc"]), tree)
        if detail["type"] == "too_short" and any(
            f[: len(detail["loc"])] == tuple(detail["loc"]) for f in failing
        ):
            continue  # a consequence of an item error already reported
        issue = PolicyIssue(
            name,
            _line_of(tree, loc),
            _dotted(translation.source_loc(loc)),
            _message(detail, loc, translation),
        )
        if issue not in issues:
            issues.append(issue)
    return sorted(issues, key=lambda issue: issue.line or 0)


def _clean_loc(loc: tuple[Any, ...], tree: CommentedMap) -> Location:
    """Drop pydantic's union/validator tags, keeping the keys that exist in the YAML."""
    cleaned: list[str | int] = []
    node: Any = tree
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            cleaned.append(part)
            node = node[part]
        elif isinstance(part, str) and isinstance(node, Mapping):
            cleaned.append(part)
            node = node.get(part)
        elif (isinstance(part, str) and "[" in part) or part in {"int", "str", "bool"}:
            continue  # e.g. 'function-after[...]', 'literal[...]'
        else:
            cleaned.append(part)
            node = None
    return tuple(cleaned)


def _line_of(tree: CommentedMap, loc: Location) -> int | None:
    """1-based line of the deepest part of ``loc`` that exists in the YAML."""
    node: Any = tree
    line: int | None = 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _dotted(loc: Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _message(detail: ErrorDetails, loc: Location, translation: Translation) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        hint = _closest(key, translation.visible_keys(loc[:-1], _allowed_keys(loc[:-1])))
        return f"unknown key '{key}'" + (f" (did you mean '{hint}'?)" if hint else "")
    if kind == "missing":
        written = translation.source_loc(loc)[-1] if loc else ""
        return f"missing required key '{written}'" if loc else "missing required key"
    message = str(detail["msg"])
    message = re.sub(r"^(Value|Assertion) error, ", "", message)
    if kind in {"literal_error", "enum"}:
        expected = re.findall(r"'([^']*)'", str(detail.get("ctx", {}).get("expected", "")))
        given = detail.get("input")
        hint = _hint_for_choice(given, expected)
        message = f"'{given}' is not allowed; expected one of {', '.join(expected)}" + (
            f" (did you mean '{hint}'?)" if hint else ""
        )
    return message


# Common other names for allowed values, which spelling distance would get wrong.
_ALIASES = {
    "h265": "hevc",
    "x265": "hevc",
    "hevc_nvenc": "hevc",
    "x264": "h264",
    "avc": "h264",
    "matroska": "mkv",
    "mpeg4": "mp4",
    "m4v": "mp4",
    "dts-hd": "dts",
    "eac-3": "eac3",
}


def _hint_for_choice(given: object, expected: list[str]) -> str | None:
    if not isinstance(given, str):
        return None
    alias = _ALIASES.get(given.strip().lower())
    if alias in expected:
        return alias
    return _closest(given, expected)


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return matches[0] if matches else None


def _allowed_keys(loc: Location) -> tuple[str, ...]:
    """Keys the model at ``loc`` accepts (aliases as written in YAML)."""
    current: Any = Policy
    for part in loc:
        current = _step(current, part)
        if current is None:
            return ()
    model = _model_in(current)
    if model is None:
        return ()
    return tuple(field.alias or name for name, field in model.model_fields.items())


def _step(annotation: Any, part: str | int) -> Any:
    model = _model_in(annotation)
    if isinstance(part, str) and model is not None:
        for name, field in model.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    if isinstance(part, int):
        return _item_type(annotation)
    return None


def _members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(annotation) for m in _members(arg))
    return (annotation,)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _item_type(annotation: Any) -> Any:
    for member in _members(annotation):
        if typing.get_origin(member) in (tuple, list):
            return typing.get_args(member)[0]
    return None
