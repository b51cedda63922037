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
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import gc
import os
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


def main() -> None:
    quiet_ctrl_c()  # already done by vpo/__init__.py when started as `vpo`
    _start_up[0] = gc.isenabled()
    gc.disable()  # until end_of_start_up(): see the module docstring
    from vpo.cli.main import main as run

    run()
