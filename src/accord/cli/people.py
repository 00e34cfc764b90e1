"""Person-data commands: each declares a purpose (and agreement) and is decided and audited
by the governance gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord import services
from accord.cli.common import DbOption, JsonOption, UserOption, app, as_json_out, fail, out, who
from accord.errors import AccordError

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
    db: DbOption = Path("accord.duckdb"),
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
    out.print(result["message"], highlight=False)
    for k, v in result["fields"].items():
        out.print(f"  {k}: {v}", highlight=False)
