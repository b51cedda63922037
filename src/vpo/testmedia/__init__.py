"""Small, exactly specified media files made with the real tools, for tests and the demo."""

from vpo.testmedia.factory import BrokenKind, MediaGenerationError, generate_broken, generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

__all__ = [
    "AudioSpec",
    "BrokenKind",
    "MediaGenerationError",
    "MediaSpec",
    "SubtitleSpec",
    "generate_broken",
    "generate_media",
]
