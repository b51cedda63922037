"""Every failure leaves the original byte-identical: stub tools, kill -9, full disk."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.apply.errors import ApplyError, PreflightError, VerificationError
from vpo.apply.execute import apply_plan
from vpo.apply.recovery import RecoveryKind, recover_leftovers
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError, ToolTimeoutError
from vpo.tools.tool_timeouts import ToolTimeouts

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
SETTINGS = ApplySettings(stable_seconds=0.0)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
)
LONG_TITLE = "A title long enough that mkvpropedit must move the Tracks element " * 40

# Runs in a child process: apply a header edit, so the test can kill the whole process.
CHILD = """
import sys
import threading
from dataclasses import replace
from pathlib import Path
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.plan import identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.tools.locate import locate_tools

path, mkvpropedit, title = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
tools = replace(locate_tools(), mkvpropedit=mkvpropedit)
plan = identity_plan(probe_matroska_headers(path), "kill-test")
tracks = list(plan.tracks)
tracks[2] = replace(tracks[2], title=title, language="spa",
                    flags=replace(tracks[2].flags, default=True))
plan = replace(plan, tracks=tuple(tracks))
print("ready", flush=True)
apply_plan(plan, tools, ApplySettings(stable_seconds=0.0))
print("done", flush=True)
"""


def stub(name: str) -> str:
    return str(STUBS / name)


def header_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    tracks = list(plan.tracks)
    tracks[2] = replace(tracks[2], language="spa", title=LONG_TITLE)
    return replace(plan, tracks=tuple(tracks))


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    return replace(
        plan,
        tracks=plan.tracks[:2],
        removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")),
    )


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize(
    ("tool", "make_plan"),
    [("mkvpropedit", header_plan), ("mkvmerge", remux_plan)],
)
def test_failing_tool_leaves_the_original_identical(
    media_factory: MediaFactory,
    tools: ToolPaths,
    tool: str,
    make_plan: Callable[[MediaFile], Plan],
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    with pytest.raises(ToolError) as caught:
        apply_plan(
            make_plan(probe_matroska_headers(path)),
            replace(tools, **{tool: stub("fail")}),
            SETTINGS,
        )
    assert str(caught.value) == (
        f"{path}: fail failed (exit 2): Error: could not write to the destination file: "
        "No space left on device"
    )
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


def test_failing_ffmpeg_leaves_the_original_identical(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    probe = pytest.importorskip("vpo.probe.probe")
    path = media_factory(MediaSpec(container="mp4", audio=(AudioSpec(default=True), AudioSpec())))
    original = path.read_bytes()
    plan = remux_plan(probe.probe_file(path, tools))
    plan = replace(plan, tracks=plan.tracks[:2], removed=(RemovedTrack(2, "x"),))
    with pytest.raises(ToolError, match="No space left on device"):
        apply_plan(plan, replace(tools, ffmpeg=stub("fail")), SETTINGS)
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


@pytest.mark.parametrize(
    ("tool", "make_plan"),
    [("mkvpropedit", header_plan), ("mkvmerge", remux_plan)],
)
def test_hanging_tool_is_killed_and_the_original_kept(
    media_factory: MediaFactory,
    tools: ToolPaths,
    tool: str,
    make_plan: Callable[[MediaFile], Plan],
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    settings = replace(SETTINGS, timeouts=ToolTimeouts(floor=1.0, per_gib=0.0, header_edit=1.0))
    started = time.monotonic()
    with pytest.raises(ToolTimeoutError, match="timed out after 1 s"):
        apply_plan(
            make_plan(probe_matroska_headers(path)),
            replace(tools, **{tool: stub("hang")}),
            settings,
        )
    assert time.monotonic() - started < 10
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


def test_truncated_output_with_exit_0_is_caught_by_the_segment_size(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    monkeypatch.setenv("VPO_STUB_REAL", tools.require("mkvmerge"))
    with pytest.raises(VerificationError, match=r"output is truncated: Segment ends at byte \d+"):
        apply_plan(
            remux_plan(probe_matroska_headers(path)),
            replace(tools, mkvmerge=stub("truncate-output")),
            SETTINGS,
        )
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


def test_mkvpropedit_dying_mid_write_is_undone_from_the_journal(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    before = path.stat()
    with pytest.raises(ToolError, match="killed by SIGKILL"):
        apply_plan(
            header_plan(probe_matroska_headers(path)),
            replace(tools, mkvpropedit=stub("mkvpropedit-die-mid-write")),
            SETTINGS,
        )
    assert path.read_bytes() == original
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert listing(path.parent) == [path.name]


def _run_child(path: Path, mkvpropedit: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mkvpropedit, LONG_TITLE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_kill_9_of_vpo_mid_edit_then_recovery_gives_the_original_back(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    env = {**os.environ, "VPO_STUB_KILL_PARENT": "1"}
    child = _run_child(path, stub("mkvpropedit-die-mid-write"), env)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() != original  # the edit really was cut off half-way
    journal = path.parent / f".vpo-journal-{path.name}.json"
    assert journal.exists()
    actions = recover_leftovers(path.parent)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.RESTORED, path)]
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


def _edited_summary(tools: ToolPaths, path: Path) -> list[tuple[str, str | None, bool]]:
    data = json.loads(
        subprocess.run(
            [tools.require("mkvmerge"), "-J", str(path)], capture_output=True, check=True
        ).stdout
    )
    return [
        (
            t["properties"].get("language"),
            t["properties"].get("track_name"),
            t["properties"]["default_track"],
        )
        for t in data["tracks"]
    ]


@pytest.mark.slow
def test_real_kill_9_at_many_points_always_recovers(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    """SIGKILL the vpo process at 0–80 ms into a real mkvpropedit edit, then recover:
    every time the file is either the byte-identical original or the complete edit."""
    template = media_factory(SPEC, "template/movie.mkv")
    original = template.read_bytes()
    edited_reference = media_factory(SPEC, "reference/movie.mkv")
    subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(edited_reference),
            tools.require("mkvpropedit"),
            LONG_TITLE,
        ],
        check=True,
        capture_output=True,
    )
    edited = _edited_summary(tools, edited_reference)
    outcomes: dict[str, int] = {"original": 0, "edited": 0, "restored": 0}
    for step in range(17):
        work = tmp_path / f"run{step}"
        work.mkdir()
        path = work / "movie.mkv"
        shutil.copyfile(template, path)
        os.utime(path, ns=(template.stat().st_atime_ns, template.stat().st_mtime_ns))
        child = _run_child(path, tools.require("mkvpropedit"), dict(os.environ))
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(step * 0.005)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        actions = recover_leftovers(work)
        deadline = time.monotonic() + 10
        while any(a.kind is RecoveryKind.BUSY for a in actions) and time.monotonic() < deadline:
            time.sleep(0.05)  # the orphaned mkvpropedit is still running: a later run
            actions = recover_leftovers(work)
        outcomes["restored"] += sum(a.kind is RecoveryKind.RESTORED for a in actions)
        assert all(a.kind in (RecoveryKind.RESTORED, RecoveryKind.REMOVED_TEMP) for a in actions), (
            actions
        )
        assert listing(work) == ["movie.mkv"]
        restored = any(a.kind is RecoveryKind.RESTORED for a in actions)
        if path.read_bytes() == original:
            outcomes["original"] += 1
        else:
            assert _edited_summary(tools, path) == edited, f"damaged after kill at step {step}"
            probe_matroska_headers(path)  # complete Segment, readable headers
            assert not restored, f"a tool still running wrote after the restore (step {step})"
            outcomes["edited"] += 1
    assert outcomes["original"] + outcomes["edited"] == 17
    print(outcomes)


# Full disk -------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(where: Path, megabytes: int) -> Iterator[Path]:
    image = where / "fs.img"
    mount_point = where / "mnt"
    mount_point.mkdir()
    with image.open("wb") as stream:
        stream.truncate(megabytes * 1024 * 1024)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("mkfs.ext4 unavailable: full-disk test falls back to the stub test")
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot loop-mount ({mounted.stderr.decode().strip()}); the stub test covers ENOSPC"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_not_enough_space_is_refused_before_writing(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    source = media_factory(SPEC)
    with small_filesystem(tmp_path, 8) as disk:
        path = disk / "movie.mkv"
        shutil.copyfile(source, path)
        original = path.read_bytes()
        with pytest.raises(PreflightError) as caught:
            apply_plan(remux_plan(probe_matroska_headers(path)), tools, SETTINGS)
        message = str(caught.value)
        assert message.startswith(f"{path}: not enough free space in {disk}: need ")
        assert "MB free (free space or set [jobs] temp_dir)" in message
        assert path.read_bytes() == original
        assert listing(disk) == ["lost+found", "movie.mkv"]


def test_disk_filling_up_during_the_remux_leaves_the_original(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer takes the space after the preflight: mkvmerge hits a real ENOSPC."""
    source = media_factory(SPEC)
    with small_filesystem(tmp_path, 8) as disk:
        path = disk / "movie.mkv"
        shutil.copyfile(source, path)
        original = path.read_bytes()
        plan = remux_plan(probe_matroska_headers(path))
        filler = disk / "filler"
        with filler.open("wb") as stream, contextlib.suppress(OSError):
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
        monkeypatch.setattr("vpo.apply.preflight.free_bytes", lambda directory: 1 << 40)
        with pytest.raises(ToolError) as caught:
            apply_plan(plan, tools, SETTINGS)
        assert "mkvmerge failed" in str(caught.value)
        assert path.read_bytes() == original
        assert listing(disk) == ["filler", "lost+found", "movie.mkv"]


