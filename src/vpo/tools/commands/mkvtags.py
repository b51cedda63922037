"""Matroska global tags for mkvpropedit/mkvmerge: which to write, as tags XML.

Both tools take global tags only from an XML file that replaces all of them
(mkvpropedit ``--tags global:FILE``, mkvmerge ``--global-tags FILE``), so a plan
that changes one tag writes the whole set: the source's tags with the change.
Pure functions; vpo.tools.tag_files writes the file.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from vpo.plan import Plan

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold (dropped: verification then reports the tag)."""


STRUCTURAL_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})
"""Tags another container's muxer writes about itself: not carried into Matroska."""


def global_tag_set(plan: Plan) -> tuple[tuple[str, str], ...] | None:
    """The global tags the output must carry (None: leave them to the tool).

    From a Matroska source: when the plan changes any, its global tags with the
    changes. From another container (mkvmerge carries none of its tags): its
    tags but the muxer's own, with the plan's changes (``preserve_metadata:
    false`` plans every one removed), when any is left or changed.
    """
    if plan.source.container.is_matroska_family:
        return plan.global_tags() if plan.tag_changes() else None
    carried = tuple((n, v) for n, v in plan.global_tags() if n not in STRUCTURAL_TAGS)
    return carried if carried or plan.tag_changes() else None


def tags_xml(tags: tuple[tuple[str, str], ...]) -> str:
    """Matroska tags XML holding ``tags`` as one global tag (no target), names in
    upper case as Matroska writes them."""
    simples = "".join(
        f"<Simple><Name>{escape(name.upper())}</Name>"
        f"<String>{escape(_NOT_XML.sub('', value))}</String></Simple>"
        for name, value in tags
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Tags><Tag><Targets/>{simples}</Tag></Tags>\n'
