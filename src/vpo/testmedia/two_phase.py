"""The two-phase case the transaction tests and bench/apply.py share.

A French-first file with a German subtitle, and two policies of two phases each:
one whose phases compose into a single mkvmerge remux (filter, then reorder and
flags), one whose phases compose into a single in-place mkvpropedit edit (flags,
then a title). Kill tests, lying-tool tests and the benchmark all need exactly
these, so they live in one place.
"""

from __future__ import annotations

import textwrap

from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

SPEC = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng")),
    subtitles=(SubtitleSpec(language="ger"), SubtitleSpec(language="eng")),
)
AUDIO_ONLY_SPEC = MediaSpec(audio=SPEC.audio)  # what the metadata policy works on

# filter, then reorder + flags: one mkvmerge write → [video, eng (default), fre, sub eng]
REMUX_POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  subtitle_language_preference: [eng]
phases:
  - name: filter
    subtitle_filter: {languages: [eng]}
  - name: order
    track_order: [video, audio_main, audio_alternate, subtitle_main]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""

# names the French audio track "Francais": the body of a phase (indent it to its place)
NAME_FRENCH = """\
conditional:
  - name: name-french
    when: {exists: {track_type: audio, language: fre}}
    then:
      - set_title: {track_type: audio, language: fre, to: "Francais"}
"""

# flags, then a title: one in-place mkvpropedit edit → fre (not default, "Francais"), eng default
METADATA_POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: flags
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
  - name: titles
""" + textwrap.indent(NAME_FRENCH, "    ")
