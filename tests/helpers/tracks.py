"""What ``mkvmerge -J`` says about a file's tracks, read the way the tests compare them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def mkvmerge_tracks(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True).stdout
    tracks: list[dict[str, Any]] = json.loads(out)["tracks"]
    return tracks


def audio_languages(path: Path) -> list[tuple[str, bool]]:
    """(language, default flag) of each audio track, in the file's order."""
    return [
        (t["properties"]["language"], t["properties"]["default_track"])
        for t in mkvmerge_tracks(path)
        if t["type"] == "audio"
    ]
