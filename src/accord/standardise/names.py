"""Name standardisation: SQL builders (pure functions returning SQL text) and the few Python
helpers SQL cannot do.

The pipeline (run by ``features.build_features``), each step on as few rows as possible:

1. ``raw_parts_sql`` (per record): given, middle and family name as written; when a record
   has no given/family name, they come from ``given_names`` / ``full_name``.
2. ``name_fold_sql`` (per DISTINCT raw value): ``fold_sql`` (upper case, diacritics and
   ligatures folded, apostrophes removed, other punctuation a space), placeholders (FNU,
   UNKNOWN) to NULL, a trailing generational suffix split off (SMITH JR -> SMITH + JR), a
   leading title dropped (DR JOHN -> JOHN). Values still holding letters outside A-Z (Cyrillic,
   Greek) are transliterated in Python (``transliterate``) on those distinct values only.
3. ``repaired_parts_sql`` (per record): cheap joins and CASEs: a family name that is only a
   suffix (full name "JOHN SMITH JR" split as given JOHN, middle SMITH, family JR) takes the
   last middle token; a given name that is only a title takes the first middle token.
4. ``given_dim_sql`` / ``family_dim_sql`` (per DISTINCT given / family name): tokens, particles
   (family), variant keys (joined from ``variants.TABLE``), Double Metaphone codes (joined from
   the phonetic temp table, computed in Python once per distinct token).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from accord.sql_text import lit, str_list
from accord.standardise.reference import particles, placeholder_names, suffixes, titles, transliteration

# One letter -> one letter folds strip_accents cannot do (no Unicode decomposition).
_TRANSLATE = ("ØŁĐÐĦŦĿƏ", "OLDDHTLA")
# One letter -> several.
_EXPAND = (("ẞ", "SS"), ("ß", "SS"), ("Æ", "AE"), ("Œ", "OE"), ("Þ", "TH"), ("Ŋ", "NG"),
           ("Ǆ", "DZ"), ("ǅ", "DZ"), ("Ǉ", "LJ"), ("ǈ", "LJ"), ("Ǌ", "NJ"), ("ǋ", "NJ"), ("Ĳ", "IJ"))
_ORDINALS = (("2ND", "II"), ("3RD", "III"), ("4TH", "IV"), ("5TH", "V"), ("6TH", "VI"))
# Apostrophes and look-alikes are deleted (O'BRIEN -> OBRIEN), not turned into a space.
_APOSTROPHES = "'’‘`´ʼʻ"


def fold_sql(expr: str) -> str:
    """Folded form of a name: upper case, Latin letters without diacritics (Nguyễn -> NGUYEN,
    Øyvind -> OYVIND, Straße -> STRASSE), apostrophes removed, every run of other non-letters
    (hyphens, dots, commas, digits) one space, trimmed; NULL when nothing is left. Letters of
    other scripts are kept (``transliterate`` handles Cyrillic and Greek afterwards)."""
    x = f"upper({expr})"
    for a, b in _EXPAND:
        x = f"replace({x}, {lit(a)}, {lit(b)})"
    x = f"strip_accents(translate({x}, {lit(_TRANSLATE[0])}, {lit(_TRANSLATE[1])}))"
    x = f"regexp_replace({x}, {lit('[' + _APOSTROPHES + ']')}, '', 'g')"
    # Digits go, but a numbered generational suffix survives as its Roman numeral (SMITH 3RD).
    ordinals = x
    for num, roman in _ORDINALS:
        ordinals = f"regexp_replace({ordinals}, '\\b{num}\\b', {lit(roman)}, 'g')"
    x = f"CASE WHEN regexp_matches({x}, '[0-9]') THEN {ordinals} ELSE {x} END"
    x = f"regexp_replace({x}, '[^\\p{{L}}]+', ' ', 'g')"
    return f"NULLIF(trim({x}), '')"


def transliterate(values: Iterable[str]) -> dict[str, str | None]:
    """Folded values with letters outside A-Z -> the same values with Cyrillic and Greek
    letters romanised (ICAO 9303), remaining marks removed; other scripts are kept as written."""
    table = transliteration()
    out: dict[str, str | None] = {}
    for v in values:
        decomposed = unicodedata.normalize("NFD", v)
        chars = [table.get(unicodedata.normalize("NFC", c), c) for c in decomposed
                 if not unicodedata.combining(c)]
        text = " ".join("".join(chars).split())
        out[v] = text or None
    return out


def in_list(values: Iterable[str]) -> str:
    """``'A', 'B'`` for ``x IN (...)``."""
    return ", ".join(lit(v) for v in values)


def raw_parts_sql(src: str) -> str:
    """Per record: rid and the raw given (g), middle (m), family (f) and suffix (s) names.

    given_name / middle_name / family_name win. Without a given name, the first token of
    given_names (else of full_name) is the given name and the rest the middle names; without a
    family name, full_name gives it ("family, given" when it has a comma, else its last token)."""
    gn = "trim(given_names)"
    fn = "trim(full_name)"
    comma = f"strpos({fn}, ',') > 0"
    after = f"trim(substr({fn}, strpos({fn}, ',') + 1))"
    full_given = (f"CASE WHEN {comma} THEN NULLIF(split_part({after}, ' ', 1), '') "
                  f"WHEN strpos({fn}, ' ') > 0 THEN split_part({fn}, ' ', 1) END")
    full_middle = (f"CASE WHEN {comma} THEN NULLIF(trim(regexp_extract({after}, '^\\S+\\s+(.*)$', 1)), '') "
                   f"ELSE NULLIF(trim(regexp_extract({fn}, '^\\S+\\s+(.*)\\s+\\S+$', 1)), '') END")
    full_family = (f"CASE WHEN {comma} THEN NULLIF(trim(split_part({fn}, ',', 1)), '') "
                   f"ELSE regexp_extract({fn}, '(\\S+)$', 1) END")
    need_full = "full_name IS NOT NULL AND (given_name IS NULL OR family_name IS NULL)"
    return f"""SELECT rid,
  coalesce(given_name, NULLIF(split_part({gn}, ' ', 1), ''),
           CASE WHEN {need_full} AND given_name IS NULL THEN {full_given} END) AS g,
  coalesce(middle_name,
           CASE WHEN given_name IS NULL AND given_names IS NOT NULL
                THEN NULLIF(trim(regexp_extract({gn}, '^\\S+\\s+(.*)$', 1)), '') END,
           CASE WHEN {need_full} AND given_name IS NULL AND given_names IS NULL THEN {full_middle} END) AS m,
  coalesce(family_name, CASE WHEN {need_full} THEN {full_family} END) AS f,
  name_suffix AS s
