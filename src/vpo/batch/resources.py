"""``[processing] encode_resources``: files that will encode go only to Dask
workers started with those resources (``dask worker --resources "GPU=1"``).

Which files encode is known only from a plan, so the coordinator plans each file
before it submits it (pure, on the library's cached probe, else on a probe it
makes itself): a file with an encode step in any phase is submitted with
``resources={"GPU": 1}``, every other file goes to any worker. A file the
coordinator cannot probe or plan goes with the resources (it may encode).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from vpo.errors import ConfigError
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile
from vpo.plan import Plan, PlanKind
from vpo.policy.phases import run_phases
from vpo.policy.schema import Phase
from vpo.workflow.context import CachedProbe, WorkflowContext, current_media

Resources = tuple[tuple[str, float], ...]


def parse_resources(text: str) -> Resources:
    """``"GPU=1"`` or ``"GPU=1,VRAM=8"`` as sorted (name, amount) pairs; ``""``: none.
    ConfigError naming the malformed entry (the syntax of ``dask worker --resources``)."""
    pairs: dict[str, float] = {}
    for entry in (part.strip() for part in text.replace(" ", ",").split(",")):
        if not entry:
            continue
        name, sep, amount = entry.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = -1.0
        if not sep or not name.strip() or value <= 0:
            raise ConfigError(
                f"[processing] encode_resources: {entry!r} is not NAME=AMOUNT (e.g. GPU=1)"
            )
        pairs[name.strip()] = value
    return tuple(sorted(pairs.items()))


def describe(resources: Resources) -> str:
    return ",".join(f"{name}={amount:g}" for name, amount in resources)


def offered(wanted: Resources, available: Mapping[str, float]) -> bool:
    """Whether a worker with ``available`` resources can run a file that needs ``wanted``."""
    return all(available.get(name, 0.0) >= amount for name, amount in wanted)


class _Encodes(Exception):
    """A phase plans an encode: the file needs the encode resources."""


def _simulate(_phase: Phase, plan: Plan) -> MediaFile:
    if plan.kind is PlanKind.ENCODE:
        raise _Encodes
    return plan.source if plan.is_noop else plan.expected_result()


def plans_encode(
    context: WorkflowContext, media: MediaFile, metadata: FileMetadata = NO_METADATA
) -> bool:
    """Pure: whether planning the phases on ``media`` (each on the expected result of
    the ones before, as dry-run does; with the file's Sonarr/Radarr ``metadata``)
    reaches an encode."""
    try:
        run_phases(context.policy, context.phases, media, _simulate, metadata=metadata)
    except _Encodes:
        return True
    return False


def needs_resources(
    path: Path,
    context: WorkflowContext,
    cached: CachedProbe | None,
    metadata: FileMetadata = NO_METADATA,
) -> tuple[bool, CachedProbe | None]:
    """Whether ``path`` will encode, and the probe it was decided on (handed to the
    worker as the cached probe, so the worker does not probe again). Unknown: True."""
    try:
        media, ctime_ns = current_media(path, context, cached)
    except Exception:  # no ffprobe on the coordinator, unreadable file: it may encode
        return True, cached
    probe = cached if ctime_ns is None else CachedProbe(media, ctime_ns)
    try:
        return plans_encode(context, media, metadata), probe
    except Exception:  # a phase that fails to evaluate fails on the worker, anywhere
        return False, probe
