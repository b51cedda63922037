"""The console-script entry point (``vpo = vpo.cli.entry:main``) and a quiet Ctrl-C
from the first instruction.

Importing the CLI (click, rich, the commands) takes a good part of a tenth of a
second; a Ctrl-C in that time used to end in a Python traceback from the middle
of an import. When vpo runs as the ``vpo`` command, ``vpo/__init__.py`` (the first
vpo code that runs) installs the same quiet handler inline; main() installs it
again for other launchers. SIGINT then ends vpo quietly (one line, exit 130) until
vpo.cli.main.main takes over Ctrl-C, once it can handle it. Only modules the
interpreter has loaded at start are used (``os``, the built-in ``_signal``;
``signal`` itself costs 20 ms through ``enum``). What is left is the
interpreter's own start-up, before any vpo code runs.

Start-up is mostly imports, and imports make many objects that last as long as
the process and almost no garbage; yet the cyclic garbage collector scanned them
over and over (and once more at exit). main() turns it off until
end_of_start_up(), which freezes what start-up made (``gc.freeze``: never
scanned again) and turns collection back on before any file is worked on.

Exit is the mirror image: once a command has returned its exit code, every thread
has been joined and every ``atexit`` handler has run (logging, temp directories,
Dask's client), the interpreter would still tear down each module and free each
object one by one: 0.03 s for a plain run, 0.13-0.17 s with Dask loaded, for no
effect outside the process. main() registers, before anything else can, an
``atexit`` handler that runs last, flushes stdout and stderr and ends the process
with the command's exit code (``os._exit``), skipping only that teardown.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import atexit
import gc
import os
import sys
from types import FrameType

_INTERRUPTED = 130  # vpo.errors.ExitCode.INTERRUPTED (not imported: it costs an import)


def _quiet_exit(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"vpo: interrupted\n")
    os._exit(_INTERRUPTED)


def quiet_ctrl_c() -> None:
    """Make SIGINT end the process with one line and exit 130, no traceback."""
    _signal.signal(_signal.SIGINT, _quiet_exit)


def end_of_start_up() -> None:
    """Collect garbage as usual from here on; what start-up made is frozen.

    Does nothing unless main() turned collection off: a program (or a test) that
    runs the CLI in-process keeps its own collector settings.
    """
    if not gc.isenabled() and _start_up[0]:
        _start_up[0] = False
        gc.freeze()
        gc.enable()


_start_up = [False]  # main() turned the collector off and nobody has turned it on since


class _ExitCode:
    """The exit code main() saw leave the command; None: exit the usual way."""

    code: int | None = None


def _exit_without_teardown() -> None:
    """The last ``atexit`` handler: flush stdio and end the process with the
    command's exit code, skipping the module teardown (see the module docstring)."""
    code = _ExitCode.code
    if code is None:
        return  # the code is not ours to give (an unexpected exit): the usual way
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken pipe: nothing more can reach it
    os._exit(code)


def _runs_last() -> bool:
    """Whether a handler registered now runs after every other ``atexit`` handler
    (they run last-in first-out): true when none is registered yet."""
    count = getattr(atexit, "_ncallbacks", None)
    return callable(count) and count() == 0


def main() -> None:
    quiet_ctrl_c()  # already done by vpo/__init__.py when started as `vpo`
    if _runs_last():
        atexit.register(_exit_without_teardown)
    _start_up[0] = gc.isenabled()
    gc.disable()  # until end_of_start_up(): see the module docstring
    from vpo.cli.main import main as run

    try:
        run()
    except SystemExit as done:  # vpo.cli.main always leaves with an int code
        if isinstance(done.code, int) and not isinstance(done.code, bool):
            _ExitCode.code = done.code
        elif done.code is None:
            _ExitCode.code = 0
        raise
