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


def global_tag_set(plan: Plan) -> tuple[tuple[str, str], ...] | None:
    """The global tags the output must carry when the plan changes any (None: it
    changes none, leave the tags to the tool). From a Matroska source: its global
    tags with the changes; from another container: the tags the plan sets (its
    MP4/AVI tags are not Matroska tags)."""
    if not plan.tag_changes():
        return None
    if plan.source.container.is_matroska_family:
        return plan.global_tags()
    return tuple((name, value) for name, value in plan.tags if value is not None)


def tags_xml(tags: tuple[tuple[str, str], ...]) -> str:
    """Matroska tags XML holding ``tags`` as one global tag (no target), names in
    upper case as Matroska writes them."""
    simples = "".join(
        f"<Simple><Name>{escape(name.upper())}</Name>"
        f"<String>{escape(_NOT_XML.sub('', value))}</String></Simple>"
        for name, value in tags
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Tags><Tag><Targets/>{simples}</Tag></Tags>\n'
