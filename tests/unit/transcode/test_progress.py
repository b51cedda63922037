"""ffmpeg -progress parsing (captured output) and the streaming runner (stub ffmpegs)."""

from __future__ import annotations

import _thread
import itertools
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.tools.progress import (
    EncodeProgress,
    ProgressBlock,
    StreamLimits,
    parse_blocks,
    run_with_progress,
    to_progress,
)
from vpo.tools.runner import ToolError, ToolStalledError, ToolTimeoutError, terminate_all_tools

CAPTURED = Path(__file__).parent / "captured" / "ffmpeg-5.1-progress.txt"
STUBS = Path(__file__).resolve().parents[2] / "stubs" / "transcode"
MOVIE = Path("/media/Movie.mkv")


def children_of_me() -> list[int]:
    """Live child pids of this process (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def niceness_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])


def test_captured_progress_parses_to_blocks() -> None:
    blocks = parse_blocks(CAPTURED.read_text().splitlines())
    assert len(blocks) >= 2
    assert blocks[0].out_time == 0.0 and blocks[0].speed is None  # "speed=N/A"
    assert blocks[-1].finished and blocks[-1].out_time == 2.0 and blocks[-1].frame == 50
    assert blocks[-1].speed is not None and blocks[-1].speed > 1
    assert not any(b.finished for b in blocks[:-1])


def test_garbage_values_are_unknown() -> None:
    [block] = parse_blocks(["out_time_us=-9223372036854775807", "fps=nan", "speed=N/A",
                            "progress=continue"])  # fmt: skip
    assert (block.out_time, block.fps, block.speed) == (None, None, None)


def test_percent_and_eta() -> None:
    block = ProgressBlock(
        out_time=30.0, fps=50.0, speed=2.0, frame=750, total_size=1, finished=False
    )
    progress = to_progress(MOVIE, block, 120.0)
    assert progress == EncodeProgress(MOVIE, 25.0, 50.0, 2.0, 45.0, 30.0)
    first_of_two = to_progress(MOVIE, block, 120.0, (0.0, 0.5))
    assert first_of_two.percent == 12.5 and first_of_two.eta_seconds == 105.0
    assert to_progress(MOVIE, block, None).percent is None


@given(
    out_time=st.floats(0, 1e5),
    duration=st.floats(0.1, 1e5),
    speed=st.none() | st.floats(0.01, 100),
    start=st.sampled_from([(0.0, 1.0), (0.0, 0.5), (0.5, 1.0)]),
)
def test_percent_is_bounded_and_eta_never_negative(
    out_time: float, duration: float, speed: float | None, start: tuple[float, float]
) -> None:
    block = ProgressBlock(out_time, None, speed, None, None, False)
    progress = to_progress(MOVIE, block, duration, start)
    assert progress.percent is not None and start[0] * 100 <= progress.percent <= start[1] * 100
    assert progress.eta_seconds is None or progress.eta_seconds >= 0


def test_stall_is_detected_and_the_child_killed() -> None:
    seen: list[EncodeProgress] = []
    started = time.monotonic()
    with pytest.raises(ToolStalledError, match=r"stalled: no progress for 1 s") as caught:
        run_with_progress(
            [str(STUBS / "progress-then-stall")],
            path=MOVIE,
            duration=10.0,
            limits=StreamLimits(stall_seconds=1.0, timeout=60.0, report_interval=0.0),
            on_progress=seen.append,
        )
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith(f"{MOVIE}: progress-then-stall failed: stalled")
    assert [p.percent for p in seen] == [5.0, 10.0]
    assert children_of_me() == []


def test_failing_encoder_names_the_last_stderr_line() -> None:
    with pytest.raises(ToolError) as caught:
        run_with_progress(
            [str(STUBS / "progress-then-fail")],
            path=MOVIE,
            duration=10.0,
            limits=StreamLimits(stall_seconds=10.0, timeout=60.0),
        )
    assert caught.value.returncode == 1
    assert "Error while opening encoder for output stream #0:0" in str(caught.value)
    assert "unsupported setting" in caught.value.stderr


def test_overall_timeout() -> None:
    with pytest.raises(ToolTimeoutError, match="timed out after 1 s"):
        run_with_progress(
            [str(STUBS / "progress-forever")],
            path=MOVIE,
            duration=None,
            limits=StreamLimits(stall_seconds=10.0, timeout=1.0),
        )
    assert children_of_me() == []


def test_callbacks_are_throttled_and_the_child_runs_niced() -> None:
    calls: list[float] = []
    nice: list[int] = []

    def on_progress(progress: EncodeProgress) -> None:
        calls.append(time.monotonic())
        nice.extend(niceness_of(pid) for pid in children_of_me())

    with pytest.raises(ToolTimeoutError):
        run_with_progress(
            [str(STUBS / "progress-forever")],
            path=MOVIE,
            duration=None,
            limits=StreamLimits(stall_seconds=10.0, timeout=1.6, niceness=7, report_interval=0.5),
            on_progress=on_progress,
        )
    assert 2 <= len(calls) <= 4  # ~30 blocks arrived
    assert all(b - a >= 0.5 for a, b in itertools.pairwise(calls))
    assert nice and all(value == 7 for value in nice)


def test_ctrl_c_kills_the_child() -> None:
    pids: list[int] = []
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_with_progress(
                [str(STUBS / "progress-forever")],
                path=MOVIE,
                duration=None,
                limits=StreamLimits(stall_seconds=10.0, timeout=30.0, report_interval=0.0),
                on_progress=lambda _: pids.extend(children_of_me()),
            )
    finally:
        timer.cancel()
    assert pids
    assert children_of_me() == []


def test_terminate_all_tools_reaches_a_streaming_run() -> None:
    errors: list[BaseException] = []
    moving = threading.Event()

    def encode() -> None:
        try:
            run_with_progress(
                [str(STUBS / "progress-forever")],
                path=MOVIE,
                duration=None,
                limits=StreamLimits(stall_seconds=10.0, timeout=30.0, report_interval=0.0),
                on_progress=lambda _: moving.set(),
            )
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=encode)
    worker.start()
    assert moving.wait(10)
    assert terminate_all_tools() == 1
    worker.join(10)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ToolError)
