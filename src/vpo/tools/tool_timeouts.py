"""How long a tool may run before vpo kills it: a floor plus a rate per GiB.

A fixed timeout either kills a legitimate 60 GB remux or waits forever on a
hung 100 MB one; scaling with the input size does neither.
"""

from __future__ import annotations

from dataclasses import dataclass

_GIB = 1024**3


@dataclass(frozen=True, slots=True)
class ToolTimeouts:
    """Seconds allowed per run: ``floor`` + ``per_gib`` × input size in GiB."""

    floor: float = 60.0
    per_gib: float = 120.0  # a remux copies ~0.5–1 GB/s; 120 s/GiB allows a slow disk
    header_edit: float = 60.0  # mkvpropedit: cost does not depend on file size

    def for_rewrite(self, input_bytes: int) -> float:
        return self.floor + self.per_gib * max(input_bytes, 0) / _GIB

    def for_header_edit(self) -> float:
        return self.header_edit
