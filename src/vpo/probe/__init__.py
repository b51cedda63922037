"""Turn files into MediaFile objects: mkvmerge -J for Matroska, ffprobe for the rest.

Public API: ``vpo.probe.probe.probe_file`` (the runner), the pure parsers
``vpo.probe.mkvmerge_json.parse_mkvmerge_json`` and
``vpo.probe.ffprobe_json.parse_ffprobe_json``, codec names in
``vpo.probe.codecs`` and the errors in ``vpo.probe.errors``. Nothing is
imported here, so importing one of them does not pull in the others.
"""
