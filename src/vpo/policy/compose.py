"""Composition of consecutive phase plans into one plan from the original file (pure).

Phase ``k`` is planned on the *expected result* of phase ``k-1``; its
``PlannedTrack.source_index`` is a position in that intermediate file. Following
those indexes back gives, for every final track, the track of the original file it
comes from, so one tool run from the original can produce the end state of the
whole chain: the final order, flags, languages and titles, the last container, and
each track's encode (a track may be encoded once in a chain).

``compose_plans(plans).expected_result()`` equals ``plans[-1].expected_result()``
(a hypothesis property in tests/unit/policy/test_compose.py), with two deliberate
differences where one pass knows better than the chain: a language changed and
changed back keeps the original's ``language_ietf`` (the single tool run never
touches it), and a track encoded by one phase and dropped by a later one is never
encoded, so the file's bit rate stays known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from vpo.plan import UNCHANGED, EncodeSettings, Plan, PlannedTrack, RemovedTrack, Unchanged


class NotComposableError(ValueError):
    """The chain cannot be done in one pass (a track encoded twice, a track made from
    an encoded one): the caller runs the plans one after the other instead."""


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where an intermediate track comes from in the original file."""

    source_index: int | None  # None: synthesised somewhere in the chain
    encode: EncodeSettings | None  # the encode applied on the way (at most one)


def compose_plans(plans: Sequence[Plan]) -> Plan:
    """One plan from ``plans[0].source`` to the end state of the whole chain.

    Each plan must have been made on the previous one's ``expected_result()``.
    Raises NotComposableError when one pass cannot produce the chain's result.
    """
    if not plans:
        raise ValueError("nothing to compose")
    first = plans[0]
    if len(plans) == 1:
        return first
    origins = [_Origin(track.index, None) for track in first.source.tracks]
    removed: dict[int, str] = {}
    for plan in plans:
        if len(plan.source.tracks) != len(origins):
            raise NotComposableError(f"phase '{plan.phase}' was not planned on the chain")
        for gone in plan.removed:
            origin = origins[gone.source_index]
            if origin.source_index is not None:
                removed.setdefault(origin.source_index, gone.reason)
        origins = [_follow(plan, planned, origins) for planned in plan.tracks]
    last = plans[-1]
    tracks = tuple(
        _composed_track(planned, origin)
        for planned, origin in zip(last.tracks, origins, strict=True)
    )
    kept = {t.source_index for t in tracks if t.source_index is not None}
    attachments: list[int] = []
    for plan in plans:
        attachments += [a for a in plan.removed_attachments if a not in attachments]
    titles = [plan.title for plan in plans if not isinstance(plan.title, Unchanged)]
    tags: dict[str, str | None] = {}
    for plan in plans:
        tags.update(plan.tags)  # the value the last setter left
    return Plan(
        source=first.source,
        phase="+".join(dict.fromkeys(plan.phase for plan in plans)),
        container=last.container,
        tracks=tracks,
        removed=tuple(
            RemovedTrack(index, reason)
            for index, reason in sorted(removed.items())
            if index not in kept
        ),
        removed_attachments=tuple(attachments),
        warnings=tuple(dict.fromkeys(w for plan in plans for w in plan.warnings)),
        notes=tuple(dict.fromkeys(n for plan in plans for n in plan.notes)),
        title=titles[-1] if titles else UNCHANGED,  # the container title the last setter left
        file_time=next((p.file_time for p in reversed(plans) if p.file_time is not None), None),
        tags=tuple(sorted(tags.items())),
    )


def _follow(plan: Plan, planned: PlannedTrack, origins: list[_Origin]) -> _Origin:
    """The origin of one output track of ``plan``, given its source's origins."""
    if planned.source_index is None:  # synthesised in this phase
        encode = planned.encode
        if encode is None:
            raise NotComposableError(f"phase '{plan.phase}' adds a track without settings")
        derived = encode.derived_from
        if derived is not None:
            base = origins[derived]
            if base.source_index is None or base.encode is not None:
                raise NotComposableError(
                    f"phase '{plan.phase}' derives a track from one an earlier phase encodes"
                )
            encode = replace(encode, derived_from=base.source_index)
        return _Origin(None, encode)
    origin = origins[planned.source_index]
    if planned.encode is None:
        return origin
    if origin.encode is not None or origin.source_index is None:
        raise NotComposableError(
            f"phase '{plan.phase}' encodes a track an earlier phase already encodes"
        )
    return _Origin(origin.source_index, planned.encode)


def _composed_track(planned: PlannedTrack, origin: _Origin) -> PlannedTrack:
    return replace(planned, source_index=origin.source_index, encode=origin.encode)
