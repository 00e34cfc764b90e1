"""US street addresses parsed in SQL (regular expressions plus joins to the USPS tables).

A first-line street address is split into house number, street name and secondary unit:
"123 N Main Street Apt 4B" -> 123 / N MAIN ST / 4B. The street name is standardised the USPS
way (Publication 28): the suffix, the last word, is abbreviated (STREET -> ST, AVENUE -> AVE;
``street_suffixes.csv``), a leading or trailing directional is abbreviated (NORTH -> N) when
other words remain, SAINT/FORT/MOUNT and spelled ordinals are abbreviated elsewhere
(``address_terms.csv``). ``street_core`` is the name without directionals and suffix (MAIN),
for records that drop the suffix. "PO BOX 12" gives street name PO BOX and number 12.

When ``street`` is missing, ``full_address`` ("123 Main St Apt 4, Springfield, IL 62701") is
split on commas: the first part is the street line, the part before the state and ZIP the city.

A regular-expression parser is not a CRF address parser (usaddress, libpostal): it does not
handle rural routes, highway contract boxes, grid addresses (N123W456), intersections,
"REAR OF 12 ..." or units written before the number. Those fall through with the whole line
as the street name and no number, which compares equal only with the same text.

Runs once per distinct street line and once per distinct city, then joined back.
"""

from __future__ import annotations

from accord.sql_text import lit
from accord.standardise.identifiers import postcode_sql, state_sql, zip5_sql
from accord.standardise.names import fold_sql
from accord.standardise.reference import address_terms, street_suffixes

TERMS_TABLE = "__std_street_terms"


def terms_rows() -> list[tuple[str, str, str]]:
    """(kind, variant, standard) for suffix, directional, unit, unit_alone and word."""
    rows = [("suffix", v, s) for v, s in street_suffixes().items()]
    for kind, m in address_terms().items():
        rows += [(kind, v, s) for v, s in m.items()]
    return rows


def terms_values_sql() -> str:
    """The terms as an inline VALUES relation (a few hundred rows)."""
    vals = ", ".join(f"({lit(k)}, {lit(v)}, {lit(s)})" for k, v, s in terms_rows())
    return f"SELECT * FROM (VALUES {vals}) t(kind, variant, standard)"


def address_lines_sql() -> dict[str, str]:
    """Per record (expressions over the canonical columns): the street line, city, state and
    ZIP as written, falling back to ``full_address`` when a part is missing."""
    fa = "upper(trim(full_address))"
    tail = "([A-Z]{2})\\s*,?\\s*([0-9]{5})(?:-?[0-9]{4})?\\s*$"
    first_part = f"CASE WHEN strpos({fa}, ',') > 0 THEN trim(split_part({fa}, ',', 1)) END"
    city = f"NULLIF(trim(regexp_extract({fa}, ',\\s*([^,]+?)\\s*,?\\s*{tail}', 1)), '')"
    return {
        "street_line": f"coalesce(street, {first_part})",
        "city_line": f"coalesce(city, {city})",
        "state_line": f"coalesce(state, NULLIF(regexp_extract({fa}, '\\b{tail}', 1), ''))",
        "zip_line": f"coalesce(zip, NULLIF(regexp_extract({fa}, '\\b{tail}', 2), ''))",
    }


def _clean(expr: str) -> str:
    """Upper case, no diacritics, dots deleted (N.E. -> NE), other punctuation but # / - a space,
    single spaces. Lines already in that form (most) skip the rewriting."""
    up = f"upper({expr})"
    x = f"regexp_replace(strip_accents({up}), '\\.', '', 'g')"
    x = f"regexp_replace({x}, '[^A-Z0-9#/ -]+', ' ', 'g')"
    x = f"trim(regexp_replace({x}, '\\s+', ' ', 'g'))"
    clean = f"regexp_full_match({up}, '[A-Z0-9#/-]+( [A-Z0-9#/-]+)*')"
    return f"NULLIF(CASE WHEN {clean} THEN {up} ELSE {x} END, '')"


