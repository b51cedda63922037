"""``vpo policy convert``: rewrite a policy between schema versions 12 and 13.

Works on the round-trip tree, so comments, key order and quoting survive where
the target version can say the same thing; what it cannot say is named, one
line each. The result is checked by loading it: it must give the same internal
policy as the input (except what was named as lost).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from vpo.policy.frontdoor import V13_AUDIO, V13_CONFIG, V13_PHASE, V13_VIDEO_GROUPS
from vpo.policy.loader import PolicyError, PolicyIssue, parse_policy

TARGETS = (12, 13)


@dataclass(frozen=True, slots=True)
class Conversion:
    text: str
    lost: tuple[str, ...]  # "path: what could not be carried over"


def convert_policy(text: str, target: int, name: str = "<policy>") -> Conversion:
    """``text`` (a valid policy) rewritten for schema ``target``; raises PolicyError."""
    if target not in TARGETS:
        raise PolicyError(
            [PolicyIssue(name, None, "", f"cannot convert to {target}; use 12 or 13")]
        )
    before = parse_policy(text, name)  # only valid policies are converted
    tree = _yaml().load(text)
    lost: list[str] = []
    source = before.schema_version
    if source == target:
        return Conversion(text, ())
    if source != target:
        if target == 13:
            _to_13(tree)
        else:
            _to_12(tree, lost)
        tree["schema_version"] = target
    out = io.StringIO()
    _yaml(for_output=True).dump(tree, out)
    converted = out.getvalue()
    after = parse_policy(converted, name)
    if not lost:
        same = before.model_copy(update={"schema_version": 0}) == after.model_copy(
            update={"schema_version": 0}
        )
        if not same:
            raise RuntimeError(f"{name}: conversion to {target} changed the policy's meaning")
    return Conversion(converted, tuple(lost))


def _yaml(for_output: bool = False) -> YAML:
    yaml = YAML(typ="rt")
    if not for_output:  # read as YAML 1.2 (``no`` stays a string); write no %YAML header
        yaml.version = (1, 2)
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _phases(tree: CommentedMap) -> list[CommentedMap]:
    phases = tree.get("phases")
    if not isinstance(phases, CommentedSeq):
        return []
    return [p for p in phases if isinstance(p, CommentedMap)]


# -- 12 → 13 ---------------------------------------------------------------------------------


def _to_13(tree: CommentedMap) -> None:
    config = tree.get("config")
    if isinstance(config, CommentedMap):
        _rename_all(config, {old: new for new, old in V13_CONFIG.items()})
    for phase in _phases(tree):
        _rename_all(phase, {old: new for new, old in V13_PHASE.items()})
        if "conditional" in phase:
            block = CommentedMap()
            block["match"] = "first"
            block["items"] = _without_start_comment(phase["conditional"])
            _replace_key(phase, "conditional", "rules", block)
        skip_when = phase.get("skip_when")
        if isinstance(skip_when, CommentedMap):
            _rename_all(skip_when, {"match": "mode"})
        transcode = phase.get("transcode")
        if isinstance(transcode, CommentedMap):
            video = transcode.get("video")
            if isinstance(video, CommentedMap):
                _rename_all(video, {"target_codec": "to"})
                for group, names in V13_VIDEO_GROUPS.items():
                    _flatten(video, group, {inner: flat for flat, inner in names.items()})
            audio = transcode.get("audio")
            if isinstance(audio, CommentedMap):
                _rename_all(audio, {old: new for new, old in V13_AUDIO.items()})


_EMPTY_GROUP = {
    "quality": ("mode", "crf"),
    "scaling": ("scale_algorithm", "lanczos"),
    "hardware_acceleration": ("hw", "auto"),
}


def _flatten(video: CommentedMap, group: str, names: dict[str, str]) -> None:
    """Lift the keys of ``video[group]`` into ``video`` where the group was."""
    sub = video.get(group)
    if not isinstance(sub, CommentedMap):
        return
    position = list(video).index(group)
    comment = video.ca.items.pop(group, None)
    del video[group]
    if not sub:
        # ``quality: {}`` means "the defaults", which differs from no quality block:
        # 13 says it with the first key's default written out.
        key, value = _EMPTY_GROUP[group]
        video.insert(position, key, value)
        return
    for offset, (key, value) in enumerate(sub.items()):
        flat = names.get(key, key)
        video.insert(position + offset, flat, value)
        if key in sub.ca.items:
            video.ca.items[flat] = sub.ca.items[key]
    if comment is not None and sub:
        first = names.get(next(iter(sub)), next(iter(sub)))
        video.ca.items.setdefault(first, comment)


# -- 13 → 12 ---------------------------------------------------------------------------------


def _to_12(tree: CommentedMap, lost: list[str]) -> None:
    config = tree.get("config")
    if isinstance(config, CommentedMap):
        _rename_all(config, dict(V13_CONFIG))
    for index, phase in enumerate(_phases(tree)):
        where = f"phases[{index}]"
        _rename_all(phase, dict(V13_PHASE))
        block = phase.get("rules")
        if isinstance(block, CommentedMap):
            items = block.get("items")
            if block.get("match") == "all" and isinstance(items, list) and len(items) > 1:
                lost.append(
                    f"{where}.rules.match: 'all' has no schema 12 form (12 stops at the first "
                    "rule that decides); written as conditional, which behaves as 'first'"
                )
            _replace_key(phase, "rules", "conditional", _without_start_comment(items))
        skip_when = phase.get("skip_when")
        if isinstance(skip_when, CommentedMap):
            _rename_all(skip_when, {"mode": "match"})
        transcode = phase.get("transcode")
        if isinstance(transcode, CommentedMap):
            video = transcode.get("video")
            if isinstance(video, CommentedMap):
                _rename_all(video, {"to": "target_codec"})
                for group, names in V13_VIDEO_GROUPS.items():
                    _gather(video, group, names)
            audio = transcode.get("audio")
            if isinstance(audio, CommentedMap):
                _rename_all(audio, dict(V13_AUDIO))


def _gather(video: CommentedMap, group: str, names: dict[str, str]) -> None:
    moved = [key for key in video if key in names]
    if not moved:
        return
    sub = CommentedMap()
    for key in moved:
        sub[names[key]] = video[key]
        if key in video.ca.items:
            sub.ca.items[names[key]] = video.ca.items.pop(key)
    position = list(video).index(moved[0])
    for key in moved:
        del video[key]
    video.insert(position, group, sub)


# -- shared ----------------------------------------------------------------------------------


def _without_start_comment(node: Any) -> Any:
    """A list moved under another key keeps its comment on the key, not at its start
    (where ruamel would write it between the key and the first ``-``)."""
    if isinstance(node, CommentedSeq) and node.ca.comment is not None:
        node.ca.comment = None
    return node


def _rename_all(node: CommentedMap, renames: dict[str, str]) -> None:
    for old, new in renames.items():
        if old in node and new not in node:
            _replace_key(node, old, new, node[old])


def _replace_key(node: CommentedMap, old: str, new: str, value: Any) -> None:
    """Put ``new: value`` where ``old`` was, keeping ``old``'s comments."""
    position = list(node).index(old)
    comment = node.ca.items.pop(old, None)
    del node[old]
    node.insert(position, new, value)
    if comment is not None:
        node.ca.items[new] = comment