FROM {src}"""


def name_fold_sql(raw_values: str) -> str:
    """Per distinct raw name ``raw`` (relation ``raw_values(raw, folded)``): what the
    name-level rules make of it.

    Columns: raw, folded, placeholder (FNU, UNKNOWN...: the name is treated as missing), name
    (folded; NULL for a placeholder; a trailing suffix of a two-or-more-token name removed),
    given (``name`` without a leading title), trailing_suffix (the standard suffix removed from
    the end), field_suffix (the whole value read as a suffix: for the name_suffix field),
    only_suffix (the whole value is a generational suffix such as JR), only_title."""
    sfx = suffixes()
    generational = [v for v in sfx.in_names if sfx.standard[v] is not None]
    std_case = "CASE {x} " + " ".join(
        f"WHEN {lit(v)} THEN {lit(s) if s else 'NULL'}" for v, s in sfx.standard.items()) + " END"
    title_list = in_list(titles())
    return f"""WITH p AS (SELECT raw, folded,
    coalesce(folded IN ({in_list(placeholder_names())}), FALSE) AS placeholder,
    regexp_extract(folded, '^(.*) (\\S+)$', ['head', 'last']) AS hl
  FROM {raw_values}),
s AS (SELECT *,
    CASE WHEN NOT placeholder AND hl.last IN ({in_list(sfx.in_names)}) THEN hl.last END AS trail
  FROM p),
n AS (SELECT *,
    CASE WHEN placeholder THEN NULL WHEN trail IS NOT NULL THEN hl.head ELSE folded END AS name
  FROM s)
SELECT raw, folded, placeholder, name,
  CASE WHEN split_part(name, ' ', 1) IN ({title_list}) AND strpos(name, ' ') > 0
       THEN regexp_extract(name, '^\\S+ (.*)$', 1) ELSE name END AS given,
  {std_case.format(x='trail')} AS trailing_suffix,
  {std_case.format(x='folded')} AS field_suffix,
  coalesce(folded IN ({in_list(generational)}), FALSE) AS only_suffix,
  coalesce(folded IN ({title_list}), FALSE) AS only_title
