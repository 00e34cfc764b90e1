"""The validation and canonicalisation query for one extract batch (pure SQL builders).

``transform_sql`` turns a mapping into one SELECT over a relation named ``batch`` (text
columns plus ``__row``). It yields ``row_number``, ``record_id``, every canonical field
(typed; NULL where unmapped or invalid), ``errors`` (a list of {field, value, reason}: every
field that failed its rule), ``quarantined`` (whether the row goes to quarantine), ``blocking``
(the first error that sends it there), ``flags`` (JSON text, see below), ``raw_row`` (the
whole source row as JSON, for quarantined rows, so nothing is lost) and ``content_hash``
(equal hashes mean an unchanged record).

Identity fields flag, fact fields quarantine (docs/ingest.md): a row is quarantined when its
record id is missing or a *fact* field fails its rule. An *identity* field that fails its rule
leaves the canonical column NULL and is kept in ``flags``, a JSON array of
``{"field", "value", "reason"}`` (the value as written, trimmed), NULL when every identity
value is valid. A flagged date also carries ``year``, ``month`` and ``day``: the parts read
leniently from the text under the mapping's date formats (``lenient_date_parts``), for fuzzy
comparison only.

Layers, so that each expensive expression runs once per row:
  l1  trimmed raw text per field (``__o_``), after a values map (``__r_``)
  l2  parsed form (``__p_``): digits, try_strptime, ...
  l3  reason per field (``__e_``), NULL when valid
  l4  typed values (``__v_``) and the error list
  out canonical columns, derived name parts, raw row, content hash
Generated columns start with ``__`` so they cannot clash with source columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.ingest.checks import CHECKS
from accord.sources.fields import CanonicalField, catalogue
from accord.sources.mapping import FieldSpec, Mapping
from accord.sql_text import ident, lit, str_list

ROW = "__row"
ISO = "%Y-%m-%d"
EARLIEST_DATE = "1880-01-01"
# Dates that record something that already happened may not lie in the future.
FUTURE_OK = {"event_date"}
# The records column that keeps flagged identity values (accord.ingest.schema).
FLAGS = "flags"


def _trimmed(column: str) -> str:
    """The column's text without surrounding spaces; an empty cell is NULL. (trim() runs
    only where there is something to trim: most cells have nothing.)"""
    c = ident(column)
    return (f"NULLIF(CASE WHEN starts_with({c}, ' ') OR ends_with({c}, ' ') THEN trim({c}) "
            f"ELSE {c} END, '')")


def _col(prefix: str, name: str) -> str:
    return ident(f"__{prefix}_{name}")


# strptime tokens a lenient read understands: token -> (regular expression, part or None).
_TOKENS: dict[str, tuple[str, str | None]] = {
    "Y": ("([0-9]{4})", "year"), "m": ("([0-9]{1,2})", "month"), "d": ("([0-9]{1,2})", "day"),
    "-m": ("([0-9]{1,2})", "month"), "-d": ("([0-9]{1,2})", "day"),
    "y": ("[0-9]{2}", None), "H": ("[0-9]{1,2}", None), "M": ("[0-9]{1,2}", None),
    "S": ("[0-9]{1,2}", None), "%": ("%", None),
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _format_pattern(fmt: str) -> tuple[str, dict[str, int], bool] | None:
    """A strptime format as a regular expression whose groups hold the date's parts:
    (pattern, part -> group number, whether the month is a name). Separators match any one
    separator; None for a format with a token this reading does not know."""
    out: list[str] = []
    groups: dict[str, int] = {}
    named, i = False, 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append("[^0-9A-Za-z]" if not ch.isalnum() else ch)
            i += 1
            continue
        token = fmt[i + 1:i + 3] if fmt[i + 1:i + 2] == "-" else fmt[i + 1:i + 2]
        i += 1 + len(token)
        if token in ("b", "B"):
            out.append("([A-Za-z]{3,9})")
            groups["month"] = len(groups) + 1
            named = True
            continue
        if token not in _TOKENS:
            return None
        regex, part = _TOKENS[token]
        out.append(regex)
        if part is not None:
            groups[part] = len(groups) + 1
    return "".join(out), groups, named


def lenient_date_parts(raw: str, formats: list[str]) -> dict[str, str]:
    """SQL of the year, month and day read from the text ``raw`` of a date that did not parse
    (1956-09-31, 31/09/1956), under the first of ``formats`` whose shape it has: the digits
    where the format puts each part. A year outside 1880 to this year reads as no parts; a
    month outside 1-12 as no month and no day; a day outside 1-31 as no day. Text that fits no
    format reads as no parts."""
    cases: dict[str, list[str]] = {"year": [], "month": [], "day": []}
    for fmt in formats:
        shape = _format_pattern(fmt)
        if shape is None or "year" not in shape[1] or "month" not in shape[1]:
            continue
        pattern, groups, named = shape
        match = f"regexp_full_match({raw}, {lit(pattern)})"
        for part, group in groups.items():
            text = f"regexp_extract({raw}, {lit(pattern)}, {group})"
            if part == "month" and named:
                value = ("CASE lower(left(" + text + ", 3)) " + " ".join(
                    f"WHEN '{m}' THEN {n}" for n, m in enumerate(_MONTH_NAMES, 1)) + " END")
            else:
                value = f"TRY_CAST({text} AS INTEGER)"
            cases[part].append(f"WHEN {match} THEN {value}")
        for part in cases:
            if part not in groups:
                cases[part].append(f"WHEN {match} THEN NULL")
    parts = {p: (f"CAST(CASE {' '.join(w)} END AS INTEGER)" if w else "CAST(NULL AS INTEGER)")
             for p, w in cases.items()}
    year_ok = f"{parts['year']} BETWEEN {EARLIEST_DATE[:4]} AND year(current_date)"
    month_ok = f"{year_ok} AND {parts['month']} BETWEEN 1 AND 12"
    return {
        "year": f"CASE WHEN {month_ok} THEN {parts['year']} END",
        "month": f"CASE WHEN {month_ok} THEN {parts['month']} END",
        "day": f"CASE WHEN {month_ok} AND {parts['day']} BETWEEN 1 AND 31 THEN {parts['day']} END",
    }


@dataclass(frozen=True)
class FieldSQL:
    """SQL for one mapped field. ``pre`` reads ``__r_``; ``reason`` reads ``__r_``/``__p_``;
    ``value`` reads ``__p_``."""

    pre: str
    reason: str
    value: str


def field_sql(field: CanonicalField, spec: FieldSpec, native_date: bool) -> FieldSQL:
    raw, p = _col("r", field.name), _col("p", field.name)
    if field.type == "date":
        fmts = [ISO] if native_date or not spec.formats else spec.formats
        upper = "DATE '2100-12-31'" if field.name in FUTURE_OK else "current_date"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND {p} IS NULL THEN "
                  f"{lit('date does not match format ' + ' or '.join(fmts))} "
                  f"WHEN {p} < DATE '{EARLIEST_DATE}' THEN {lit('date before ' + EARLIEST_DATE)} "
                  f"WHEN {p} > {upper} THEN 'date is in the future' END")
        return FieldSQL(f"CAST(try_strptime({raw}, {str_list(fmts)}) AS DATE)", reason, p)
    if field.type == "integer":
        lo = field.min if field.min is not None else -(2**31)
        hi = field.max if field.max is not None else 2**31 - 1
        reason = (f"CASE WHEN {raw} IS NOT NULL AND {p} IS NULL THEN 'not a whole number' "
                  f"WHEN {p} NOT BETWEEN {lo} AND {hi} THEN 'outside {lo}-{hi}' END")
        # Digits only (a trailing .0 allowed): TRY_CAST alone would round 2021.5 to 2022 and
        # accept 0x7E5 or 2_021.
        whole = (f"CASE WHEN regexp_full_match({raw}, '[+-]?[0-9]+(\\.0*)?') "
                 f"THEN split_part({raw}, '.', 1) END")
        return FieldSQL(f"TRY_CAST({whole} AS BIGINT)", reason, f"CAST({p} AS INTEGER)")
    if spec.namespace is not None:
        # Stored with its namespace ("state_dl_ca:D1234567"): compared only within it.
        return FieldSQL(raw, "NULL", f"{lit(spec.namespace + ':')} || {p}")
    if field.check is not None:
        pre, reason, value = CHECKS[field.check](raw, p)
        return FieldSQL(pre, reason, value)
    if field.values is not None and spec.values is None:
        canon = {v.lower(): v for v in field.values}
        pre = f"CASE lower({raw}) " + " ".join(
            f"WHEN {lit(k)} THEN {lit(v)}" for k, v in canon.items()) + " END"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND {p} IS NULL THEN "
                  f"{lit('not one of ' + ', '.join(field.values))} END")
        return FieldSQL(pre, reason, p)
    if field.type == "name":
        collapse = f"regexp_replace({raw}, '\\s+', ' ', 'g')"
        needs = f"regexp_matches({raw}, '\\s\\s|[\\t\\n\\r]')"
        return FieldSQL(f"CASE WHEN {needs} THEN {collapse} ELSE {raw} END", "NULL", p)
    return FieldSQL(raw, "NULL", p)


def _mapped_raw(spec: FieldSpec, orig: str) -> tuple[str, str]:
    """(mapped text, reason) for a values map: '' means mapped to missing, NULL unmapped."""
    if spec.values is None:
        return orig, "NULL"
    codes = {k: v for k, v in spec.values.items() if k != ""}
    empty = lit(spec.values[""]) if "" in spec.values else "NULL"
    exact = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in codes.items())
    folded = " ".join(f"WHEN {lit(k.upper())} THEN {lit(v)}" for k, v in codes.items())
    lookup = (f"coalesce(CASE {orig} {exact} END, CASE upper({orig}) {folded} END)"
              if codes else "NULL")
    mapped = f"CASE WHEN {orig} IS NULL THEN {empty} ELSE {lookup} END"
    listed = ", ".join(list(codes)[:20])
    reason = (f"CASE WHEN {orig} IS NOT NULL AND {{m}} IS NULL THEN "
              f"{lit('code not in the mapping values map (mapped codes: ' + listed + ')')} END")
    return mapped, reason


def _name_parts(m: Mapping) -> dict[str, str]:
    """given/middle/family derived from given_names or full_name when not mapped directly.

    "family, given": family before the first comma, then given and middle names; with no
    comma the whole name is the family name. "given family" / "given middle family": first
    token given, last token family, tokens between middle.
    """
    out: dict[str, str] = {}
    if "given_names" in m.fields:
        g = f"regexp_extract({_col('v', 'given_names')}, '^(\\S+)\\s*(.*)$', ['g', 'm'])"
        out["given_name"] = f"{g}.g"
        out["middle_name"] = f"NULLIF({g}.m, '')"
    if "full_name" in m.fields:
        full = _col("v", "full_name")
        if m.fields["full_name"].layout == "family, given":
            s = (f"regexp_extract({full}, '^([^,]*),\\s*(\\S*)\\s*(.*)$', ['f', 'g', 'm'])")
            fam = f"coalesce(NULLIF(trim({s}.f), ''), CASE WHEN strpos({full}, ',') = 0 THEN {full} END)"
        else:
            s = f"regexp_extract({full}, '^(\\S+)\\s+(?:(.*)\\s+)?(\\S+)$', ['g', 'm', 'f'])"
            fam = f"coalesce(NULLIF({s}.f, ''), {full})"
        out.setdefault("given_name", f"NULLIF({s}.g, '')")
        out.setdefault("middle_name", f"NULLIF(trim({s}.m), '')")
        out["family_name"] = fam
    return {k: v for k, v in out.items() if k not in m.fields}


def transform_sql(m: Mapping, columns: list[str], native_dates: set[str] | None = None) -> str:
    """One SELECT over ``batch`` that validates and canonicalises every row."""
    native_dates = native_dates or set()
    cat = catalogue()
    id_cols = m.record_id_columns
    sqls = {n: field_sql(cat[n], s, s.column in native_dates) for n, s in m.fields.items()}

    l1 = ["*"] + [f"{_trimmed(c)} AS {_col('id', str(i))}" for i, c in enumerate(id_cols)]
    l1 += [f"{_trimmed(s.column)} AS {_col('o', n)}" for n, s in m.fields.items()]
    l1b = ["*"]
    map_reasons: dict[str, str] = {}
    for n, s in m.fields.items():
        mapped, reason = _mapped_raw(s, _col("o", n))
        l1b.append(f"{mapped} AS {_col('m', n)}")
        map_reasons[n] = reason.replace("{m}", _col("m", n))
    l1c = ["*"] + [f"NULLIF({_col('m', n)}, '') AS {_col('r', n)}" for n in m.fields]
    l2 = ["*"] + [f"{f.pre} AS {_col('p', n)}" for n, f in sqls.items()]
    l3 = ["*"] + [f"coalesce({map_reasons[n]}, {f.reason}) AS {_col('e', n)}"
                  for n, f in sqls.items()]
    id_parts = [_col("id", str(i)) for i in range(len(id_cols))]
    # Composite ids join their parts with '|'; a '|' or '\' inside a part is escaped so that
    # different rows never share an id (("a|b", "c") vs ("a", "b|c")).
    joined = (id_parts[0] if len(id_parts) == 1 else "concat_ws('|', " + ", ".join(
        f"replace(replace({p}, '\\', '\\\\'), '|', '\\|')" for p in id_parts) + ")")
    record_id = (f"CASE WHEN {' OR '.join(p + ' IS NULL' for p in id_parts)} THEN NULL "
                 f"ELSE {joined} END")

    def error(n: str) -> str:
        return (f"CASE WHEN {_col('e', n)} IS NOT NULL THEN struct_pack(field := {lit(n)}, "
                f"value := {_col('o', n)}, reason := {_col('e', n)}) END")

    missing_id = (f"CASE WHEN {record_id} IS NULL THEN struct_pack(field := 'record_id', "
                  f"value := NULL::VARCHAR, reason := "
                  f"{lit('missing record id (' + ', '.join(id_cols) + ' empty)')}) END")
    identity = [n for n in m.fields if cat[n].kind == "identity"]
    facts = [n for n in m.fields if cat[n].kind != "identity"]
    errs = [missing_id] + [error(n) for n in m.fields]
    any_error = " OR ".join([f"{record_id} IS NULL"] +
                            [f"{_col('e', n)} IS NOT NULL" for n in m.fields])
    blocking = " OR ".join([f"{record_id} IS NULL"] + [f"{_col('e', n)} IS NOT NULL" for n in facts])
    # Building the list only for rows that have an error keeps the common path cheap.
    errors = (f"CASE WHEN {any_error} THEN list_filter([{', '.join(errs)}], "
              f"lambda e: e IS NOT NULL) ELSE [] END")
    stops = ", ".join([missing_id] + [error(n) for n in facts])
    first_blocking = f"CASE WHEN {blocking} THEN list_filter([{stops}], lambda e: e IS NOT NULL)[1] END"
    flag_items = []
    for n in identity:
        read = ""
        if cat[n].type == "date":
            spec = m.fields[n]
            fmts = [ISO] if spec.column in native_dates or not spec.formats else spec.formats
            read = "".join(f", {k} := {v}" for k, v in lenient_date_parts(_col("o", n), fmts).items())
        flag_items.append(f"CASE WHEN {_col('e', n)} IS NOT NULL THEN to_json(struct_pack("
                          f"field := {lit(n)}, value := {_col('o', n)}, reason := {_col('e', n)}{read})) END")
    any_flag = " OR ".join(f"{_col('e', n)} IS NOT NULL" for n in identity)
    flags = (f"CASE WHEN {any_flag} THEN '[' || array_to_string(list_filter([{', '.join(flag_items)}], "
             f"lambda f: f IS NOT NULL), ',') || ']' END" if identity else "NULL")
    l4 = ["*", f"{record_id} AS __record_id", f"{errors} AS __errors",
          f"coalesce({blocking}, FALSE) AS __quarantined", f"{first_blocking} AS __blocking",
          f"CAST({flags} AS VARCHAR) AS __flags"]
    l4 += [f"CASE WHEN {_col('e', n)} IS NULL THEN {f.value} END AS {_col('v', n)}"
           for n, f in sqls.items()]
    parts = _name_parts(m)
    out = [f"{ident(ROW)} AS row_number", "__record_id AS record_id"]
    for name in stored_fields(m):
        value = _col("v", name) if name in m.fields else parts[name]
        out.append(f"{value} AS {ident(name)}")
    out += ["__errors AS errors", "__quarantined AS quarantined", "__blocking AS blocking",
            "CASE WHEN NOT __quarantined THEN __flags END AS flags"]
    raw_row = "to_json(struct_pack(" + ", ".join(
        f"{ident(c)} := {ident(c)}" for c in columns if c != ROW) + "))"
    out.append(f"CASE WHEN __quarantined THEN {raw_row} END AS raw_row")
    layers = [("l1", l1, "batch"), ("l1b", l1b, "l1"), ("l1c", l1c, "l1b"), ("l2", l2, "l1c"),
              ("l3", l3, "l2"), ("l4", l4, "l3"), ("l5", out, "l4")]
    ctes = ",\n".join(f"{name} AS (SELECT {', '.join(cols)} FROM {src})"
                      for name, cols, src in layers)
    present = [*stored_fields(m), FLAGS]
    return f"WITH {ctes}\nSELECT *, {content_hash_sql(present)} AS content_hash FROM l5"


def stored_fields(m: Mapping) -> list[str]:
    """Canonical fields this mapping fills (mapped or derived), in catalogue order.

    The query yields only these; every other canonical column of the record is NULL.
    """
    derived = _name_parts(m)
    return [n for n in catalogue() if n in m.fields or n in derived]


def content_hash_sql(present: list[str] | None = None) -> str:
    """64-bit hash over every canonical column and the flags: equal hashes mean an unchanged
    record (a corrected value that was flagged is a change, as is a new flag).

    Columns not in ``present`` are hashed as typed NULLs, so the hash of a freshly mapped
    row equals the hash of the same record read back from ``records``. Hashes are never
    stored: both sides are computed in the same run, so they never depend on the engine
    version that wrote the store.
    """
    cols = []
    for f in catalogue().values():
        cols.append(ident(f.name) if present is None or f.name in present
                    else f"CAST(NULL AS {f.sql_type})")
    cols.append(f"CAST({FLAGS} AS VARCHAR)" if present is None or FLAGS in present
                else "CAST(NULL AS VARCHAR)")
    return f"hash({', '.join(cols)})"
