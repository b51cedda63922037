"""Front doors: each schema version's file shape → the one internal model's shape.

The loader reads YAML into a round-trip tree; ``translate`` rewrites that tree in
place into the shape of vpo.policy.schema (keeping every node's line, so errors
still point at the user's line) and remembers which internal path came from
which written path, so messages name the keys the user wrote. Nothing past the
loader knows which version a policy was written in.

- 11, 12: the internal shape; keys introduced by 13 are refused with a hint.
- 13: renamed keys (``keep_audio`` …), ``rules: {match, items}``,
  ``skip_when.mode``, flattened ``transcode`` keys; the 12 names are refused
  with a hint.
- every version: string ``when:`` expressions (vpo.policy.expression), the
  original's action shapes (``set_language.new_language``, several actions in
  one list item, ``skip_track_filter: true`` …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from vpo.policy.expression import ExpressionError, parse_expression

Location = tuple[str | int, ...]

# schema 13 name → internal (schema 12) name, per place in the file.
V13_CONFIG = {
    "audio_languages": "audio_language_preference",
    "subtitle_languages": "subtitle_language_preference",
}
V13_PHASE = {
    "keep_audio": "audio_filter",
    "keep_subtitles": "subtitle_filter",
    "filter_attachments": "attachment_filter",
}
V13_SKIP_WHEN = {"mode": "match"}
V13_VIDEO_TOP = {"to": "target_codec"}
V13_VIDEO_GROUPS: dict[str, dict[str, str]] = {
    "quality": {
        "mode": "mode",
        "crf": "crf",
        "bitrate": "bitrate",
        "min_bitrate": "min_bitrate",
        "max_bitrate": "max_bitrate",
        "preset": "preset",
        "tune": "tune",
        "two_pass": "two_pass",
    },
    "scaling": {
        "max_resolution": "max_resolution",
        "max_width": "max_width",
        "max_height": "max_height",
        "scale_algorithm": "algorithm",
        "upscale": "upscale",
    },
    "hardware_acceleration": {"hw": "enabled", "hw_fallback": "fallback_to_cpu"},
}
V13_AUDIO = {"preserve": "preserve_codecs", "to": "transcode_to", "bitrate": "transcode_bitrate"}
V13_ONLY_PHASE_KEYS = frozenset({*V13_PHASE, "rules"})
INTERNAL_ONLY_PHASE_KEYS = frozenset({"rules_match"})
ALL_FILTERS = ["audio", "subtitle", "attachment"]


@dataclass
class Translation:
    """The internal-shape tree, where its paths came from, and problems found."""

    version: int | None
    tree: Any
    renamed: dict[Location, Location] = field(default_factory=dict)
    issues: list[tuple[Location, str, int | None]] = field(default_factory=list)

    def source_loc(self, loc: Location) -> Location:
        """The path as the user wrote it (longest renamed prefix replaced)."""
        for cut in range(len(loc), 0, -1):
            written = self.renamed.get(loc[:cut])
            if written is not None:
                return written + loc[cut:]
        return loc

    def visible_keys(self, loc: Location, keys: tuple[str, ...]) -> tuple[str, ...]:
        """The keys a user of this version may write at internal path ``loc``."""
        if self.version != 13:
            return tuple(k for k in keys if k not in INTERNAL_ONLY_PHASE_KEYS)
        place = _place(loc)
        if place == "phase":
            inverse = {v: k for k, v in V13_PHASE.items()} | {"conditional": "rules"}
            return tuple(inverse.get(k, k) for k in keys if k not in INTERNAL_ONLY_PHASE_KEYS)
        if place == "config":
            inverse = {v: k for k, v in V13_CONFIG.items()}
            return tuple(inverse.get(k, k) for k in keys)
        if place == "skip_when":
            return tuple("mode" if k == "match" else k for k in keys)
        if place == "video":
            names: list[str] = []
            for key in keys:
                if key == "target_codec":
                    names.append("to")
                elif key in V13_VIDEO_GROUPS:
                    names.extend(V13_VIDEO_GROUPS[key])
                else:
                    names.append(key)
            return tuple(names)
        if place == "audio":
            inverse = {v: k for k, v in V13_AUDIO.items()}
            return tuple(inverse.get(k, k) for k in keys)
        return keys


def _place(loc: Location) -> str:
    if loc == ("config",):
        return "config"
    if len(loc) == 2 and loc[0] == "phases":
        return "phase"
    if len(loc) == 3 and loc[0] == "phases" and loc[2] == "skip_when":
        return "skip_when"
    if len(loc) == 4 and loc[0] == "phases" and loc[2] == "transcode":
        return str(loc[3])
    return ""


def translate(tree: Any) -> Translation:
    """Rewrite ``tree`` (a round-trip mapping) into the internal shape, in place."""
    version = tree.get("schema_version") if isinstance(tree, CommentedMap) else None
    result = Translation(version if isinstance(version, int) else None, tree)
    if not isinstance(tree, CommentedMap):
        return result
    config = tree.get("config")
    if isinstance(config, CommentedMap):
        _versioned_keys(result, ("config",), config, V13_CONFIG)
    phases = tree.get("phases")
    if isinstance(phases, CommentedSeq):
        for index, phase in enumerate(phases):
            if isinstance(phase, CommentedMap):
                _phase(result, ("phases", index), phase)
    return result


def _versioned_keys(
    result: Translation, loc: Location, node: CommentedMap, renames: dict[str, str]
) -> None:
    """Under 13, rename; under 11/12, refuse the 13 names (and vice versa)."""
    for new, old in renames.items():
        if result.version == 13:
            if old in node:
                _refuse(result, (*loc, old), f"'{old}' is the schema 12 name; 13 calls it '{new}'")
            elif new in node:
                _rename(node, new, old)
                result.renamed[_join(loc, old)] = (*loc, new)
        elif new in node:
            _refuse(
                result,
                (*loc, new),
                f"'{new}' is a schema 13 key (12 calls it '{old}'); "
                "set schema_version: 13 or use the 12 name",
            )


def _phase(result: Translation, loc: Location, phase: CommentedMap) -> None:
    for key in INTERNAL_ONLY_PHASE_KEYS & set(phase):
        _refuse(result, (*loc, key), f"unknown key '{key}'")
    _versioned_keys(result, loc, phase, V13_PHASE)
    if result.version == 13:
        _rules_v13(result, loc, phase)
        skip_when = phase.get("skip_when")
        if isinstance(skip_when, CommentedMap):
            _versioned_keys(result, (*loc, "skip_when"), skip_when, V13_SKIP_WHEN)
        transcode = phase.get("transcode")
        if isinstance(transcode, CommentedMap):
            _transcode_v13(result, (*loc, "transcode"), transcode)
    elif "rules" in phase:
        _refuse(
            result,
            (*loc, "rules"),
            "'rules' is a schema 13 key (12 writes a 'conditional' list); "
            "set schema_version: 13 or use conditional",
        )
    synthesis = phase.get("audio_synthesis")
    tracks = synthesis.get("tracks") if isinstance(synthesis, CommentedMap) else None
    if isinstance(tracks, CommentedSeq):
        for index, track in enumerate(tracks):
            if isinstance(track, CommentedMap):
                _expression(result, (*loc, "audio_synthesis", "tracks", index), track, "create_if")
    rules = phase.get("conditional")
    if isinstance(rules, CommentedSeq):
        for index, rule in enumerate(rules):
            if isinstance(rule, CommentedMap):
                _rule(result, (*loc, "conditional", index), rule)


def _rules_v13(result: Translation, loc: Location, phase: CommentedMap) -> None:
    if "conditional" in phase:
        _refuse(
            result,
            (*loc, "conditional"),
            "'conditional' is the schema 12 name; 13 writes rules: {match: first, items: [...]}",
        )
        return
    block = phase.get("rules")
    if block is None:
        return
    if not isinstance(block, CommentedMap):
        _refuse(result, (*loc, "rules"), "rules is a mapping with match (first|all) and items")
        return
    unknown = [key for key in block if key not in ("match", "items")]
    if unknown:
        _refuse(
            result,
            (*loc, "rules", unknown[0]),
            f"unknown key '{unknown[0]}' (rules has match, items)",
        )
    if "items" not in block:
        _refuse(result, (*loc, "rules"), "missing required key 'items'")
        return
    where = phase.lc.data.get("rules")
    position = list(phase).index("rules")
    del phase["rules"]
    phase.insert(position, "conditional", block["items"])
    _set_where(phase, "conditional", block.lc.data.get("items", where))
    result.renamed[_join(loc, "conditional")] = (*loc, "rules", "items")
    if "match" in block:
        phase.insert(position + 1, "rules_match", block["match"])
        _set_where(phase, "rules_match", block.lc.data.get("match", where))
        result.renamed[_join(loc, "rules_match")] = (*loc, "rules", "match")


def _transcode_v13(result: Translation, loc: Location, transcode: CommentedMap) -> None:
    video = transcode.get("video")
    if isinstance(video, CommentedMap):
        vloc = (*loc, "video")
        for old in V13_VIDEO_GROUPS:
            if old in video:
                _refuse(result, (*vloc, old), _nested_hint(old))
        _versioned_keys(result, vloc, video, V13_VIDEO_TOP)
        for group, names in V13_VIDEO_GROUPS.items():
            if group not in video:
                _gather(result, vloc, video, group, names)
    audio = transcode.get("audio")
    if isinstance(audio, CommentedMap):
        _versioned_keys(result, (*loc, "audio"), audio, V13_AUDIO)


def _nested_hint(old: str) -> str:
    flat = ", ".join(V13_VIDEO_GROUPS[old])
    return f"schema 13 writes the keys of '{old}' directly under video: {flat}"


def _gather(
    result: Translation, loc: Location, node: CommentedMap, group: str, names: dict[str, str]
) -> None:
    """Move the flat keys ``names`` of ``node`` into a new mapping ``group``."""
    moved = [key for key in node if key in names]
    if not moved:
        return
    sub = CommentedMap()
    for key in moved:
        sub[names[key]] = node[key]
        _set_where(sub, names[key], node.lc.data.get(key))
        result.renamed[_join(loc, group, names[key])] = (*loc, key)
    position = list(node).index(moved[0])
    where = node.lc.data.get(moved[0])
    for key in moved:
        del node[key]
    node.insert(position, group, sub)
    _set_where(node, group, where)
    result.renamed[_join(loc, group)] = loc


def _rule(result: Translation, loc: Location, rule: CommentedMap) -> None:
    _expression(result, loc, rule, "when")
    for branch in ("then", "else"):
        actions = rule.get(branch)
        if isinstance(actions, CommentedMap):
            actions = _as_seq(rule, branch, actions)
        if isinstance(actions, CommentedSeq):
            _actions(actions)


def _expression(result: Translation, loc: Location, parent: CommentedMap, key: str) -> None:
    """Replace a string condition at ``parent[key]`` by its mapping form."""
    text = parent.get(key)
    if not isinstance(text, str):
        return
    try:
        parent[key] = parse_expression(str(text))
    except ExpressionError as error:
        _expression_issue(result, (*loc, key), parent, key, error)


def _expression_issue(
    result: Translation, loc: Location, parent: CommentedMap, key: str, error: ExpressionError
) -> None:
    text = parent[key]
    value_line, value_column = parent.lc.data[key][2:4]
    block = isinstance(text, (LiteralScalarString, FoldedScalarString))
    line = value_line + 1 + (error.line if block else error.line - 1)
    if block or error.line > 1:
        where = f"line {line}, column {error.column} of the expression"
    else:
        quoted = type(text).__name__ in ("SingleQuotedScalarString", "DoubleQuotedScalarString")
        where = f"column {value_column + error.column + (1 if quoted else 0)}"
    result.issues.append((loc, f"{error.reason} ({where})", line))


def _as_seq(parent: CommentedMap, key: str, item: CommentedMap) -> CommentedSeq:
    seq = CommentedSeq([item])
    _set_where(seq, 0, parent.lc.data.get(key))
    parent[key] = seq
    return seq


# One action item in the original may hold several actions; vpo runs them in
# the written order as separate items.
def _actions(actions: CommentedSeq) -> None:
    items: list[tuple[Any, Any]] = []
    for index, item in enumerate(actions):
        where = actions.lc.data.get(index)
        if isinstance(item, CommentedMap) and len(item) > 1:
            for key in list(item):
                single = CommentedMap()
                single[key] = item[key]
                _set_where(single, key, item.lc.data.get(key))
                items.append((single, item.lc.data.get(key, where)))
        else:
            items.append((item, where))
    kept = [(item, where) for item, where in items if not _drop_action(item)]
    for item, _ in kept:
        if isinstance(item, CommentedMap):
            _action_shape(item)
    del actions[:]
    for index, (item, where) in enumerate(kept):
        actions.append(item)
        if where is not None:
            _set_where(actions, index, where)


def _drop_action(item: Any) -> bool:
    """``skip_track_filter: false`` and the like say "do nothing"."""
    if not isinstance(item, CommentedMap) or len(item) != 1:
        return False
    key, value = next(iter(item.items()))
    return key in ("skip_track_filter", "skip_video_transcode", "skip_audio_transcode") and (
        value is False
    )


def _action_shape(item: CommentedMap) -> None:
    if item.get("skip_track_filter") is True:
        item["skip_track_filter"] = list(ALL_FILTERS)
    body = item.get("set_language")
    if isinstance(body, CommentedMap):
        if "new_language" in body and "to" not in body:
            _rename(body, "new_language", "to")
        if "match_language" in body and "language" not in body:
            _rename(body, "match_language", "language")
    body = item.get("set_forced")
    if isinstance(body, CommentedMap) and "track_type" not in body:
        body.insert(0, "track_type", "subtitle")  # the original's default


def _rename(node: CommentedMap, old: str, new: str) -> None:
    position = list(node).index(old)
    where = node.lc.data.get(old)
    value = node.pop(old)
    node.insert(position, new, value)
    if where is not None:
        _set_where(node, new, where)


def _set_where(node: Any, key: Any, where: Any) -> None:
    """Record where ``key`` of a (possibly new) node was written."""
    if where is None:
        return
    if node.lc.data is None:
        node.lc.data = {}
    node.lc.data[key] = where


def _join(loc: Location, *parts: str | int) -> Location:
    return (*loc, *parts)


def _refuse(result: Translation, loc: Location, message: str) -> None:
    result.issues.append((loc, message, None))