FROM n"""


def repaired_parts_sql(parts: str, fold: str) -> str:
    """Per record (``parts`` from ``raw_parts_sql``, ``fold`` from ``name_fold_sql``): the
    standardised given, middle and family name strings, the standard suffix, and which name
    parts were placeholders."""
    return f"""WITH j AS (
  SELECT p.rid, g.given AS g, coalesce(g.only_title, FALSE) AS g_title, g.placeholder AS g_ph,
         g.trailing_suffix AS g_sfx, m.name AS m, m.placeholder AS m_ph, m.trailing_suffix AS m_sfx,
         f.name AS f, coalesce(f.only_suffix, FALSE) AS f_sfx_only, f.placeholder AS f_ph,
         coalesce(f.trailing_suffix, CASE WHEN f.only_suffix THEN f.field_suffix END) AS f_sfx,
         s.field_suffix AS s_sfx
  FROM {parts} p
  LEFT JOIN {fold} g ON g.raw = p.g
  LEFT JOIN {fold} m ON m.raw = p.m
  LEFT JOIN {fold} f ON f.raw = p.f
  LEFT JOIN {fold} s ON s.raw = p.s),
k AS (SELECT *,
    -- "JOHN SMITH JR" read as given/middle/family: the family name is the last middle token.
    -- (With a title-only given name the middle name must hold two tokens to give both.)
    f_sfx_only AND m IS NOT NULL AND (NOT g_title OR strpos(m, ' ') > 0) AS shift_family,
    g_title AND m IS NOT NULL AS shift_given
  FROM j)
SELECT rid,
  CASE WHEN shift_given THEN split_part(m, ' ', 1) WHEN g_title THEN NULL ELSE g END AS given,
  CASE WHEN shift_given AND shift_family
         THEN NULLIF(regexp_extract(m, '^\\S+ (.*) \\S+$', 1), '')
       WHEN shift_given THEN NULLIF(regexp_extract(m, '^\\S+ (.*)$', 1), '')
       WHEN shift_family THEN NULLIF(regexp_extract(m, '^(.*) \\S+$', 1), '')
       ELSE m END AS middle,
  CASE WHEN shift_family THEN regexp_extract(m, '(\\S+)$', 1) WHEN f_sfx_only THEN NULL ELSE f END AS family,
  coalesce(s_sfx, f_sfx, m_sfx, g_sfx) AS suffix,
  coalesce(g_ph, FALSE) AS given_placeholder,
  coalesce(f_ph, FALSE) AS family_placeholder,
  coalesce(m_ph, FALSE) AS middle_placeholder
FROM k"""


def given_dim_sql(given_values: str, variants: str, phonetic: str) -> str:
    """Per distinct standardised given name ``given_std``: tokens, first token, concatenation,
    initial, variant key/keys (the whole name without spaces if the tables list it, else its
    first token; else the first token itself) and Double Metaphone of the first token."""
    return f"""WITH t AS (SELECT given_std, string_split(given_std, ' ') AS given_tokens,
    split_part(given_std, ' ', 1) AS given_first, replace(given_std, ' ', '') AS given_concat
  FROM {given_values})
SELECT t.given_std, t.given_tokens, t.given_concat, left(t.given_std, 1) AS given_initial,
  coalesce(vc.key, vf.key, t.given_first) AS given_key,
  coalesce(vc.keys, vf.keys, [t.given_first]) AS given_keys,
  ph.dm1 AS given_dm1, ph.dm2 AS given_dm2
FROM t
LEFT JOIN {variants} vc ON vc.part = 'given' AND vc.name = t.given_concat AND len(t.given_tokens) > 1
LEFT JOIN {variants} vf ON vf.part = 'given' AND vf.name = t.given_first
LEFT JOIN {phonetic} ph ON ph.token = t.given_first"""


def family_forms_sql(family_values: str) -> str:
    """Per distinct standardised family name ``family``: family_full_std (attach-prefixes
    joined: O BRIEN -> OBRIEN), family_tokens (particles dropped unless last: DE LA CRUZ ->
    [CRUZ]), family_std (those tokens joined), family_concat (the full form without spaces)."""
    pa = particles()
    attach = "|".join(pa.attach)
    full = f"regexp_replace(family, '(^| )({attach}) (\\S)', '\\1\\2\\3', 'g')"
    drop = str_list(list(pa.drop))
    return f"""WITH a AS (SELECT family, {full} AS family_full_std FROM {family_values}),
