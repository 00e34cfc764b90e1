"""Docs that tests keep honest: README commands, .ci/run, CLI commands and help."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _first_block() -> list[str]:
    m = re.search(r"```sh\n(.*?)```", README, re.S)
    assert m, "README has no sh code block"
    return [line.split("#")[0].strip() for line in m.group(1).splitlines() if line.strip()]


def test_readme_opens_with_demo_and_test_commands() -> None:
    assert _first_block() == ["make demo", "make test"]
    # Nothing but the title and one paragraph may come before the two commands.
    head = README.split("```sh", 1)[0]
    assert "##" not in head


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines()
                if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert commands == [_first_block()[1]]


@pytest.mark.parametrize("target", ["demo", "test"])
def test_make_targets_exist(target: str) -> None:
    out = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _cli_commands() -> set[str]:
    """Top-level commands and command groups."""
    top = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    return top | {g.name for g in app.registered_groups if g.name}


def _subcommands() -> set[str]:
    """``group sub`` for every command of every group (accord users add, ...)."""
    out = set()
    for g in app.registered_groups:
        assert g.typer_instance is not None
        for c in g.typer_instance.registered_commands:
            out.add(f"{g.name} {c.name or (c.callback.__name__ if c.callback else '')}")
    return out


def test_every_subcommand_is_in_the_readme() -> None:
    missing = {sub for sub in _subcommands() if f"`accord {sub}" not in README}
    assert missing == set()


def test_every_cli_command_is_in_the_readme_and_every_readme_command_exists() -> None:
    documented = set(re.findall(r"`accord ([a-z][a-z-]*)", README))
    assert documented, "README documents no accord commands"
    assert _cli_commands() - documented == set(), "commands missing from README"
    assert documented - _cli_commands() == set(), "README names commands that do not exist"


@pytest.mark.parametrize("command", sorted(_cli_commands() | _subcommands()))
def test_help_works_for_every_command(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
# Commands that print nothing a script would parse, with the reason.
WITHOUT_JSON = {"serve": "runs the server until stopped; it prints only where it listens"}


def _leaf_commands() -> set[str]:
    """Every command that runs (not a group): top-level commands and ``group sub``."""
    top = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    return top | _subcommands()


@pytest.mark.parametrize(("name", "doc"), [("README.md", README), ("docs/cli.md", CLI_DOC)])
def test_documented_options_exist_in_cli_help(name: str, doc: str) -> None:
    runner = CliRunner()
    subs = _subcommands()
    shown = 0
    for command, flags in re.findall(r"`accord ([a-z-]+)((?: [^`]*)?)`", doc):
        if command not in _cli_commands():
            continue
        words = flags.split()
        if words and f"{command} {words[0]}" in subs:
            command = f"{command} {words[0]}"
        help_text = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"}).output
        for flag in re.findall(r"--[a-z][a-z-]*", flags):
            shown += 1
            assert flag in help_text, f"{name} shows `accord {command} {flag}`, help does not"
    assert shown > 20, f"{name} shows almost no options: wrong file?"


def test_every_command_is_in_the_cli_doc() -> None:
    missing = {c for c in _leaf_commands() if f"`accord {c}" not in CLI_DOC}
    assert missing == set()


@pytest.mark.parametrize("command", sorted(_leaf_commands() - set(WITHOUT_JSON)))
def test_every_command_takes_json(command: str) -> None:
    help_text = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"}).output
    assert "--json" in help_text, f"`accord {command}` has no --json"


def test_the_commands_without_json_exist_and_say_so() -> None:
    assert set(WITHOUT_JSON) <= _leaf_commands()
    for command in WITHOUT_JSON:
        assert f"`accord {command}" in CLI_DOC and "but `accord serve`" in CLI_DOC


def test_ingest_doc_lists_every_canonical_field_check() -> None:
    from accord.ingest.checks import CHECKS
    from accord.sources.fields import catalogue

    doc = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    checked = {f.name for f in catalogue().values() if f.check in CHECKS}
    missing = {name for name in checked if f"`{name}`" not in doc}
    assert missing == set()
