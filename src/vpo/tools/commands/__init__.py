"""Pure argv builders: (Plan, paths) → the exact command line of one tool run.

Nothing here touches the disk or starts a process, so every builder is unit-tested
on plain data. Paths are made absolute so a file named ``-x.mkv`` is never read
as an option.
"""