def street_parse_sql(lines: str, terms: str = TERMS_TABLE) -> str:
    """Per distinct ``street_line`` (relation ``lines``): street_number, street_name,
    street_core, street_unit."""
    t = address_terms()
    units = "|".join(sorted(t["unit"], key=len, reverse=True))
    alone = "|".join(sorted(t["unit_alone"], key=len, reverse=True))
    unit_value = "[0-9][A-Z0-9-]*|[A-Z]|[A-Z][0-9-][A-Z0-9-]*"
    words = t["word"]
    word_fix = "core"
    for v, s in words.items():
        word_fix = f"regexp_replace({word_fix}, '\\b{v}\\b', {lit(s)}, 'g')"
    word_re = "\\b(" + "|".join(words) + ")\\b"
    return f"""WITH c AS (SELECT street_line, {_clean('street_line')} AS s FROM {lines}),
box AS (SELECT *, CASE WHEN contains(s, 'BOX') THEN NULLIF(regexp_extract(s,
    '^(?:P ?O ?B(?:OX)?|POST OFFICE BOX|BOX) ?#? ?([A-Z0-9-]+)$', 1), '') END AS box_number FROM c),
u AS (SELECT *, CASE WHEN regexp_matches(s, '#|\\b(?:{units})\\b') THEN
    regexp_extract(s, '^(.*?)\\s*(?:\\b(?:{units})\\b\\s*#?\\s*|#\\s*)({unit_value})$', ['rest', 'unit'])
    END AS u1 FROM box),
u2 AS (SELECT *, CASE WHEN u1.unit <> '' THEN u1.rest ELSE s END AS r1,
    CASE WHEN u1.unit <> '' THEN replace(u1.unit, '-', '') END AS unit1 FROM u),
u3 AS (SELECT *, CASE WHEN regexp_matches(r1, ' (?:{alone})$') THEN
    regexp_extract(r1, '^(.*\\S)\\s+({alone})$', ['rest', 'unit']) END AS ua FROM u2),
n AS (SELECT u3.*, CASE WHEN ua.unit <> '' THEN ua.rest ELSE r1 END AS r2,
    coalesce(unit1, ut.standard) AS street_unit
  FROM u3 LEFT JOIN {terms} ut ON ut.kind = 'unit_alone' AND ut.variant = ua.unit),
num AS (SELECT *, regexp_full_match(split_part(r2, ' ', 1), '[0-9]+[A-Z]?(?:-[0-9A-Z]+)?')
    AND strpos(r2, ' ') > 0 AS has_num FROM n),
num2 AS (SELECT *, CASE WHEN has_num THEN substr(r2, strpos(r2, ' ') + 1) ELSE r2 END AS after_num FROM num),
nm AS (SELECT *,
    CASE WHEN has_num THEN replace(split_part(r2, ' ', 1), '-', '')
         || CASE WHEN starts_with(after_num, '1/2 ') THEN ' 1/2' ELSE '' END END AS street_number,
    CASE WHEN has_num AND starts_with(after_num, '1/2 ') THEN substr(after_num, 5) ELSE after_num END AS name0
  FROM num2),
tk AS (SELECT *, string_split(CASE WHEN regexp_matches(name0, '[#/-]')
    THEN trim(regexp_replace(name0, '[\\s#/-]+', ' ', 'g')) ELSE name0 END, ' ') AS toks FROM nm),
j AS (SELECT tk.*, len(toks) AS ntok, d1.standard AS pre, sl.standard AS suf_last,
    dl.standard AS post, sp.standard AS suf_pen
  FROM tk
  LEFT JOIN {terms} d1 ON d1.kind = 'directional' AND d1.variant = toks[1]
  LEFT JOIN {terms} sl ON sl.kind = 'suffix' AND sl.variant = toks[-1]
  LEFT JOIN {terms} dl ON dl.kind = 'directional' AND dl.variant = toks[-1]
  LEFT JOIN {terms} sp ON sp.kind = 'suffix' AND sp.variant = toks[-2] AND len(toks) >= 3),
parts AS (SELECT *,
    CASE WHEN pre IS NOT NULL AND (ntok >= 3 OR (ntok = 2 AND suf_last IS NULL AND post IS NULL))
      THEN pre END AS predir,
    CASE WHEN post IS NOT NULL AND suf_pen IS NOT NULL THEN post END AS postdir
  FROM j),
parts2 AS (SELECT *, CASE WHEN postdir IS NOT NULL THEN suf_pen WHEN ntok >= 2 THEN suf_last END AS suffix
  FROM parts),
core AS (SELECT *, NULLIF(array_to_string(toks[(CASE WHEN predir IS NOT NULL THEN 2 ELSE 1 END):
    (ntok - (CASE WHEN postdir IS NOT NULL THEN 1 ELSE 0 END)
          - (CASE WHEN suffix IS NOT NULL THEN 1 ELSE 0 END))], ' '), '') AS core FROM parts2),
fixed AS (SELECT *, CASE WHEN regexp_matches(core, '{word_re}') THEN {word_fix} ELSE core END AS street_core
  FROM core)
SELECT street_line,
  CASE WHEN box_number IS NOT NULL THEN box_number ELSE street_number END AS street_number,
  CASE WHEN box_number IS NOT NULL THEN 'PO BOX'
       ELSE NULLIF(concat_ws(' ', predir, street_core, suffix, postdir), '') END AS street_name,
  CASE WHEN box_number IS NOT NULL THEN 'PO BOX' ELSE street_core END AS street_core,
  CASE WHEN box_number IS NOT NULL THEN NULL ELSE street_unit END AS street_unit
FROM fixed"""


def city_sql(expr: str) -> str:
    """Folded city name; a leading SAINT / SAINTE / FORT / MOUNT abbreviated (ST LOUIS)."""
    f = fold_sql(expr)
    return (f"regexp_replace(regexp_replace(regexp_replace(regexp_replace({f}, '^SAINT ', 'ST '), "
            f"'^SAINTE ', 'STE '), '^FORT ', 'FT '), '^MOUNT ', 'MT ')")


def city_state_zip_sql() -> dict[str, str]:
    """Per-record state and zip5 from ``address_parts_sql`` columns; the postcode (zip5, else
    the ``postcode`` field's letters and digits), the region (the ``region`` field folded, else
    the USPS state) and the house number given apart from the street line (upper case, no
    spaces or dashes; else the number parsed from the line), from the record's own fields."""
    state, zip5 = state_sql("state_line"), zip5_sql("zip_line")
    number = "NULLIF(regexp_replace(upper(__street_number_in), '[^A-Z0-9/]+', '', 'g'), '')"
    return {
        "state": state, "zip5": zip5,
        "postcode": f"coalesce({zip5}, {postcode_sql('__postcode_in')})",
        "region": (f"CASE WHEN __region_in IS NULL THEN {state} "
                   f"ELSE coalesce(replace({fold_sql('__region_in')}, ' ', ''), {state}) END"),
        "street_number": f"coalesce({number}, st.street_number)",
    }

