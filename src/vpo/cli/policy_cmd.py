"""``vpo policy validate``, ``show`` and ``convert``: check policies before any file is touched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from ruamel.yaml import YAML

from vpo.errors import ExitCode
from vpo.policy.convert import convert_policy
from vpo.policy.loader import PolicyError, load_policy, read_policy_text
from vpo.policy.schema import Policy


@click.group("policy")
def policy() -> None:
    """Check and inspect policy files."""


@policy.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout.")
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Validate policy FILES; exit 0 when all are valid, 2 otherwise.

    Every problem is reported as FILE:LINE: field.path: what is wrong.
    """
    results: list[dict[str, object]] = []
    all_valid = True
    for path in files:
        try:
            loaded = load_policy(path)
        except PolicyError as error:
            all_valid = False
            results.append(
                {
                    "path": str(path),
                    "valid": False,
                    "phases": [],
                    "errors": [
                        {"line": i.line, "field": i.path, "message": i.message}
                        for i in error.issues
                    ],
                }
            )
            if not as_json:
                for issue in error.issues:
                    click.echo(str(issue), err=True)
            continue
        names = list(loaded.phase_names())
        notice = loaded.analysis_notice()
        results.append(
            {
                "path": str(path),
                "valid": True,
                "schema_version": loaded.schema_version,
                "name": loaded.name,
                "description": loaded.description,
                "category": loaded.category,
                "phases": names,
                "needs_audio_analysis": list(loaded.analysis_needs()),
                "errors": [],
            }
        )
        if not as_json:
            phases = f"{len(names)} phase(s): {', '.join(names)}"
            click.echo(f"{path}: valid ({_summary(loaded)}{phases})")
            if notice:
                click.echo(f"{path}: {notice}")
    if as_json:
        click.echo(json.dumps({"files": results}, indent=2, ensure_ascii=False))
    ctx.exit(ExitCode.OK if all_valid else ExitCode.USAGE)


def _summary(loaded: Policy) -> str:
    """``"Anime", [organize], schema 13; `` (the policy's own name and category)."""
    bits = [f'"{loaded.name}"'] if loaded.name else []
    if loaded.category:
        bits.append(f"[{loaded.category}]")
    bits.append(f"schema {loaded.schema_version}")
    return ", ".join(bits) + "; "


@policy.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
def show(file: Path, as_json: bool) -> None:
    """Print FILE as vpo reads it: every default filled in, languages normalised."""
    loaded = load_policy(file)  # PolicyError is a FatalError: one message, exit 2
    notice = loaded.analysis_notice()
    if notice:
        click.echo(f"{file}: {notice}", err=True)
    data = loaded.model_dump(mode="json", by_alias=True, exclude_none=True)
    for phase in data["phases"]:
        if phase.get("rules_match") == "first":
            del phase["rules_match"]  # internal; 12 cannot say it, 13 says rules.match
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    yaml = YAML(typ="rt")  # keeps the schema's field order
    yaml.dump(data, sys.stdout)


@policy.command("convert")
@click.option(
    "--to", "target", type=click.Choice(["12", "13"]), required=True, help="Schema version."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of standard output (may be FILE itself).",
)
@click.argument("file", type=click.Path(path_type=Path))
def convert(target: str, output: Path | None, file: Path) -> None:
    """Rewrite FILE for schema 12 or 13, keeping comments and key order.

    What the target version cannot say is named on standard error, one line each.
    """
    text = read_policy_text(file)  # PolicyError: one message, exit 2
    result = convert_policy(text, int(target), str(file))
    for line in result.lost:
        click.echo(f"{file}: not carried over: {line}", err=True)
    if output is None:
        click.echo(result.text, nl=False)
    else:
        output.write_text(result.text, encoding="utf-8")