b AS (SELECT *, string_split(family_full_std, ' ') AS all_tokens FROM a),
c AS (SELECT *, list_filter(all_tokens, lambda t, i: NOT (list_contains({drop}, t) AND i < len(all_tokens)))
    AS kept FROM b)
SELECT family, family_full_std,
  CASE WHEN len(kept) = 0 THEN all_tokens ELSE kept END AS family_tokens,
  array_to_string(CASE WHEN len(kept) = 0 THEN all_tokens ELSE kept END, ' ') AS family_std,
  replace(family_full_std, ' ', '') AS family_concat
FROM c"""


def family_tokens(family: str) -> tuple[str, ...]:
    """``family_tokens`` of :func:`family_forms_sql` in Python, for the few names of one person
    view: attach-prefixes joined to the next token, particles dropped unless last (tests hold the
    two equal)."""
    pa = particles()
    full = _attach_re(pa.attach).sub(r"\1\2\3", family)
    tokens = full.split(" ")
    last = len(tokens) - 1
    kept = [t for i, t in enumerate(tokens) if not (t in pa.drop and i < last)]
    return tuple(kept or tokens)


@cache
def _attach_re(attach: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(f"(^| )({'|'.join(attach)}) (\\S)")


def family_dim_sql(forms: str, variants: str, phonetic: str) -> str:
    """Per distinct family name (``forms`` from ``family_forms_sql``): family_key (the whole
    name's key if the tables list its concatenation, else each token's key joined by spaces),
    family_keys (every key of every token), Double Metaphone of the first kept token."""
    return f"""WITH tok AS (
  SELECT family, unnest(family_tokens) AS token, generate_subscripts(family_tokens, 1) AS pos
  FROM {forms}),
per_token AS (
  SELECT tok.family, string_agg(coalesce(v.key, tok.token), ' ' ORDER BY tok.pos) AS key_tokens,
    list_sort(list_distinct(flatten(list(coalesce(v.keys, [tok.token]))))) AS token_keys
  FROM tok LEFT JOIN {variants} v ON v.part = 'family' AND v.name = tok.token
  GROUP BY tok.family)
SELECT f.*, coalesce(vc.key, pt.key_tokens) AS family_key,
  CASE WHEN vc.keys IS NULL THEN pt.token_keys
       ELSE list_sort(list_distinct(list_concat(vc.keys, pt.token_keys))) END AS family_keys,
  ph.dm1 AS family_dm1, ph.dm2 AS family_dm2
FROM {forms} f
JOIN per_token pt USING (family)
LEFT JOIN {variants} vc ON vc.part = 'family' AND vc.name = f.family_concat AND len(f.family_tokens) > 1
LEFT JOIN {phonetic} ph ON ph.token = f.family_tokens[1]"""


_EXPAND_TABLE = str.maketrans({a: b for a, b in _EXPAND})
_TRANSLATE_TABLE = str.maketrans(_TRANSLATE[0], _TRANSLATE[1])
_APOSTROPHE_RE = re.compile("[" + _APOSTROPHES + "]")
_ORDINAL_RES = [(re.compile(rf"\b{num}\b"), roman) for num, roman in _ORDINALS]
_NON_LETTERS_RE = re.compile(r"[\W\d_]+")


def fold(value: str | None) -> str | None:
    """``fold_sql`` in Python, for a few values read outside the pipeline (a person view):
    the same folded form without a database round trip (tests hold the two equal)."""
    if value is None:
        return None
    # Upper case letter by letter, as the database does: a letter whose capital is several
    # letters (ß, ﬁ, ΐ) stays as it is.
    x = "".join(u if len(u := c.upper()) == 1 else c for c in value)
    x = x.translate(_EXPAND_TABLE).translate(_TRANSLATE_TABLE)
    x = unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", x) if not unicodedata.combining(c)))
    x = _APOSTROPHE_RE.sub("", x)
    if any(c.isdigit() for c in x):
        for pattern, roman in _ORDINAL_RES:
            x = pattern.sub(roman, x)
    x = _NON_LETTERS_RE.sub(" ", x).strip(" ")
    return x or None
