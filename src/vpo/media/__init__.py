"""Domain model of a media file: immutable objects every other layer reads."""

from vpo.media.model import Attachment, MediaFile, Track, TrackFlags, TrackType

__all__ = ["Attachment", "MediaFile", "Track", "TrackFlags", "TrackType"]
