"""The temporary tags XML file mkvpropedit/mkvmerge read global tags from."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vpo.plan import Plan
from vpo.tools.commands.mkvtags import global_tag_set, tags_xml


@contextmanager
def global_tags_file(plan: Plan, directory: Path | None = None) -> Iterator[Path | None]:
    """A private temp file with the plan's global tags as XML, removed on exit;
    None when the plan changes no tag or the set is empty (the tools then take
    no file: the tags are removed)."""
    tags = global_tag_set(plan)
    if not tags:
        yield None
        return
    handle, name = tempfile.mkstemp(prefix=".vpo-tags-", suffix=".xml", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(tags_xml(tags))
        yield path
    finally:
        path.unlink(missing_ok=True)
