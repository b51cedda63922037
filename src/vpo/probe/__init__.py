"""Turn files into MediaFile objects: mkvmerge -J for Matroska, ffprobe for the rest."""