def test_next_apply_restores_a_leftover_journal_first(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    plan = header_plan(probe_matroska_headers(path))
    env = {**os.environ, "VPO_STUB_KILL_PARENT": "1"}
    _run_child(path, stub("mkvpropedit-die-mid-write"), env).communicate(timeout=60)
    assert path.read_bytes() != original
    with pytest.raises(PreflightError, match="restored from an interrupted vpo edit"):
        apply_plan(plan, tools, SETTINGS)
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]
    assert apply_plan(plan, tools, SETTINGS).in_place  # the original's plan applies again


def test_temp_dir_on_another_filesystem_is_copied_back_safely(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    with small_filesystem(tmp_path, 48) as scratch:
        assert scratch.stat().st_dev != path.stat().st_dev
        settings = replace(SETTINGS, temp_dir=scratch)
        outcome = apply_plan(remux_plan(probe_matroska_headers(path)), tools, settings)
        assert outcome.media.path == path
        assert len(_edited_summary(tools, path)) == 2
        assert listing(scratch) == ["lost+found"]
        assert listing(path.parent) == ["movie.mkv"]


@pytest.mark.parametrize(
    ("tool", "make_plan"),
    [("mkvpropedit", header_plan), ("mkvmerge", remux_plan)],
)
def test_ctrl_c_during_the_tool_cleans_up_and_keeps_the_original(
    media_factory: MediaFactory,
    tools: ToolPaths,
    tool: str,
    make_plan: Callable[[MediaFile], Plan],
) -> None:
    path = media_factory(SPEC)
    original = path.read_bytes()
    plan = make_plan(probe_matroska_headers(path))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            apply_plan(plan, replace(tools, **{tool: stub("hang")}), SETTINGS)
    finally:
        timer.cancel()
    assert path.read_bytes() == original
    assert listing(path.parent) == [path.name]


def test_disk_full_while_copying_for_a_backup_is_one_clear_error(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = media_factory(SPEC)
    with small_filesystem(tmp_path, 8) as disk:
        path = disk / "movie.mkv"
        shutil.copyfile(source, path)
        original = path.read_bytes()
        plan = header_plan(probe_matroska_headers(path))
        with (disk / "filler").open("wb") as stream, contextlib.suppress(OSError):
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
        monkeypatch.setattr("vpo.apply.preflight.free_bytes", lambda directory: 1 << 40)
        with pytest.raises(ApplyError) as caught:
            apply_plan(plan, tools, replace(SETTINGS, keep_backup=True))
        assert str(caught.value).startswith(f"{path}: cannot write: No space left on device")
        assert str(caught.value).endswith("the original is unchanged")
        assert path.read_bytes() == original
        assert listing(disk) == ["filler", "lost+found", "movie.mkv"]
