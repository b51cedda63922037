"""run_transaction with recording executors: what is planned, grouped, written, reported.

No tool runs here; tests/integration/test_transaction.py runs the real ones.
"""

from __future__ import annotations

import contextlib
import pickle
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from vpo.apply.choose import Tool, choose_tool
from vpo.apply.encode import EncodeResult
from vpo.apply.errors import FileBusyError, VerificationError
from vpo.apply.execute import ApplyOutcome
from vpo.apply.settings import ApplySettings
from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import Plan, PlanKind
from vpo.policy.loader import parse_policy
from vpo.policy.phases import evaluate_file
from vpo.policy.schema import Policy
from vpo.testmedia.two_phase import NAME_FRENCH
from vpo.tools.locate import ToolPaths
from vpo.workflow.result import FileStatus, PhaseStatus
from vpo.workflow.transaction import (
    ApplyExecutor,
    SimulateExecutor,
    plan_file,
    run_transaction,
)

PATH = Path("/library/Movie.mkv")


def media() -> MediaFile:
    tracks = (
        Track(0, 0, TrackType.VIDEO, "h264", flags=TrackFlags(default=True), width=64, height=48),
        Track(1, 1, TrackType.AUDIO, "ac3", "fre", flags=TrackFlags(default=True), channels=6),
        Track(2, 2, TrackType.AUDIO, "aac", "eng", channels=2),
        Track(3, 3, TrackType.SUBTITLE, "subrip", "ger"),
    )
    return MediaFile(
        path=PATH, container=Container.MATROSKA, size=1000, mtime_ns=0, tracks=tracks, duration=8.0
    )


def policy(phases: str, on_error: str = "skip") -> Policy:
    text = (
        "schema_version: 12\n"
        "config:\n  audio_language_preference: [eng]\n  subtitle_language_preference: [eng]\n"
        f"  on_error: {on_error}\n"
        "phases:\n" + textwrap.indent(textwrap.dedent(phases), "  ")
    )
    return parse_policy(text, "test.yaml")


FILTER_THEN_ORDER = """\
- name: filter
  subtitle_filter: {languages: [eng]}
- name: order
  track_order: [video, audio_main, audio_alternate]
  default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""
FLAGS_THEN_TITLES = """\
- name: flags
  default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
- name: titles
""" + textwrap.indent(NAME_FRENCH, "  ")
ENCODE_THEN_TITLES = """\
- name: shrink
  transcode:
    video: {target_codec: hevc}
- name: titles
""" + textwrap.indent(NAME_FRENCH, "  ")


@dataclass
class Recorder:
    """A PlanExecutor whose session records each step and returns ``results`` of it
    (default: the plan's expected result, on disk at the original path)."""

    calls: list[tuple[Plan, bool]] = field(default_factory=list)
    fail: Exception | None = None
    alter: dict[int, MediaFile] = field(default_factory=dict)  # step number → media

    def session(
        self, path: Path, on_progress: object
    ) -> contextlib.AbstractContextManager[Recorder]:
        @contextlib.contextmanager
        def opened() -> Iterator[Recorder]:
            yield self

        return opened()

    def apply(self, plan: Plan, *, final: bool) -> ApplyOutcome:
        self.calls.append((plan, final))
        if self.fail is not None:
            raise self.fail
        result = self.alter.get(len(self.calls), plan.expected_result())
        encode = None
        if plan.kind is PlanKind.ENCODE:
            result = replace(result, size=600)
            encode = EncodeResult(result, 600, plan.source.size, 4.0)
        tool = choose_tool(plan).tool
        return ApplyOutcome(tool, "", 1.0, result.size, result, encode=encode)


def test_consecutive_remux_phases_are_one_write_from_the_original() -> None:
    the_policy = policy(FILTER_THEN_ORDER)
    recorder = Recorder()
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, recorder)
    ((plan, final),) = recorder.calls
    assert final and plan.source == media() and plan.phase == "filter+order"
    assert [t.source_index for t in plan.tracks] == [0, 2, 1]
    assert [r.source_index for r in plan.removed] == [3]
    assert result.status is FileStatus.CHANGED
    assert [(p.phase, p.status, p.tool) for p in result.phases] == [
        ("filter", PhaseStatus.CHANGED, "mkvmerge"),
        ("order", PhaseStatus.CHANGED, "mkvmerge"),
    ]
    filter_changes, order_changes = (p.changes for p in result.phases)
    assert any("removed" in c for c in filter_changes)
    assert any("default on" in c for c in order_changes)
    assert sum(p.seconds for p in result.phases) == 1.0  # one write, its time shared


def test_metadata_only_phases_are_one_header_edit() -> None:
    the_policy = policy(FLAGS_THEN_TITLES)
    recorder = Recorder()
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, recorder)
    ((plan, final),) = recorder.calls
    assert final and plan.kind is PlanKind.METADATA
    assert choose_tool(plan).tool is Tool.MKVPROPEDIT
    assert result.tools == ("mkvpropedit", "mkvpropedit")


