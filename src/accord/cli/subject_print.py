"""The subject-access report as something to hand to the person: plain text, or one HTML
document that prints well.

There is no PDF writer on purpose: a PDF library would be one more dependency reading person
data, and every browser prints an HTML page to paper or to PDF ("Print", "Save as PDF"). The
HTML is one self-contained file (its style inline, no script, no image, nothing fetched from
anywhere), laid out to print on A4 or US Letter: each section starts on its own page, tables
repeat their header rows on every page, and no table or item is split across pages when it fits
on one.

Both take the report as JSON-ready data (``services.subject_report``'s result, ``plain()``)
and show all of it: every record version with its provenance, every disclosure listed, the
notes (the fixed (b)(7) sentence), disputes, statements of disagreement, notices to earlier
recipients, annotations and findings. "—" stands for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from accord.cli.readable import NONE, lines, scalar

TITLE = "Subject-access report"
ACCESS = "5 U.S.C. 552a(d)(1): your records; 552a(c)(3): the accounting of their disclosures"

# Sections after the records and the accounting: (key in the report, heading, what it is).
CASEWORK = (
    ("disputes", "Disputes", "requests to correct a record (552a(d)(2)) and what became of them"),
    ("statements", "Statements of disagreement", "they travel with every later disclosure (552a(d)(3))"),
    ("notifications", "Notices to earlier recipients", "of a correction or a dispute (552a(c)(4))"),
    ("annotations", "Annotations", "status-changing notes on a record, in force only with two approvers"),
    ("findings", "Adverse-action findings", "match results and the steps before any action (552a(p))"),
)


def _record_rows(report: Mapping[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    return sorted((source, list(versions)) for source, versions in (report.get("records") or {}).items())


def _provenance(p: Mapping[str, Any]) -> str:
    sha = scalar(p.get("file_sha256"))
    return (f"file {scalar(p.get('file_name'))} (SHA-256 {sha[:16]}{'…' if len(sha) > 16 else ''}), "
            f"ingested {scalar(p.get('ingested_at'))}, batch {scalar(p.get('batch_id'))}, "
            f"row {scalar(p.get('row_number'))}")


def _disclosure(d: Mapping[str, Any]) -> dict[str, str]:
    purpose = scalar(d.get("purpose_title") or d.get("purpose"))
    if d.get("authority"):
        purpose += f" ({d['authority']})"
    return {"date": scalar(d.get("disclosed_at")), "what": scalar(d.get("nature")), "purpose": purpose,
            "agreement": scalar(d.get("agreement")), "recipient": scalar(d.get("recipient")),
            "address": scalar(d.get("recipient_address")),
            "records": ", ".join(":".join(r) for r in d.get("records") or []) or NONE,
            "statement attached": scalar(bool(d.get("statement_attached")))}


def _versions(n: int) -> str:
    return f"{n} version" + ("" if n == 1 else "s")


def _summary(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    counts = report.get("counts") or {}
    return [("person", scalar(report.get("person_id"))),
            ("generated on", scalar(report.get("generated_on"))),
            ("records held", f"{counts.get('records', 0)} ({_versions(counts.get('versions', 0))})"),
            ("disclosures listed", str(counts.get("disclosures_listed", 0))),
            ("law-enforcement disclosures listed", scalar(bool(report.get("law_enforcement_listed")))),
            ("audit event of this report", scalar(report.get("audit_seq")))]


# --- text ------------------------------------------------------------------------------------


def as_text(report: Mapping[str, Any]) -> str:
    out = [f"{TITLE.upper()}: {scalar(report.get('person_id'))}", ACCESS, ""]
    width = max(len(k) for k, _ in _summary(report))
    out += [f"{k.ljust(width)}  {v}" for k, v in _summary(report)]
    out += ["", "RECORDS HELD", ""]
    records = _record_rows(report)
    if not records:
        out.append(NONE)
    for source, versions in records:
        first = versions[0]
        out.append(f"{source}: {scalar(first.get('system_title') or first.get('system'))}, "
                   f"{scalar(first.get('owner'))} (system of records notice {scalar(first.get('sorn'))})")
        for r in versions:
            out.append(f"  record {r['record_id']}, version {r['version']} "
                       f"(regimes: {', '.join(r.get('regimes') or []) or NONE})")
            fields = r.get("fields") or {}
            pad = max((len(k) for k in fields), default=0)
            out += [f"    {k.ljust(pad)}  {scalar(v)}" for k, v in fields.items()] or [f"    {NONE}"]
            out.append(f"    provenance: {_provenance(r.get('provenance') or {})}")
        out.append("")
    out += ["", "DISCLOSURES (THE ACCOUNTING OF DISCLOSURES)", ""]
    disclosures = report.get("disclosures") or []
    for d in disclosures:
        shown = _disclosure(d)
        out.append(f"- {shown.pop('date')}: {shown.pop('what')}")
        out += [f"    {k}: {v}" for k, v in shown.items()]
    if not disclosures:
        out.append(NONE)
    for note in report.get("notes") or []:
        out += ["", f"Note: {note}"]
    for key, heading, about in CASEWORK:
        out += ["", f"{heading.upper()} ({about})", ""]
        out += lines(report.get(key) or [])
    return "\n".join(out) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_STYLE = """
