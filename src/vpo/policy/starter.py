"""The starter policy ``vpo init`` writes: a working policy to edit, not a template."""

from __future__ import annotations

STARTER_POLICY_NAME = "policy.yaml"

STARTER_POLICY = """\
# vpo starter policy: edit it, check it with `vpo policy validate policy.yaml`,
# preview it with `vpo process --dry-run -p policy.yaml /path/to/videos`.
# Every field is documented in docs/policy.md; more examples: examples/policies/.
schema_version: 12

config:
  on_error: skip                              # skip | continue | fail
  audio_language_preference: [eng, und]       # most wanted first (ISO 639 codes)
  subtitle_language_preference: [eng]
  commentary_patterns: [commentary, director]

phases:
  - name: tidy
    # Keep the languages you speak (at least one audio track always stays).
    audio_filter:
      languages: [eng, und]
      fallback: {mode: content_language}
    subtitle_filter:
      languages: [eng]
      preserve_forced: true
    # Main audio first, commentary last; forced subtitles before full ones.
    track_order: [video, audio_main, audio_alternate, subtitle_forced, subtitle_main,
                  audio_commentary, subtitle_commentary]
    # The first audio track after ordering is the default; foreign films get
    # English subtitles switched on.
    default_flags:
      set_first_video_default: true
      set_preferred_audio_default: true
      clear_other_defaults: true
      set_subtitle_default_when_audio_differs: true
"""
