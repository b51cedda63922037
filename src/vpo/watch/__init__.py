"""Watched folders: file-system events → settled files → one process job each (issue 15)."""
