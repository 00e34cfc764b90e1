"""Person-data commands: each declares a purpose (and agreement) and is decided and audited
by the governance gate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import (
    DEFAULT_DB,
    DbOption,
    Deferred,
    JsonOption,
    UserOption,
    app,
    as_json_out,
    fail,
    out,
    progress_bars,
    step_callback,
    table,
    who,
)
from accord.cli.listing import FormatOption, OutOption, export_instead
from accord.errors import AccordError, NotFound

if TYPE_CHECKING:
    from accord import services
    from accord.services.people_results import AttributeValueOut
    from accord.services.results import Result
else:
    services = Deferred("accord.services")   # imported when a command runs

PurposeOption = Annotated[str | None, typer.Option(
    "--purpose", help="Declared purpose (see docs/governance.md).")]
AgreementOption = Annotated[str | None, typer.Option(
    "--agreement", help="Matching agreement the purpose runs under.")]
JustificationOption = Annotated[str | None, typer.Option(
    "--justification", help="Why (recorded in the audit).")]


@app.command("tax-request")
def tax_request(
    name: Annotated[str, typer.Option("--name", help="Taxpayer's full name.")],
    tin: Annotated[str, typer.Option("--tin", help="Taxpayer identification number.")],
    address: Annotated[str, typer.Option("--address", help="'street, city, ST zip'.")],
    periods: Annotated[str, typer.Option("--periods", help="Taxable periods.")],
    authority: Annotated[str, typer.Option("--authority", help="Statutory authority.")],
    reason: Annotated[str, typer.Option("--reason", help="The specific reason.")],
    purpose: PurposeOption = None,
    agreement: AgreementOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per-person request for tax return information: released only if name, TIN and address all match."""
    try:
        result = services.tax_request(db, user=who(user), purpose=purpose or "", agreement=agreement,
                                      full_name=name, tin=tin, address=address, taxable_periods=periods,
                                      statutory_authority=authority, reason=reason)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result)
        return
    out.print(result.message, highlight=False)
    for k, v in result.fields.items():
        out.print(f"  {k}: {v}", highlight=False)


def _print_json_or(value: Result, as_json: bool) -> bool:
    if as_json:
        as_json_out(value)
    return as_json


def _not_found(person_id: str) -> NotFound:
    """The one answer for a person the purpose may not see and for one that does not exist (the
    same words, exit code and JSON): it never says which (the read was audited either way)."""
    return NotFound(f"{person_id}: not found in this purpose's view")


def _value_with_sources(v: AttributeValueOut) -> str:
    where = ", ".join(f"{src.source}:{src.record_id}" for src in v.sources)
    return f"{v.value} ({where})"


