"""vpo: the Video Policy Orchestrator."""

import sys as _sys

__version__ = "0.1.0"

# Started as the ``vpo`` command: make Ctrl-C quiet from the first vpo instruction,
# before the CLI's imports (see vpo.cli.entry). Only for the command, never for a
# program that imports vpo. Inline, with modules loaded at interpreter start only.
if _sys.argv and _sys.argv[0].rpartition("/")[2] == "vpo":
    import _signal  # type: ignore[import-not-found]
    import os as _os

    def _quiet_exit(signum: int, frame: object) -> None:
        _os.write(2, b"vpo: interrupted\n")
        _os._exit(130)  # ExitCode.INTERRUPTED

    _signal.signal(_signal.SIGINT, _quiet_exit)
