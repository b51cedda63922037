"""The "order" case most integration tests share: English audio first and default.

``ORDER_POLICY`` is one phase that reorders the audio (English first) and sets the
default flag on it (``REORDER_POLICY`` only reorders); ``FOREIGN_FIRST`` is a file it
changes (a remux), and ``ENGLISH_FIRST`` one it leaves as it is. The daemon, hook,
watch, notification and signal tests all need exactly these, so they live in one place.
"""

from __future__ import annotations

from vpo.testmedia.spec import AudioSpec, MediaSpec

# English audio first, flags untouched
REORDER_POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
"""
# English audio first and the only default
ORDER_POLICY = (
    REORDER_POLICY
    + "    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}\n"
)

# French first and default: ORDER_POLICY remuxes it to [video, eng (default), fre]
FOREIGN_FIRST = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)
# already as ORDER_POLICY wants it: unchanged
ENGLISH_FIRST = MediaSpec(
    audio=(AudioSpec(language="eng", default=True), AudioSpec(language="fre"))
)
