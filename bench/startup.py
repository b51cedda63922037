"""Benchmark the start-up of ``vpo process --dry-run`` on one file.

    .venv/bin/python bench/startup.py [--rounds 15]

Interleaved rounds, each a fresh process, medians: a bare ``python -c pass`` (the
interpreter's own start), ``vpo --version`` (the entry point alone), ``vpo --help``,
``vpo process --help`` and ``vpo process --dry-run -p POLICY FILE`` on one small
conforming Matroska file (its tracks carry mkvmerge's IETF tags, ``en``). With
``--compare-src`` every vpo command also runs from that source tree in the same
rounds, and the CPU ratio (this tree / that one) is the median of the per-round
ratios. The load average is printed before and after: on a shared machine the
CPU time (user + system) is the steadier figure, wall time mostly waits for a core.
Run it after ``./quickstart.sh`` (which compiles the bytecode); with
``PYTHONDONTWRITEBYTECODE=1`` and no ``.pyc`` files every run compiles the
sources again. The target of issue 11 is at most 0.15 s for the dry run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vpo.testmedia.factory import generate_media
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import locate_tools

VPO = str(Path(sys.executable).with_name("vpo"))
DRY_RUN = "vpo process --dry-run (1 file)"
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: defaults
    default_flags:
      set_preferred_audio_default: true
"""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one fresh process: on a busy
    machine the CPU time is the steadier of the two."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, argv
    return seconds, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="also time the dry run with this src/ directory first on PYTHONPATH "
        "(e.g. an exported older revision: git archive main src | tar -x -C DIR)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vpo-bench-startup-") as scratch:
        work = Path(scratch)
        movie = generate_media(
            MediaSpec(duration=1.0, audio=(AudioSpec(language="eng", default=True),)),
            work / "movie.mkv",
            locate_tools(),
        )
        policy = work / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        env = {**os.environ, "VPO_CONFIG": str(work / "none.toml")}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "vpo --version": [VPO, "--version"],
            "vpo --help": [VPO, "--help"],
            "vpo process --help": [VPO, "process", "--help"],
            DRY_RUN: [
                VPO,
                "process",
                "--db",
                str(work / "lib.db"),
                "--dry-run",
                "-p",
                str(policy),
                str(movie),
            ],
        }
        runs = {name: (argv, env) for name, argv in commands.items()}
        if args.compare_src is not None:
            older = {**env, "PYTHONPATH": str(args.compare_src.resolve())}
            for name, argv in commands.items():
                if argv[0] == VPO:
                    runs[f"{name} [{args.compare_src}]"] = (argv, older)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        load_before = os.getloadavg()[0]
        for round_number in range(args.rounds):
            names = list(runs)
            if round_number % 2:  # take turns going first
                names.reverse()
            for name in names:
                argv, run_env = runs[name]
                times[name].append(run(argv, run_env))
        print(f"CPUs: {os.cpu_count()}; load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after; rounds: {args.rounds}")  # fmt: skip
        for name, values in times.items():
            walls, cpus = [w for w, _ in values], [c for _, c in values]
            print(
                f"{name}: wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), "
                f"CPU median {statistics.median(cpus):.3f} s (min {min(cpus):.3f})"
            )
        if args.compare_src is not None:
            for name in commands:
                older_name = f"{name} [{args.compare_src}]"
                if older_name in times:
                    ratios = [
                        new[1] / old[1]
                        for new, old in zip(times[name], times[older_name], strict=True)
                    ]
                    print(f"{name}: CPU this tree / {args.compare_src}: "
                          f"median {statistics.median(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
