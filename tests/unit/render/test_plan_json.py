"""The documented dry-run JSON: golden file plus structural checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vpo.cli.render.plan_json import document, error_dict, file_dict
from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import identity_plan
from vpo.policy.phases import FileEvaluation, PhaseOutcome, PhaseResult

GOLDEN = Path(__file__).parents[2] / "golden"


def sample() -> FileEvaluation:
    media = MediaFile(
        Path("show/e01.mkv"),
        Container.MATROSKA,
        10,
        0,
        (
            Track(0, 0, TrackType.VIDEO, "h264"),
            Track(1, 1, TrackType.AUDIO, "aac", "ger", flags=TrackFlags(default=True)),
            Track(2, 2, TrackType.AUDIO, "aac", "eng"),
        ),
    )
    base = identity_plan(media, "flags")
    from dataclasses import replace

    plan = replace(
        base,
        tracks=(
            base.tracks[0],
            replace(base.tracks[2], flags=TrackFlags(default=True)),
            replace(base.tracks[1], flags=TrackFlags()),
        ),
        notes=("track_order: tracks reordered",),
    )
    return FileEvaluation(
        media,
        (
            PhaseResult("flags", PhaseOutcome.COMPLETED, plan=plan),
            PhaseResult("later", PhaseOutcome.SKIPPED, reason="skip_when: file size under limit"),
        ),
    )


def test_dry_run_json_matches_golden() -> None:
    doc = document(
        "policy.yaml",
        ["flags", "later"],
        [file_dict(sample()), error_dict("bad.mkv", "bad.mkv: empty file (0 bytes)")],
        {"files": 2, "noop": 0, "metadata": 0, "remux": 1, "encode": 0, "errors": 1},
    )
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    path = GOLDEN / "dry_run.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_file_dict_structure_follows_the_plan() -> None:
    data = file_dict(sample())
    assert data["kind"] == "remux"
    plan = data["phases"][0]["plan"]
    assert [t["source_index"] for t in plan["tracks"]] == [0, 2, 1]
    assert [c["source_index"] for c in plan["changes"]] == [2, 1]
    assert plan["changes"][0]["fields"] == {"default": {"before": False, "after": True}}
    assert data["phases"][1] == {
        "name": "later",
        "outcome": "skipped",
        "reason": "skip_when: file size under limit",
        "plan": None,
    }
    json.dumps(data)  # everything is JSON-serialisable