def test_after_an_encode_the_rest_is_planned_on_the_real_staged_output() -> None:
    the_policy = policy(ENCODE_THEN_TITLES)
    recorder = Recorder()
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, recorder)
    (encode, staged), (titles, final) = recorder.calls
    assert (encode.kind, staged) == (PlanKind.ENCODE, False)  # into a private temp
    assert (titles.kind, final) == (PlanKind.METADATA, True)
    assert titles.source.size == 600  # planned on what the encode really wrote
    shrink, named = result.phases
    assert (shrink.original_size, shrink.bytes_saved, shrink.encode_seconds) == (1000, 400, 4.0)
    assert (named.original_size, named.bytes_saved) == (600, 0)
    assert result.original_size == 1000 and result.bytes_saved == 400


def test_a_failed_write_fails_its_phases_and_nothing_is_applied() -> None:
    the_policy = policy(FILTER_THEN_ORDER, on_error="continue")
    failing = VerificationError(PATH, "verification failed: track 1 (audio): language is 'fre'")
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, Recorder(fail=failing))
    assert result.status is FileStatus.FAILED
    assert [p.status for p in result.phases] == [PhaseStatus.FAILED] * 2
    assert (
        result.error
        == "phase 'filter+order': verification failed: track 1 (audio): language is 'fre'"
    )
    assert result.after == media() and result.bytes_written == 0


def test_a_failed_write_stops_the_batch_when_on_error_is_fail() -> None:
    the_policy = policy(FILTER_THEN_ORDER, on_error="fail")
    result = run_transaction(
        PATH, media(), the_policy, the_policy.phases, Recorder(fail=VerificationError(PATH, "x"))
    )
    assert result.stops_batch


def test_a_busy_file_is_skipped_with_the_plans_kept() -> None:
    the_policy = policy(FILTER_THEN_ORDER)
    busy = FileBusyError(PATH, "busy: another vpo process is modifying it")
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, Recorder(fail=busy))
    assert (result.status, result.skip_reason) == (FileStatus.SKIPPED, busy.detail)
    assert result.evaluation is not None and len(result.evaluation.plans) == 2


def test_what_the_container_did_not_keep_is_reported_as_not_converging() -> None:
    """The verified result lacks the title (a container that cannot store it): the
    next run would plan it again, so the phase fails instead of looping across runs."""
    the_policy = policy(FLAGS_THEN_TITLES)
    planned = plan_file(the_policy, the_policy.phases, media())
    assert planned.final is not None
    untitled = replace(
        planned.final, tracks=tuple(replace(t, title=None) for t in planned.final.tracks)
    )
    result = run_transaction(
        PATH, media(), the_policy, the_policy.phases, Recorder(alter={1: untitled})
    )
    assert result.status is FileStatus.FAILED
    assert result.phases[1].status is PhaseStatus.FAILED
    assert "does not converge" in (result.error or "")


def test_simulation_is_the_same_run_and_matches_dry_run() -> None:
    for text in (FILTER_THEN_ORDER, FLAGS_THEN_TITLES, ENCODE_THEN_TITLES):
        the_policy = policy(text)
        simulated = run_transaction(
            PATH, media(), the_policy, the_policy.phases, SimulateExecutor()
        )
        dry = evaluate_file(the_policy, the_policy.phases, media())
        assert simulated.evaluation is not None
        assert simulated.evaluation.plans == dry.plans
        assert simulated.after == dry.final
        assert simulated.status is FileStatus.CHANGED


def test_a_phase_that_undoes_itself_fails_before_anything_is_written() -> None:
    flip = policy(
        """\
        - name: flip
          conditional:
            - name: to-french
              when: {exists: {track_type: audio, language: eng}}
              then:
                - set_language: {track_type: audio, language: eng, to: fre}
            - name: to-english
              when: {exists: {track_type: audio, language: fre}}
              then:
                - set_language: {track_type: audio, language: fre, to: eng}
        """
    )
    recorder = Recorder()
    result = run_transaction(PATH, media(), flip, flip.phases, recorder)
    assert recorder.calls == []
    assert result.status is FileStatus.FAILED and "does not converge" in (result.error or "")


def test_executors_and_results_pickle() -> None:
    """A worker on another machine receives the executor and returns the result."""
    executor = ApplyExecutor(ToolPaths(), ApplySettings())
    assert pickle.loads(pickle.dumps(executor)) == executor
    the_policy = policy(FILTER_THEN_ORDER)
    result = run_transaction(PATH, media(), the_policy, the_policy.phases, SimulateExecutor())
    again = pickle.loads(pickle.dumps(result))
    assert again.evaluation is not None and again.evaluation.plans == result.evaluation.plans  # type: ignore[union-attr]
