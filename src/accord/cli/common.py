"""What every command shares: the app, consoles, options, progress, errors and tables; and
who is acting.

The command line's ``--user`` is taken on trust: whoever can run ``accord`` and write the store
file can name any user. Its audit events say so, with origin ``cli, unauthenticated OS user
<login>``. Given one of the user's API tokens (``--token`` or ``ACCORD_TOKEN``), a command checks
it as the API checks a bearer token before doing anything, refuses (exit 2, audited) a token that
is not a live token of the user named, and records origin ``cli, token-authenticated``.

Errors: every exception a command raises ends at one boundary (``_Commands.invoke``), which
reports it as one ``error: ...`` line on stderr, or under ``--json`` as one JSON object
``{"error": {"kind", "message"}}`` on stdout, and exits with the code of its kind
(``EXIT_CODES``, the table in docs/cli.md). An exception that is not an Accord error is a bug:
it is reported as an internal error with the audit incident id its failed action or read was
recorded with (``ACCORD_TRACEBACK=1`` prints the traceback as well).
"""

from __future__ import annotations

import contextvars
import functools
import getpass
import importlib
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from accord import __version__
from accord.errors import AccordError

if TYPE_CHECKING:
    from rich.progress import Progress

    from accord.store.target import StoreTarget


class Deferred:
    """A module imported when a command first uses one of its names, not when the command line
    starts: ``accord --help`` and every command's help stay fast because the services (and the
    store engines, pyarrow, numpy ... they import) load only for a command that runs (FastAPI
    and the web layer only in ``accord serve``). A
    module binds it under ``if TYPE_CHECKING`` / ``else`` so the type checker still sees the
    real module."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self._module), name)

    def __repr__(self) -> str:
        return f"<deferred module {self._module}>"


class _Commands(TyperGroup):
    """The command line's one error boundary: whatever a command raises (an Accord error it
    reports with :func:`fail`, one met on the way in such as a busy store, or an unexpected
    exception) is reported by :func:`report`, never as a traceback. Typer's own exits, aborts
    and usage errors pass through (a usage error exits 2, as a bad value does)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, BrokenPipeError):
            raise
        except Exception as e:
            report(e, as_json=bool(ctx.meta.get(_JSON_ERRORS)))

    def get_help_option(self, ctx: Any) -> Any:
        """The group's ``--help``, False when not given (typer leaves it None, and checking a
        None flag imports pydantic: tens of milliseconds on every ``accord <command> --help``)."""
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


app = typer.Typer(
    name="accord",
    cls=_Commands,
    help="Accord links what separate agency record systems hold about the same person, "
    "for declared, lawful purposes only, with evidence, confidence and audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def command_group(help: str) -> typer.Typer:
    """A group of commands (``accord users ...``), with the same error boundary as the root."""
    return typer.Typer(cls=_Commands, help=help, no_args_is_help=True)


out = Console()
err = Console(stderr=True)

DEFAULT_DB = "accord.duckdb"
DbOption = Annotated[str, typer.Option(
    "--db", envvar="ACCORD_DB", show_default=False,
    help="The store: an embedded DuckDB file (default accord.duckdb) or a postgresql:// URL "
         "(or ACCORD_DB).")]
_JSON_ERRORS = "accord.json_errors"   # ctx.meta key: --json was given, so errors are JSON too


def _json_given(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> bool:
    """Remember that ``--json`` was given (on the command line or from the environment, not by
    default) in the context's meta, which the whole command chain shares: the error boundary
    then answers an error as JSON."""
    source = ctx.get_parameter_source(param.name or "as_json")
    if value and getattr(source, "name", "DEFAULT") != "DEFAULT":
        ctx.meta[_JSON_ERRORS] = True
    return value


JsonOption = Annotated[bool, typer.Option("--json", callback=_json_given,
                                          help="Print one JSON object instead of text (an error too).")]
UserOption = Annotated[str | None, typer.Option("--user", envvar="ACCORD_USER", show_default=False,
                                                help="Acting user id (or ACCORD_USER); taken on trust "
                                                     "unless --token is given.")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar="ACCORD_TOKEN", show_default=False,
    help="One of the acting user's API tokens (or ACCORD_TOKEN, which keeps it out of the shell "
         "history): checked before the command runs; the user may then be left out.")]
TOKEN_ORIGIN = "cli, token-authenticated"
# The user a checked --token belongs to, while its command runs.
_TOKEN_USER: contextvars.ContextVar[str | None] = contextvars.ContextVar("accord_token_user", default=None)


def _version(value: bool) -> None:
    if value:
        out.print(f"accord {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Accord command line."""


def describe(db: StoreTarget) -> str:
    """The store as messages name it (never with a password): ``accord.store.target.describe``,
    imported when needed (the store package brings its engines)."""
    from accord.store.target import describe as named

    return named(db)


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Progress]:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=err,
                        disable=not enabled or not err.is_terminal, transient=True)
    with progress:
        yield progress


def step_callback(progress: Progress) -> Callable[[str, float], None]:
    task = progress.add_task("starting", total=1.0, detail="")

    def step(label: str, fraction: float) -> None:
        progress.update(task, description=label, completed=fraction)

    return step


def rows_callback(progress: Progress, label: str) -> Callable[[int], None]:
    task = progress.add_task(label, total=None, detail="")

    def rows(n: int) -> None:
        progress.update(task, detail=f"{n:,} rows")

    return rows


