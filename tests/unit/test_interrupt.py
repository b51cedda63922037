"""InterruptController: which signals it takes, the exit code each gives, and the
grace period after SIGTERM/SIGHUP before running tools are stopped."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from vpo.cli import interrupt as interrupt_module
from vpo.cli.interrupt import InterruptController
from vpo.errors import ExitCode


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGINT, ExitCode.INTERRUPTED),
        (signal.SIGTERM, ExitCode.TERMINATED),
        (signal.SIGHUP, ExitCode.HANGUP),
    ],
)
def test_each_signal_stops_the_batch_with_its_exit_code(
    signum: signal.Signals, code: ExitCode
) -> None:
    stop = threading.Event()
    notes: list[str] = []
    with InterruptController(stop, notes.append, stop_seconds=60) as controller:
        os.kill(os.getpid(), signum)
    assert stop.is_set()
    assert controller.exit_code == code
    assert len(notes) == 1


def test_sigterm_stops_the_tools_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    aborted = threading.Event()
    monkeypatch.setattr(interrupt_module, "terminate_all_tools", lambda: aborted.set() or 1)
    with InterruptController(threading.Event(), lambda _: None, stop_seconds=0.05):
        os.kill(os.getpid(), signal.SIGTERM)
        assert aborted.wait(10), "the tools were never stopped"


def test_ctrl_c_waits_for_a_second_press_and_handlers_are_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aborted = threading.Event()
    monkeypatch.setattr(interrupt_module, "terminate_all_tools", lambda: aborted.set() or 1)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with InterruptController(threading.Event(), lambda _: None, stop_seconds=0.01):
        os.kill(os.getpid(), signal.SIGINT)
        assert not aborted.wait(0.2)  # no timer after Ctrl-C: files in progress finish
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal of any kind aborts at once
        assert aborted.is_set()
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_ctrl_c_wrapped_while_a_class_is_built_is_an_interruption() -> None:
    """Python 3.11 wraps an exception from ``__set_name__`` (pydantic's models at
    import) in RuntimeError; a Ctrl-C there must still end as "interrupted"."""
    from vpo.cli.main import _caused_by_ctrl_c, _CtrlC

    _CtrlC.seen = False  # as at the start of every run of the CLI

    class Interrupting:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    try:

        class Model:
            field = Interrupting()

    except BaseException as error:  # RuntimeError on 3.11; 3.12+ raises it unwrapped
        wrapped = error
    assert _caused_by_ctrl_c(wrapped)
    assert not _caused_by_ctrl_c(RuntimeError("a bug"))
    try:
        raise ValueError("outer") from RuntimeError("inner")
    except ValueError as chained:
        assert not _caused_by_ctrl_c(chained)


def test_any_error_after_a_ctrl_c_reached_the_command_is_an_interruption() -> None:
    """pydantic-core reports a Ctrl-C that lands while it builds a validator as a
    SchemaError naming it, with no KeyboardInterrupt to find in the chain."""
    from vpo.cli import main

    main._CtrlC.seen = False  # as at the start of every run of the CLI
    schema_error = RuntimeError('Error building "model" validator: KeyboardInterrupt:')
    assert not main._caused_by_ctrl_c(schema_error)
    before = signal.signal(signal.SIGINT, main._ctrl_c)
    try:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler's KeyboardInterrupt ends it at once
        except KeyboardInterrupt:
            pass
        assert main._caused_by_ctrl_c(schema_error)
    finally:
        signal.signal(signal.SIGINT, before)
        main._CtrlC.seen = False
