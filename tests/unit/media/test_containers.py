"""The container capability table and its pure helpers."""

from __future__ import annotations

import pytest

from vpo.media.containers import (
    CAPABILITIES,
    FLAG_NAMES,
    UNKNOWN,
    capabilities,
    stored_flags,
    stored_language,
    stored_title,
)
from vpo.media.model import Container, TrackFlags, TrackType

ALL_ON = TrackFlags(**dict.fromkeys(FLAG_NAMES, True))


def test_every_named_container_has_a_row() -> None:
    assert set(CAPABILITIES) == set(Container) - {Container.OTHER}
    assert capabilities(Container.OTHER) is UNKNOWN


@pytest.mark.parametrize(
    ("container", "kept"),
    [
        (Container.MATROSKA, set(FLAG_NAMES)),
        (Container.WEBM, set(FLAG_NAMES)),
        (Container.MP4, set(FLAG_NAMES) - {"original"}),
        (Container.MOV, {"default"}),
        (Container.AVI, set()),
        (Container.MPEGTS, {"hearing_impaired"}),  # one audio type: the first wins
        (Container.OGG, set()),
        (Container.OTHER, set()),
    ],
)
def test_stored_flags_keep_only_what_the_container_holds(
    container: Container, kept: set[str]
) -> None:
    flags = stored_flags(container, ALL_ON)
    assert {name for name in FLAG_NAMES if getattr(flags, name)} == kept


def test_mpegts_keeps_visual_impaired_alone() -> None:
    flags = stored_flags(Container.MPEGTS, TrackFlags(visual_impaired=True, default=True))
    assert flags == TrackFlags(visual_impaired=True)


@pytest.mark.parametrize(
    ("container", "track_type", "language", "title"),
    [
        (Container.MATROSKA, TrackType.VIDEO, "fre", "T"),
        (Container.AVI, TrackType.AUDIO, "und", "T"),
        (Container.MPEGTS, TrackType.AUDIO, "fre", None),
        (Container.MPEGTS, TrackType.VIDEO, "und", None),
        (Container.OGG, TrackType.AUDIO, "fre", "T"),
        (Container.MOV, TrackType.SUBTITLE, "fre", "T"),
    ],
)
def test_stored_language_and_title(
    container: Container, track_type: TrackType, language: str, title: str | None
) -> None:
    assert stored_language(container, track_type, "fre") == language
    assert stored_title(container, track_type, "T") == title


@pytest.mark.parametrize(
    ("container", "track_type", "codec", "held"),
    [
        (Container.MATROSKA, TrackType.AUDIO, "truehd", True),
        (Container.MP4, TrackType.AUDIO, "truehd", False),
        (Container.MP4, TrackType.AUDIO, "pcm_s16le", False),
        (Container.MOV, TrackType.AUDIO, "pcm_s16le", True),
        (Container.MP4, TrackType.SUBTITLE, "subrip", False),
        (Container.MP4, TrackType.SUBTITLE, "mov_text", True),
        (Container.AVI, TrackType.SUBTITLE, "subrip", False),
        (Container.AVI, TrackType.AUDIO, "pcm_s24le", True),
        (Container.WEBM, TrackType.VIDEO, "h264", False),
        (Container.OGG, TrackType.VIDEO, "theora", True),
        (Container.MPEGTS, TrackType.AUDIO, "dts", True),
        (Container.OTHER, TrackType.VIDEO, "h264", False),
    ],
)
def test_holds(container: Container, track_type: TrackType, codec: str, held: bool) -> None:
    assert capabilities(container).holds(track_type, codec) is held


def test_attachments_and_chapters() -> None:
    with_attachments = {c for c, caps in CAPABILITIES.items() if caps.attachments}
    with_chapters = {c for c, caps in CAPABILITIES.items() if caps.chapters}
    assert with_attachments == {Container.MATROSKA}
    assert with_chapters == {Container.MATROSKA, Container.WEBM, Container.MP4, Container.MOV}
