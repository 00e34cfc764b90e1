"""A person search query, standardised the way the standardise stage treats records.

Names are folded with ``names.fold_sql`` (upper case, diacritics and punctuation folded),
romanised when in Cyrillic or Greek, stripped of placeholders (FNU, UNKNOWN), a leading title
and a trailing generational suffix, and given the same variant keys (``variants``: nicknames,
spellings, equivalents) and Double Metaphone codes (``phonetic``) as ``features`` holds for
records; family names lose their particles with ``names.family_forms_sql``. Identifiers must
pass the same validity rules ingest and standardise apply (``identifiers.validity_sql``), so a
placeholder such as SSN 123-45-6789 cannot be searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from accord.errors import AccordError
from accord.sql import local
from accord.standardise import names, phonetic, variants
from accord.standardise.identifiers import DOB_PLACEHOLDERS, validity_sql
from accord.standardise.reference import placeholder_names, suffixes, titles
from accord.store import Store


class SearchQueryError(AccordError, ValueError):
    """A search that is empty, too broad or malformed; nothing was searched."""


@dataclass(frozen=True)
class NamePart:
    std: str
    key: str
    keys: tuple[str, ...]
    tokens: tuple[str, ...]
    dm1: str | None
    dm2: str | None


@dataclass(frozen=True)
class Query:
    given: NamePart | None = None
    family: NamePart | None = None
    dob: date | None = None
    ssn: str | None = None
    a_number: str | None = None
    tin: str | None = None

    @property
    def identifiers(self) -> dict[str, str]:
        return {k: v for k, v in (("ssn", self.ssn), ("a_number", self.a_number), ("tin", self.tin))
                if v is not None}


def build_query(store: Store, name: str | None, dob: date | str | None, ssn: str | None,
                a_number: str | None, tin: str | None) -> Query:
    """Standardise and check a query: name and date of birth together, or an identifier."""
    given = family = None
    if name is not None and name.strip():
        given, family = _name(name)
    birth = _dob(dob)
    ids = {"ssn": _identifier("ssn", ssn), "a_number": _identifier("a_number", a_number),
           "tin": _identifier("tin", tin)}
    has_name = given is not None
    if not any(ids.values()) and not (has_name and birth is not None):
        given_what = [w for w, v in (("a name", has_name), ("a date of birth", birth is not None)) if v]
        raise SearchQueryError(
            "search needs a name and a date of birth together, or an identifier (ssn, a_number, tin)"
            + (f"; {' and '.join(given_what)} alone is too broad" if given_what else
               "; an empty search is not allowed (no browsing)"))
    return Query(given, family, birth, ids["ssn"], ids["a_number"], ids["tin"])


def _split(name: str) -> tuple[str, str]:
    if "," in name:
        family, given = name.split(",", 1)
        return given.strip(), family.strip()
    parts = name.split()
    if len(parts) < 2:
        raise SearchQueryError(f"name {name!r}: give a given and a family name "
                               "(\"Maria Garcia\" or \"Garcia Lopez, Maria\")")
    return parts[0], parts[-1]


def _fold(given: str, family: str) -> tuple[str | None, str | None]:
    row = local.rows(f"SELECT {names.fold_sql('g')}, {names.fold_sql('f')} "
                     f"FROM (SELECT ?::VARCHAR AS g, ?::VARCHAR AS f)", [given, family])[0]
    out = [v for v in row]
    odd = [v for v in out if v and re.search("[^A-Z ]", v)]
    latin = names.transliterate(odd) if odd else {}
    return tuple(latin.get(v, v) if v else None for v in out)  # type: ignore[return-value]


def _clean(folded: str | None, part: str) -> str | None:
    if folded is None or folded in placeholder_names():
        return None
    tokens = folded.split()
    if part == "given" and len(tokens) > 1 and tokens[0] in titles():
        tokens = tokens[1:]
    if part == "family" and len(tokens) > 1 and tokens[-1] in suffixes().in_names:
        tokens = tokens[:-1]
    return " ".join(tokens) or None


def _codes(token: str) -> tuple[str | None, str | None]:
    if len(token) < 2:  # one letter is an initial, not a sound
        return None, None
    (_, dm1, dm2), = phonetic.encode_tokens([token])
    return dm1, dm2


def _given(std: str) -> NamePart:
    tokens = tuple(std.split())
    whole = variants.lookup(std, "given") if len(tokens) > 1 else None
    entry = whole or variants.lookup(tokens[0], "given")
    key, keys = (entry.key, entry.keys) if entry else (tokens[0], (tokens[0],))
    return NamePart(std, key, tuple(keys), tokens, *_codes(tokens[0]))


def _family(folded: str) -> NamePart:
    sql = names.family_forms_sql("(SELECT ?::VARCHAR AS family)")
    std, concat, tokens = local.rows(f"SELECT family_std, family_concat, family_tokens FROM ({sql})",
                                     [folded])[0]
    whole = variants.lookup(concat, "family") if len(tokens) > 1 else None
    per_token = [variants.lookup(t, "family") for t in tokens]
    key = whole.key if whole else " ".join(e.key if e else t for e, t in zip(per_token, tokens, strict=True))
    keys = {k for e, t in zip(per_token, tokens, strict=True) for k in (e.keys if e else (t,))}
    if whole:
        keys |= set(whole.keys)
    return NamePart(std, key, tuple(sorted(keys)), tuple(tokens), *_codes(tokens[0]))


def _name(name: str) -> tuple[NamePart, NamePart]:
    given_raw, family_raw = _split(name)
    g_fold, f_fold = _fold(given_raw, family_raw)
    given, family = _clean(g_fold, "given"), _clean(f_fold, "family")
    if given is None or family is None:
        raise SearchQueryError(f"name {name!r}: give a given and a family name "
                               "(placeholders such as FNU or UNKNOWN do not count)")
    return _given(given), _family(family)


def _dob(dob: date | str | None) -> date | None:
    if dob is None or (isinstance(dob, str) and not dob.strip()):
        return None
    if isinstance(dob, str):
        try:
            dob = date.fromisoformat(dob.strip())
        except ValueError:
            raise SearchQueryError(f"dob {dob!r}: give a date as YYYY-MM-DD") from None
    if dob.isoformat() in DOB_PLACEHOLDERS:
        raise SearchQueryError(f"dob {dob.isoformat()} is a default date systems store for an unknown "
                               "date of birth; it cannot identify anyone")
    return dob


def _identifier(kind: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = re.sub(r"[^0-9]", "", value)
    ok = validity_sql()
    if kind == "ssn":
        valid = local.scalar(f"SELECT {ok['__ssn_ok']} FROM (SELECT ?::VARCHAR AS __ssn_c)", [digits])
    elif kind == "tin":
        valid = local.scalar(f"SELECT ({ok['__ssn_ok']}) OR ({ok['__itin_ok']}) FROM "
                             f"(SELECT ?::VARCHAR AS __ssn_c, ?::VARCHAR AS __itin_c)", [digits, digits])
    else:
        valid = local.scalar(f"SELECT {ok['__anum_ok']} FROM (SELECT ?::VARCHAR AS __anum_c)", [digits])
        digits = digits.zfill(9)
    if not valid:
        raise SearchQueryError(f"{kind} {value!r} is not a valid {kind} (placeholders such as "
                               "123-45-6789 or one repeated digit cannot be searched)")
    return digits
