"""examples/policies/living-room-tv.yaml on the demo library, phase by phase through
evaluate() and apply_plan(): every output passes the checks, a second run is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.apply.encode import TranscodeSettings
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile, TrackType
from vpo.plan import Plan
from vpo.policy.evaluate import evaluate
from vpo.policy.loader import load_policy
from vpo.policy.phases import skip_reason
from vpo.policy.schema import Policy
from vpo.probe.probe import probe_file
from vpo.testmedia.demo import build_demo_library
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

POLICY = Path(__file__).resolve().parents[2] / "examples" / "policies" / "living-room-tv.yaml"
SETTINGS = ApplySettings(stable_seconds=0.0)
TRANSCODE = TranscodeSettings(stall_seconds=60.0, niceness=None)


def run_policy(policy: Policy, path: Path, tools: ToolPaths) -> tuple[Path, list[Plan]]:
    """Every phase in order on one file; returns its final path and the plans made."""
    plans = []
    for phase in policy.phases:
        media = probe_file(path, tools)
        if phase.skip_when is not None and skip_reason(phase.skip_when, media):
            continue
        plan = evaluate(phase, media, policy.config)
        plans.append(plan)
        outcome = apply_plan(plan, tools, SETTINGS, transcode=TRANSCODE)
        path = outcome.media.path
    return path, plans


def stereo_next_to_surround(media: MediaFile) -> bool:
    audio = media.audio_tracks
    return any(t.codec == "aac" and t.channels == 2 and t.title == "Stereo" for t in audio)


def test_living_room_policy_on_the_demo_library(tools: ToolPaths, tmp_path: Path) -> None:
    policy = load_policy(POLICY)
    files = build_demo_library(tmp_path / "demo", tools)
    finals = []
    for path in files:
        final, _ = run_policy(policy, path, tools)
        finals.append(final)
        media = probe_file(final, tools)
        assert media.video_tracks[0].codec == "hevc", final
        assert all(t.codec in ("aac", "ac3", "eac3") for t in media.audio_tracks), final
        surround = [t for t in media.audio_tracks if (t.channels or 0) > 2]
        for source in surround:
            assert stereo_next_to_surround(media), final
            position = media.tracks.index(source)
            following = media.tracks[position + 1]
            assert following.type is TrackType.AUDIO and following.title == "Stereo", final
    assert sum(1 for f in finals if f.suffix == ".mkv") == len(files) - 1  # the MP4 stays MP4
    for final in finals:
        _, again = run_policy(policy, final, tools)
        assert all(plan.is_noop for plan in again), (final, [p.notes for p in again])
