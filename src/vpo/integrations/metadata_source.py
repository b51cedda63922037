"""What a batch passes as ``ProcessRequest.metadata_for`` (light: no HTTP client loaded
unless Sonarr or Radarr is configured, so ``vpo process`` starts as fast as before)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from vpo.config.models import IntegrationsConfig
from vpo.library import Library
from vpo.media.metadata import FileMetadata

MetadataLookup = Callable[[Sequence[Path]], Mapping[Path, FileMetadata]]


def batch_metadata(
    integrations: IntegrationsConfig,
    library: Library | None,
    *,
    warn: Callable[[str], None],
    store: bool = True,
) -> MetadataLookup | None:
    """With ``[integrations.sonarr]``/``[integrations.radarr]`` url set: a lookup that
    first fetches the titles the library does not hold yet (one warning when a server
    cannot answer; ``store=False``, a dry run: held in memory only). Otherwise the
    library's stored metadata; None without a library."""
    if not (integrations.radarr.url or integrations.sonarr.url):
        return library.metadata_for if library is not None else None
    from vpo.integrations.arr_metadata import metadata_lookup

    return metadata_lookup(integrations, library, warn=warn, store=store)
