"""ApplyOutcome: what applying one plan did.

Its own small module so that a dry run, which only simulates outcomes
(vpo.workflow.transaction.SimulateExecutor), does not import the machinery that
writes files (vpo.apply.execute, the encoder, the journal): start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.apply.choose import Tool
from vpo.media.model import MediaFile

if TYPE_CHECKING:
    from vpo.apply.encode import EncodeResult


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What applying one plan did. ``media`` is the verified result, with the final
    path and its stat after the replace (update any cache with it)."""

    tool: Tool
    reason: str
    seconds: float
    bytes_written: int
    media: MediaFile
    backup: Path | None = None
    in_place: bool = False
    warnings: tuple[str, ...] = ()
    encode: EncodeResult | None = None  # sizes, encoders and speed of an encode
