"""Matroska element IDs (from the Matroska/EBML specifications, RFC 8794 and RFC 9559).

Only the elements vpo reads are listed. IDs keep their length marker, as the
specifications and mkvinfo write them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# EBML header and global elements
EBML: Final = 0x1A45DFA3
DOC_TYPE: Final = 0x4282
VOID: Final = 0xEC
CRC32: Final = 0xBF

# Segment and its top-level children
SEGMENT: Final = 0x18538067
SEEK_HEAD: Final = 0x114D9B74
INFO: Final = 0x1549A966
TRACKS: Final = 0x1654AE6B
CLUSTER: Final = 0x1F43B675
CUES: Final = 0x1C53BB6B
ATTACHMENTS: Final = 0x1941A469
CHAPTERS: Final = 0x1043A770
TAGS: Final = 0x1254C367

# SeekHead
SEEK: Final = 0x4DBB
SEEK_ID: Final = 0x53AB
SEEK_POSITION: Final = 0x53AC

# Info
TIMESTAMP_SCALE: Final = 0x2AD7B1
DURATION: Final = 0x4489
TITLE: Final = 0x7BA9

# Tracks
TRACK_ENTRY: Final = 0xAE
TRACK_NUMBER: Final = 0xD7
TRACK_UID: Final = 0x73C5
TRACK_TYPE: Final = 0x83
FLAG_DEFAULT: Final = 0x88
FLAG_FORCED: Final = 0x55AA
FLAG_HEARING_IMPAIRED: Final = 0x55AB
FLAG_VISUAL_IMPAIRED: Final = 0x55AC
FLAG_ORIGINAL: Final = 0x55AE
FLAG_COMMENTARY: Final = 0x55AF
DEFAULT_DURATION: Final = 0x23E383
NAME: Final = 0x536E
LANGUAGE: Final = 0x22B59C
LANGUAGE_BCP47: Final = 0x22B59D
CODEC_ID: Final = 0x86
CODEC_PRIVATE: Final = 0x63A2
VIDEO: Final = 0xE0
PIXEL_WIDTH: Final = 0xB0
PIXEL_HEIGHT: Final = 0xBA
AUDIO: Final = 0xE1
SAMPLING_FREQUENCY: Final = 0xB5
CHANNELS: Final = 0x9F
BIT_DEPTH: Final = 0x6264

# TrackType values
TRACK_TYPE_VIDEO: Final = 1
TRACK_TYPE_AUDIO: Final = 2
TRACK_TYPE_SUBTITLE: Final = 17

# Attachments
ATTACHED_FILE: Final = 0x61A7
FILE_DESCRIPTION: Final = 0x467E
FILE_NAME: Final = 0x466E
FILE_MEDIA_TYPE: Final = 0x4660
FILE_DATA: Final = 0x465C
FILE_UID: Final = 0x46AE

# Chapters
EDITION_ENTRY: Final = 0x45B9
CHAPTER_ATOM: Final = 0xB6

# Tags
TAG: Final = 0x7373
TARGETS: Final = 0x63C0
TAG_TRACK_UID: Final = 0x63C5
TAG_EDITION_UID: Final = 0x63C9
TAG_CHAPTER_UID: Final = 0x63C4
TAG_ATTACHMENT_UID: Final = 0x63C6
TARGET_UIDS: Final = frozenset(
    {TAG_TRACK_UID, TAG_EDITION_UID, TAG_CHAPTER_UID, TAG_ATTACHMENT_UID}
)
SIMPLE_TAG: Final = 0x67C8
TAG_NAME: Final = 0x45A3
TAG_STRING: Final = 0x4487

TOP_LEVEL_NAMES: Mapping[int, str] = MappingProxyType(
    {
        SEEK_HEAD: "SeekHead",
        INFO: "Info",
        TRACKS: "Tracks",
        CLUSTER: "Cluster",
        CUES: "Cues",
        ATTACHMENTS: "Attachments",
        CHAPTERS: "Chapters",
        TAGS: "Tags",
        VOID: "Void",
        CRC32: "CRC-32",
    }
)
"""Names of the elements that may sit directly in a Segment (spec names)."""


def element_name(element_id: int) -> str:
    """The spec name of a Segment child, or ``Unknown(0x…)`` for anything else."""
    return TOP_LEVEL_NAMES.get(element_id, f"Unknown({element_id:#x})")