@app.command()
def person(
    person_id: Annotated[str, typer.Argument(help="Person id.")],
    purpose: PurposeOption = None,
    agreement: AgreementOption = None,
    justification: JustificationOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person's linked records by source, attributes with provenance, conflicts, history and status."""
    try:
        result = services.person(db, person_id, user=who(user), purpose=purpose or "", agreement=agreement,
                                 justification=justification)
    except AccordError as e:
        fail(e)
    p = result.found_person
    if p is None:
        fail(_not_found(person_id))
    if _print_json_or(result, as_json):
        return
    out.rule(f"person {person_id}  (regimes: {', '.join(p.regimes) or 'none'})")
    if p.marks:
        out.print(f"marks: {', '.join(p.marks)}", highlight=False)
    for group in p.sources:
        rows = [[r.provenance.record_id, r.provenance.file_name, str(r.provenance.ingested_at)[:19],
                 ", ".join(f"{k}={v}" for k, v in r.fields.items() if v is not None)]
                for r in group.records]
        table(["record", "file", "ingested", "values"], rows, title=f"{group.source} ({group.system})")
    if p.attributes:
        table(["attribute", "values (source:record)", "conflict"],
              [[a.field, " | ".join(_value_with_sources(v) for v in a.values),
                "CONFLICT" if a.conflict else ""] for a in p.attributes], title="attributes")
    if p.links:
        table(["record", "record", "match probability", "match weight", "status"],
              [[f"{lk.source_l}:{lk.record_id_l}", f"{lk.source_r}:{lk.record_id_r}",
                f"{lk.match_probability:.4f}", f"{lk.match_weight:+.2f}", lk.status] for lk in p.links],
              title="links")
    if p.history:
        table(["run", "at (UTC)", "event", "id", "related", "reason"],
              [[h.run_id, h.event_at[:19], h.event, h.entity_id, ", ".join(h.related_ids), h.reason]
               for h in p.history], title="history")
    s = result.status
    if s is None:
        out.print("status: [bold]None[/bold] confidence 0.0000", highlight=False)
    else:
        out.print(f"status: [bold]{s.status}[/bold] confidence {s.confidence:.4f}"
                  + (f"; {s.reason}" if s.reason else ""), highlight=False)
        for ev in s.evidence:
            out.print(f"  - {ev.note} ({ev.source}:{ev.record_id} {ev.field}={ev.value})", highlight=False)
        for r in s.needs_review:
            out.print(f"  needs review: {r}", highlight=False)
    for st in result.statements_of_disagreement:
        out.print(f"[yellow]statement of disagreement:[/yellow] {st}", highlight=False)


@app.command()
def explain(
    person_id: Annotated[str, typer.Argument(help="Person id.")],
    purpose: PurposeOption = None,
    agreement: AgreementOption = None,
    justification: JustificationOption = None,
    a: Annotated[str | None, typer.Option("--a", help="First record, SOURCE:RECORD_ID (with --b: the path).")]
    = None,
    b: Annotated[str | None, typer.Option("--b", help="Second record, SOURCE:RECORD_ID.")] = None,
    limit: Annotated[int, typer.Option(help="Links to explain, strongest first (1-50).")] = 20,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a person's records are linked: each link's contributions to its match weight, and the
    path of links between two records."""
    try:
        result = services.explain(db, person_id, user=who(user), purpose=purpose or "", agreement=agreement,
                                  a=a, b=b, limit=limit, justification=justification)
    except AccordError as e:
        fail(e)
    if not result.found:
        fail(_not_found(person_id))
    if _print_json_or(result, as_json):
        return
    links = result.path if result.path is not None else result.links
    if result.path_note:
        out.print(result.path_note, highlight=False)
    for link in links:
        out.rule(f"{':'.join(link.a)} ~ {':'.join(link.b)}  weight {link.match_weight:+.2f}  "
                 f"p {link.match_probability:.4f}  ({link.status})")
        rows = [["prior", "", f"{link.prior_weight:+.2f}"]]
        rows += [[c.comparison, c.level, f"{c.log2_bayes_factor:+.2f}"] for c in link.contributions]
        table(["comparison", "level", "log2 Bayes factor"], rows)
    if result.more_links:
        out.print(f"{result.more_links} weaker links not shown (--limit)", highlight=False)


@app.command()
def search(
    purpose: PurposeOption = None,
    agreement: AgreementOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    ssn: Annotated[str | None, typer.Option("--ssn", help="SSN.")] = None,
    a_number: Annotated[str | None, typer.Option("--a-number", help="A-number.")] = None,
    tin: Annotated[str | None, typer.Option("--tin", help="Taxpayer identification number (SSN or ITIN).")]
    = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-100).")] = 20,
    justification: JustificationOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find persons by name and date of birth, or an identifier, ranked with scores."""
    try:
        result = services.search(db, user=who(user), purpose=purpose or "", agreement=agreement, name=name,
                                 dob=dob, ssn=ssn, a_number=a_number, tin=tin, limit=limit,
                                 justification=justification)
    except AccordError as e:
        fail(e)
    if as_json:
        as_json_out(result.plain() | {"limit": limit})
        return
    table(["person", "score", "name", "dob", "sources", "matched on"],
          [[h.person_id, f"{h.score:.2f}", h.summary.name or "", h.summary.dob or "",
            ", ".join(h.summary.sources), "; ".join(f"{m.field}: {m.level}" for m in h.matched_on)]
           for h in result.hits])


@app.command()
def verify(
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    a_number: Annotated[str | None, typer.Option("--a-number", help="A-number.")] = None,
    ssn: Annotated[str | None, typer.Option("--ssn", help="SSN.")] = None,
    queries: Annotated[Path | None, typer.Option(
        "--queries", show_default=False, dir_okay=False,
        help="A CSV file of queries (columns name, dob, a_number and/or ssn, optionally ref) to "
             "verify in one governed batch, instead of --name/--dob/...; needs --out.")] = None,
    export: Annotated[Path | None, typer.Option(
        "--out", show_default=False, dir_okay=False,
        help="With --queries: the new file the answers go to, one per query.")] = None,
    fmt: FormatOption = None,
    purpose: PurposeOption = None,
    agreement: AgreementOption = None,
    justification: JustificationOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """SAVE-like verification: 'verified: <status>' or 'institute additional verification';
    with --queries, a file of queries in one run, each answered as one query is."""
    if queries is not None:
        _verify_batch(queries, export, fmt, name=name, dob=dob, a_number=a_number, ssn=ssn, purpose=purpose,
                      agreement=agreement, justification=justification, db=db, user=user, as_json=as_json)
        return
    if export is not None or fmt is not None:
        fail(AccordError("--out and --format go with --queries (a file of queries); one verification "
                         "prints its answer"))
    if not name or not dob:
        fail(AccordError("give --name and --dob (and --a-number or --ssn), or a file of queries with "
                         "--queries"))
    try:
        result = services.verify(db, user=who(user), purpose=purpose or "", agreement=agreement, name=name,
                                 dob=dob, a_number=a_number, ssn=ssn, justification=justification)
    except AccordError as e:
        fail(e)
    if _print_json_or(result, as_json):
        return
    out.print(f"{result.answer} ({result.reason})", highlight=False)


def _verify_batch(queries: Path, export: Path | None, fmt: str | None, *, name: str | None, dob: str | None,
                  a_number: str | None, ssn: str | None, purpose: str | None, agreement: str | None,
                  justification: str | None, db: str, user: str | None, as_json: bool) -> None:
    given = [f for f, v in (("--name", name), ("--dob", dob), ("--a-number", a_number), ("--ssn", ssn)) if v]
    if given:
        fail(AccordError(f"--queries takes the queries from its file; leave out {', '.join(given)}"))
    if export is None:
        fail(AccordError("--queries needs --out RESULTS.csv (or .jsonl): the answers go to a file"))
    try:
        result = services.verify_batch(db, queries, export, user=who(user), purpose=purpose or "",
                                       agreement=agreement, fmt=fmt, justification=justification)
    except AccordError as e:
        fail(e)
    if _print_json_or(result, as_json):
        return
    out.print(f"{result.queries:,} queries: {result.verified:,} verified, {result.additional_verification:,} "
              f"to institute additional verification, {result.invalid:,} not searched (malformed); answers "
              f"in {result.file} ({result.format}); audit event {result.audit_event}", highlight=False)


@app.command()
def worklist(
    agreement: Annotated[str, typer.Option("--agreement", help="Matching agreement (its purpose applies).")],
    limit: Annotated[int | None, typer.Option("--limit", show_default=False,
                                              help="Entries per page (1-500; default 50).")] = None,
    offset: Annotated[int | None, typer.Option("--offset", show_default=False,
                                               help="Skip this many entries (default 0).")] = None,
    export: OutOption = None,
    fmt: FormatOption = None,
    justification: JustificationOption = None,
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Persons whose determination fits the agreement's purpose (unverified); exclusions counted.
    --out exports the whole list (every person on it accounted as disclosed)."""
    def export_list(to: Path) -> object:
        with progress_bars(not as_json) as p:
            return services.export_worklist(db, to, user=who(user), agreement=agreement, fmt=fmt,
                                            justification=justification, progress=step_callback(p))

    if export_instead(export, fmt, as_json, "work-list entries", export_list, limit=limit,
                      offset=offset):
        return
    limit, offset = (50 if limit is None else limit), (offset or 0)
    try:
        with progress_bars(not as_json) as p:
            result = services.worklist(db, user=who(user), agreement=agreement, limit=limit, offset=offset,
                                       justification=justification, progress=step_callback(p))
    except AccordError as e:
        fail(e)
    eligible = result.eligible
    if as_json:
        more = offset + limit < eligible
        as_json_out(result.plain() | {"eligible": eligible, "total": eligible, "limit": limit,
                                      "offset": offset, "next_offset": offset + limit if more else None})
        return
    table(["person", "name", "dob", "A-number", "order date", "link confidence", "records", "verification"],
          [[e.person_id, e.name or "", e.dob or "", e.a_number or "", e.order_date or "",
            f"{e.link_confidence:.4f}", len(e.records), e.verification] for e in result.entries],
          title=f"work list {agreement} ({result.purpose}) as of {result.as_of}")
    table(["excluded because", "persons"], [[k, v] for k, v in result.excluded.items()])
    if offset + limit < eligible:
        out.print(f"{eligible:,} persons on the list; more: --offset {offset + limit}", highlight=False)