:root { color-scheme: light; }
body { font: 11pt/1.4 Georgia, "Times New Roman", serif; color: #000; background: #fff;
       max-width: 60em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 .2em; } h2 { font-size: 14pt; margin: 1.6em 0 .4em;
     border-bottom: 1px solid #000; } h3 { font-size: 12pt; margin: 1em 0 .3em; }
p.about, p.legal { margin: 0 0 .8em; } .none { color: #444; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; }
th, td { border: 1px solid #777; padding: .2em .4em; text-align: left; vertical-align: top; }
th { background: #eee; } td.k { width: 14em; white-space: nowrap; }
dl.item { margin: .3em 0 .8em; padding-left: .6em; border-left: 3px solid #999; }
dl.item dt { font-weight: bold; } dl.item dd { margin: 0 0 .2em 1.5em; }
aside.note { border: 1px solid #000; padding: .4em .6em; margin: .6em 0; }
.wrap { overflow-wrap: anywhere; }
@page { size: auto; margin: 18mm 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-before: page; } h2.first { break-before: avoid; }
  table, dl.item, aside.note { break-inside: avoid; } thead { display: table-header-group; }
  a { color: #000; text-decoration: none; }
}
"""


def _e(value: Any) -> str:
    return escape(scalar(value))


def _table(head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<tr>{''.join(f'<td class=wrap>{_e(c)}</td>' for c in row)}</tr>" for row in rows)
    return (f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{cells}</tbody></table>")


def _html_value(value: Any) -> str:
    """Nested data as definition lists (mappings), lists, or escaped text."""
    if isinstance(value, Mapping):
        if not value:
            return f'<span class="none">{NONE}</span>'
        return "<dl class=item>" + "".join(f"<dt>{escape(str(k))}</dt><dd>{_html_value(v)}</dd>"
                                           for k, v in value.items()) + "</dl>"
    if isinstance(value, list | tuple):
        if not value:
            return f'<span class="none">{NONE}</span>'
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            return escape(", ".join(scalar(v) for v in value))
        return "".join(_html_value(v) for v in value)
    return f'<span class="wrap">{_e(value)}</span>'


def as_html(report: Mapping[str, Any]) -> str:
    person = _e(report.get("person_id"))
    summary = "".join(f"<tr><td class=k>{escape(k)}</td><td>{escape(v)}</td></tr>"
                      for k, v in _summary(report))
    parts = [f"<h1>{escape(TITLE)}: {person}</h1>", f'<p class="legal">{escape(ACCESS)}</p>',
             f"<table><tbody>{summary}</tbody></table>"]
    parts.append('<h2 class="first">Records held</h2>')
    records = _record_rows(report)
    if not records:
        parts.append(f'<p class="none">{NONE}</p>')
    for source, versions in records:
        first = versions[0]
        parts.append(f"<h3>{escape(source)}: {_e(first.get('system_title') or first.get('system'))}</h3>"
                     f'<p class="about">{_e(first.get("owner"))}; system of records notice '
                     f"{_e(first.get('sorn'))}</p>")
        for r in versions:
            rows: list[list[Any]] = [[k, v] for k, v in (r.get("fields") or {}).items()]
            rows += [["regimes", ", ".join(r.get("regimes") or []) or None],
                     ["provenance", _provenance(r.get("provenance") or {})]]
            parts.append(_table([f"record {r['record_id']}", f"version {r['version']}"], rows))
    parts.append("<h2>Disclosures (the accounting of disclosures)</h2>")
    disclosures = [_disclosure(d) for d in report.get("disclosures") or []]
    if disclosures:
        head = list(disclosures[0])
        parts.append(_table(head, [[d[k] for k in head] for d in disclosures]))
    else:
        parts.append(f'<p class="none">{NONE}</p>')
    parts += [f'<aside class="note">{escape(note)}</aside>' for note in report.get("notes") or []]
    for key, heading, about in CASEWORK:
        parts.append(f'<h2>{escape(heading)}</h2><p class="about">{escape(about)}</p>'
                     f"{_html_value(report.get(key) or [])}")
    body = "\n".join(parts)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(TITLE)} {person} ({_e(report.get('generated_on'))})</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")