# Exit codes by kind of error (docs/cli.md has the table; 0 is success). 1 is also the code of
# a check that ran and said no: `audit verify` on a broken chain, `ingest` when some extracts failed.
EXIT_CODES = {
    "not_found": 1,           # the id or name given does not exist (or the purpose may not see it)
    "bad_input": 2,           # an option, value or file is wrong; nothing was changed
    "refused": 2,             # refused by the governance gate (audited) or a token check
    "store_unavailable": 3,   # the store (--db) is missing, busy, unreachable, not usable, or (init) exists
    "internal": 70,           # a bug (EX_SOFTWARE): reported with its audit incident id
}
TRACEBACK_SETTING = "ACCORD_TRACEBACK"


def fail(e: AccordError) -> NoReturn:
    """End the command with ``e``: the error boundary reports it (:func:`report`)."""
    raise e


def error_kind(e: BaseException) -> str:
    """The kind of an error (a key of ``EXIT_CODES``): an Accord error's own, else internal."""
    kind = getattr(e, "kind", None) if isinstance(e, AccordError) else None
    return kind if kind in EXIT_CODES else "internal"


def error_message(e: BaseException) -> str:
    """What the error line says: an Accord error's text; for anything else, that it is an
    internal error, what it is, and the audit incident it was recorded under, if any."""
    if isinstance(e, AccordError):
        return str(e)
    text = " ".join(str(e).split())
    incidents = [n for n in getattr(e, "__notes__", []) if str(n).startswith("audit incident")]
    said = f"internal error: {type(e).__name__}" + (f": {text}" if text else "")
    if incidents:
        said += f" ({incidents[0]}: the failed action or read is recorded under it)"
    return said + ("; this is a bug in accord: please report it with the command that was run "
                   f"(set {TRACEBACK_SETTING}=1 to see where it happened)")


def report(e: BaseException, *, as_json: bool = False) -> NoReturn:
    """Report ``e`` as one paragraph on stderr (``error: ...``, never wrapped), or under
    ``--json`` as ``{"error": {"kind", "message"}}`` on stdout, and exit with its kind's code.
    The boundary calls it; a command calls it itself (as a line) for an error that comes after
    it printed its JSON result, so that stdout holds one JSON document."""
    kind, message = error_kind(e), error_message(e)
    if kind == "internal" and os.environ.get(TRACEBACK_SETTING, "").strip() not in ("", "0"):
        traceback.print_exception(e, file=sys.stderr)
    if as_json:
        body: dict[str, Any] = {"kind": kind, "message": message}
        seq = getattr(e, "audit_seq", None)
        if isinstance(seq, int):
            body["audit_event"] = seq
        out.print_json(json.dumps({"error": body}))
    else:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_CODES[kind])


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    from rich.table import Table

    tbl = Table(title=title)
    for c in columns:
        tbl.add_column(c, justify="right" if c in {"rows", "records", "versions"} else "left",
                       overflow="fold")   # a long value wraps; it is never cut
    for r in rows:
        tbl.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
                        for v in r])
    out.print(tbl)

def who(user: str | None) -> str:
    """The acting user; every command that touches a store acts as a registered user: the one
    whose --token was checked, else the one named with --user."""
    checked = _TOKEN_USER.get()
    if checked is not None:
        return checked
    if not user:
        fail(AccordError("name the acting user with --user or ACCORD_USER, or give one of their API "
                          "tokens with --token or ACCORD_TOKEN (see `accord users list`; `accord init` "
                          "creates the first admin)"))
    assert user is not None
    return user


def os_login() -> str:
    """The operating-system account running this command (as the system knows it, not as the
    environment says), for the origin of its audit events."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


def unauthenticated_origin() -> str:
    return f"cli, unauthenticated OS user {os_login()}"


def _acting(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with a ``--token`` option: its token is checked before the command runs, and
    the command's audit events carry an origin that says how its user was established."""

    @functools.wraps(command)
    def run(*args: Any, acting_token: str | None = None, **kwargs: Any) -> Any:
        from accord.services.context import cli_origin
        from accord.services.sessions import LoginRefused, token_user

        if not acting_token:
            with cli_origin(unauthenticated_origin()):
                return command(*args, **kwargs)
        try:
            user = token_user(kwargs["db"], acting_token, claimed=kwargs.get("user") or None,
                              origin=TOKEN_ORIGIN)
        except LoginRefused as e:
            refused = AccordError(f"--token refused: {'; '.join(e.reasons)} (audit event {e.audit_seq})")
            refused.kind = e.kind
            fail(refused)
        except AccordError as e:
            fail(e)
        reset = _TOKEN_USER.set(user)
        try:
            with cli_origin(TOKEN_ORIGIN):
                return command(*args, **kwargs)
        finally:
            _TOKEN_USER.reset(reset)

    signature = inspect.signature(command, eval_str=True)
    token = inspect.Parameter("acting_token", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=TokenOption)
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), token])
    run.__accord_acting__ = True  # type: ignore[attr-defined]
    return run


def add_token_option(cli: typer.Typer) -> None:
    """Give every command that acts as a user (``--user`` and ``--db``) a ``--token`` option.
    Run once, after every command is registered."""
    for info in cli.registered_commands:
        callback = info.callback
        if callback is None or getattr(callback, "__accord_acting__", False):
            continue
        if {"user", "db"} <= set(inspect.signature(callback).parameters):
            info.callback = _acting(callback)
    for group in cli.registered_groups:
        if group.typer_instance is not None:
            add_token_option(group.typer_instance)


def _plain(value: Any) -> Any:
    """A service's typed result as JSON data (``Result.plain``); anything else as text."""
    from pydantic import BaseModel

    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


def as_json_out(value: Any) -> None:
    out.print_json(json.dumps(value, default=_plain))
