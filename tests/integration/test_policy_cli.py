"""``vpo policy validate`` / ``vpo policy show`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vpo.cli.main import main
from vpo.errors import ExitCode

pytestmark = pytest.mark.integration

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "policies").glob("*.yaml"))

BROKEN = """\
schema_version: 12
config:
  audio_language_preference: [eng, jap]
phases:
  - name: tidy
    audio_filter:
      languages: [eng]
      minimun: 1
"""


def run_vpo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_every_example_validates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_vpo(capsys, "policy", "validate", *map(str, EXAMPLES))
    assert (code, err) == (ExitCode.OK, "")
    assert out.count(": valid (") == len(EXAMPLES)


def test_the_original_language_example_validates(capsys: pytest.CaptureFixture[str]) -> None:
    (path,) = [p for p in EXAMPLES if p.name == "original-language.yaml"]
    code, out, err = run_vpo(capsys, "policy", "validate", str(path))
    assert (code, err) == (ExitCode.OK, "")
    assert out == f"{path}: valid (schema 12; 2 phase(s): languages, defaults)\n"


def test_broken_policy_reports_each_problem_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    code, out, err = run_vpo(capsys, "policy", "validate", str(path))
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.splitlines() == [
        f"{path}:3: config.audio_language_preference[1]: unknown language code 'jap' "
        "(did you mean 'jpn'?)",
        f"{path}:8: phases[0].audio_filter.minimun: unknown key 'minimun' "
        "(did you mean 'minimum'?)",
    ]


def test_json_output_lists_valid_and_invalid_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    code, out, err = run_vpo(capsys, "policy", "validate", "--json", str(EXAMPLES[0]), str(broken))
    assert code == ExitCode.USAGE
    assert err == ""
    files = json.loads(out)["files"]
    assert [f["valid"] for f in files] == [True, False]
    assert files[0]["phases"]
    assert files[1]["errors"][0] == {
        "line": 3,
        "field": "config.audio_language_preference[1]",
        "message": "unknown language code 'jap' (did you mean 'jpn'?)",
    }


@pytest.mark.parametrize(
    "name", ["my policy.yaml", "-dash.yaml", 'quote\'s "x".yaml', "ünïcode.yaml", "new\nline.yaml"]
)
def test_odd_file_names(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(EXAMPLES[0].read_bytes())
    code, out, _ = run_vpo(capsys, "policy", "validate", "--", str(path))
    assert code == ExitCode.OK
    assert "valid (" in out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "policy file not found"),
        ("directory", "is a directory, not a policy file"),
        ("empty", "is empty; a policy needs schema_version and phases"),
        ("binary", "not UTF-8 text"),
        ("unreadable", "permission denied"),
    ],
)
def test_unusable_files_get_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, setup: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    if setup == "directory":
        path.mkdir()
    elif setup == "empty":
        path.write_bytes(b"")
    elif setup == "binary":
        path.write_bytes(b"\x00\xff\xfe garbage")
    elif setup == "unreadable":
        path.write_text("schema_version: 12\n", encoding="utf-8")
        path.chmod(0)
        try:
            path.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: permission bits are not enforced")
    code, _, err = run_vpo(capsys, "policy", "validate", str(path))
    assert code == ExitCode.USAGE
    assert err.startswith(f"{path}: {message}")
    assert len(err.splitlines()) == 1


def test_show_prints_the_effective_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "schema_version: 12\nphases:\n  - name: a\n    audio_filter: {languages: [no, fr]}\n",
        encoding="utf-8",
    )
    code, out, _ = run_vpo(capsys, "policy", "show", "--json", str(path))
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["phases"][0]["audio_filter"] == {
        "languages": ["nor", "fre"],
        "minimum": 1,
        "fallback": {"mode": "content_language"},
    }
    assert data["config"]["audio_language_preference"] == ["eng", "und"]


def test_real_process_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    vpo = Path(sys.executable).with_name("vpo")
    done = subprocess.run(
        [str(vpo), "policy", "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == ExitCode.USAGE
    assert "Traceback" not in done.stderr
    assert f"{path}:3:" in done.stderr
