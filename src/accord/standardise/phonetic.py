"""Double Metaphone: a phonetic key for name tokens (pure Python, no dependencies).

Written for Accord from Lawrence Philips' published algorithm ("The Double Metaphone Search
Algorithm", C/C++ Users Journal, June 2000; the original C++ was released to the public
domain). Rule order and conditions follow that C++ code; the Apache Commons Codec port and
Stephen Woodbridge's surname test list were used as references for expected outputs
(``tests/standardise/test_phonetic.py`` quotes part of that list). One deliberate detail
follows the C++ rather than Commons Codec: a word-final J adds nothing to the alternate code
(Commons Codec appends a space there).

``double_metaphone(word)`` returns ``(primary, alternate)``, each at most ``MAX_LENGTH`` (4)
characters, the alternate equal to the primary when no rule offered a second reading. The
input must already be folded to upper-case A-Z (``names.fold_sql`` does that); other
characters are skipped. Codes use ``0`` for "th" and ``X`` for "sh"/"ch".

In the features stage it runs once per distinct name token (never per record), on tokens
pulled from the database into Python and joined back through a temporary table.

What it does badly (read this before relying on a phonetic match):
- It is built for English and the European names English speakers meet (Germanic, Slavic,
  Romance, some Greek). Names that reach us only as a romanisation of another script
  (Arabic, Chinese, Korean, Vietnamese, Hindi, ...) are encoded by the accident of the
  romanisation's English-like spelling: KHALID and HALID differ (K vs H), while QASIM and
  KASSEM agree only because Q and K both give K. The variant tables carry these names.
- Short names collapse. Vowels are dropped except at the start, so one-syllable names keep
  almost nothing: LE/LI/LEE/LY -> L; WU/WOO -> A (alternate F); HO/HU/HA -> H; NG -> NK. For
  Chinese, Korean and Vietnamese surnames a phonetic match is close to no evidence at all;
  term frequencies must carry the weight.
- Different names meet: only the first four consonant sounds count and vowels are ignored,
  so ALAN/ALLEN/ELLEN are all ALN, MARY/MARIE/MARA are all MR, and CHRISTENSEN,
  CHRISTOPHER and CHRISTIE are all KRST.
- Rules fire on spelling patterns, not on the person's language: -MB-ER drops the B
  (HUMBERTO -> HMRT), a final -CH after a vowel is K (BEACH -> PK), Spanish J is H only in
  JOSE and after SAN (JUAN is JN/AN, not HN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MAX_LENGTH = 4

# The closures the per-letter rules receive: character at i ("" outside the word), "the
# substring at start of this length is one of these", "the character at i is a vowel".
_At = Callable[[int], str]
_Sub = Callable[..., bool]
_Vowel = Callable[[int], bool]

_VOWELS = frozenset("AEIOUY")
_SILENT_START = ("GN", "KN", "PN", "WR", "PS")


class _Code:
    """The two codes under construction, each capped at ``MAX_LENGTH``."""

    __slots__ = ("alternate", "primary")

    def __init__(self) -> None:
        self.primary = ""
        self.alternate = ""

    def add(self, main: str, alt: str | None = None) -> None:
        self.primary = (self.primary + main)[:MAX_LENGTH]
        if alt is None:
            alt = main
        if alt != " ":  # C++: MetaphAdd("J", " ") marks an alternate but adds nothing to it
            self.alternate = (self.alternate + alt)[:MAX_LENGTH]

    def done(self) -> bool:
        return len(self.primary) >= MAX_LENGTH and len(self.alternate) >= MAX_LENGTH


def double_metaphone(word: str) -> tuple[str, str]:
    """(primary, alternate) Double Metaphone codes of one upper-case word."""
    v = word.upper()
    n = len(v)
    if n == 0:
        return "", ""

    def at(i: int) -> str:
        return v[i] if 0 <= i < n else ""

    def sub(start: int, length: int, *options: str) -> bool:
        if start < 0 or start + length > n:
            return False
        return v[start:start + length] in options

    def vowel(i: int) -> bool:
        return 0 <= i < n and v[i] in _VOWELS

    slavo_germanic = "W" in v or "K" in v or "CZ" in v or "WITZ" in v
    code = _Code()
    i = 1 if v.startswith(_SILENT_START) else 0
    last = n - 1

    while i < n and not code.done():
        c = v[i]
        if c in _VOWELS:
            if i == 0:
                code.add("A")
            i += 1
        elif c == "B":
            code.add("P")
            i += 2 if at(i + 1) == "B" else 1
        elif c == "C":
            i = _c(v, i, code, at, sub, vowel)
        elif c == "D":
            if sub(i, 2, "DG"):
                if sub(i + 2, 1, "I", "E", "Y"):
                    code.add("J")
                    i += 3
                else:
                    code.add("TK")
                    i += 2
            elif sub(i, 2, "DT", "DD"):
                code.add("T")
                i += 2
            else:
                code.add("T")
                i += 1
        elif c == "F":
            code.add("F")
            i += 2 if at(i + 1) == "F" else 1
        elif c == "G":
            i = _g(v, i, code, at, sub, vowel, slavo_germanic)
        elif c == "H":
            if (i == 0 or vowel(i - 1)) and vowel(i + 1):
                code.add("H")
                i += 2
            else:
                i += 1
        elif c == "J":
            i = _j(v, i, code, at, sub, vowel, slavo_germanic)
        elif c == "K":
            code.add("K")
            i += 2 if at(i + 1) == "K" else 1
        elif c == "L":
            if at(i + 1) == "L":
                if ((i == n - 3 and sub(i - 1, 4, "ILLO", "ILLA", "ALLE"))
                        or ((sub(last - 1, 2, "AS", "OS") or sub(last, 1, "A", "O"))
                            and sub(i - 1, 4, "ALLE"))):
                    code.add("L", "")
                else:
                    code.add("L")
                i += 2
            else:
                code.add("L")
                i += 1
        elif c == "M":
            code.add("M")
            if (sub(i - 1, 3, "UMB") and (i + 1 == last or sub(i + 2, 2, "ER"))) or at(i + 1) == "M":
                i += 2
            else:
                i += 1
        elif c == "N":
            code.add("N")
            i += 2 if at(i + 1) == "N" else 1
        elif c == "P":
            if at(i + 1) == "H":
                code.add("F")
                i += 2
            else:
                code.add("P")
                i += 2 if sub(i + 1, 1, "P", "B") else 1
        elif c == "Q":
            code.add("K")
            i += 2 if at(i + 1) == "Q" else 1
        elif c == "R":
            if (i == last and not slavo_germanic and sub(i - 2, 2, "IE")
                    and not sub(i - 4, 2, "ME", "MA")):
                code.add("", "R")
            else:
                code.add("R")
            i += 2 if at(i + 1) == "R" else 1
        elif c == "S":
            i = _s(v, i, code, at, sub, vowel, slavo_germanic)
        elif c == "T":
            if sub(i, 4, "TION") or sub(i, 3, "TIA", "TCH"):
                code.add("X")
                i += 3
            elif sub(i, 2, "TH") or sub(i, 3, "TTH"):
                if sub(i + 2, 2, "OM", "AM") or sub(0, 4, "VAN ", "VON ") or sub(0, 3, "SCH"):
                    code.add("T")
                else:
                    code.add("0", "T")
                i += 2
            else:
                code.add("T")
                i += 2 if sub(i + 1, 1, "T", "D") else 1
        elif c == "V":
            code.add("F")
            i += 2 if at(i + 1) == "V" else 1
        elif c == "W":
            i = _w(v, i, code, sub, vowel)
        elif c == "X":
            if i == 0:
                code.add("S")
                i += 1
            else:
                if not (i == last and (sub(i - 3, 3, "IAU", "EAU") or sub(i - 2, 2, "AU", "OU"))):
                    code.add("KS")
                i += 2 if sub(i + 1, 1, "C", "X") else 1
        elif c == "Z":
            if at(i + 1) == "H":
                code.add("J")
                i += 2
            else:
                if sub(i + 1, 2, "ZO", "ZI", "ZA") or (slavo_germanic and i > 0 and at(i - 1) != "T"):
                    code.add("S", "TS")
                else:
                    code.add("S")
                i += 2 if at(i + 1) == "Z" else 1
        else:
            i += 1
    return code.primary, code.alternate


def _c(v: str, i: int, code: _Code, at: _At, sub: _Sub, vowel: _Vowel) -> int:
    # Various Germanic: "bacher", "macher"
    if (i > 1 and not vowel(i - 2) and sub(i - 1, 3, "ACH") and at(i + 2) != "I"
            and (at(i + 2) != "E" or sub(i - 2, 6, "BACHER", "MACHER"))):
        code.add("K")
        return i + 2
    if i == 0 and sub(i, 6, "CAESAR"):
        code.add("S")
        return i + 2
    if sub(i, 4, "CHIA"):  # Italian "chianti"
        code.add("K")
        return i + 2
    if sub(i, 2, "CH"):
        if i > 0 and sub(i, 4, "CHAE"):  # "michael"
            code.add("K", "X")
        elif _ch_is_k(v, i, sub):
            code.add("K")
        elif i > 0:
            code.add("K" if sub(0, 2, "MC") else "X", "K")
        else:
            code.add("X")
        return i + 2
    if sub(i, 2, "CZ") and not sub(i - 2, 4, "WICZ"):  # "czerny"
        code.add("S", "X")
        return i + 2
    if sub(i + 1, 3, "CIA"):  # "focaccia"
        code.add("X")
        return i + 3
    if sub(i, 2, "CC") and not (i == 1 and at(0) == "M"):  # double "cc" but not "McClelland"
        if sub(i + 2, 1, "I", "E", "H") and not sub(i + 2, 2, "HU"):  # "bellocchio", not "bacchus"
            if (i == 1 and at(i - 1) == "A") or sub(i - 1, 5, "UCCEE", "UCCES"):  # "accident"
                code.add("KS")
            else:  # "bacci", "bertucci"
                code.add("X")
            return i + 3
        code.add("K")  # Pierce's rule
        return i + 2
    if sub(i, 2, "CK", "CG", "CQ"):
        code.add("K")
        return i + 2
    if sub(i, 2, "CI", "CE", "CY"):
        code.add("S", "X") if sub(i, 3, "CIO", "CIE", "CIA") else code.add("S")
        return i + 2
    code.add("K")
    if sub(i + 1, 2, " C", " Q", " G"):  # "Mac Caffrey", "Mac Gregor"
        return i + 3
    if sub(i + 1, 1, "C", "K", "Q") and not sub(i + 1, 2, "CE", "CI"):
        return i + 2
    return i + 1


def _ch_is_k(v: str, i: int, sub: _Sub) -> bool:
    """CH read as K: Greek roots at the start ("chemistry", "chorus", not "chore"), or Germanic
    and Greek 'ch' for 'kh' ("van ...", "sch...", "orchestra", "architect", before T/S, or
    after a vowel/at the start before a consonant or at the end)."""
    greek = (i == 0 and (sub(i + 1, 5, "HARAC", "HARIS") or sub(i + 1, 3, "HOR", "HYM", "HIA", "HEM"))
             and not sub(0, 5, "CHORE"))
    germanic = (sub(0, 4, "VAN ", "VON ") or sub(0, 3, "SCH")
                or sub(i - 2, 6, "ORCHES", "ARCHIT", "ORCHID")
                or sub(i + 2, 1, "T", "S")
                or ((sub(i - 1, 1, "A", "O", "U", "E") or i == 0)
                    and (sub(i + 2, 1, "L", "R", "N", "M", "B", "H", "F", "V", "W", " ")
                         or i + 1 == len(v) - 1)))
    return bool(greek or germanic)


def _g(v: str, i: int, code: _Code, at: _At, sub: _Sub, vowel: _Vowel, slavo: bool) -> int:
    nxt = at(i + 1)
    if nxt == "H":
        if i > 0 and not vowel(i - 1):
            code.add("K")
        elif i == 0:
            code.add("J" if at(i + 2) == "I" else "K")  # "ghislane", "ghiradelli"
        elif (sub(i - 2, 1, "B", "H", "D") or sub(i - 3, 1, "B", "H", "D")
              or sub(i - 4, 1, "B", "H")):
            pass  # Parker's rule: "hugh", "bough", "broughton"
        elif i > 2 and at(i - 1) == "U" and sub(i - 3, 1, "C", "G", "L", "R", "T"):
            code.add("F")  # "laugh", "McLaughlin", "cough", "rough"
        elif i > 0 and at(i - 1) != "I":
            code.add("K")
        return i + 2
    if nxt == "N":
        if i == 1 and vowel(0) and not slavo:
            code.add("KN", "N")
        elif not sub(i + 2, 2, "EY") and at(i + 1) != "Y" and not slavo:
            code.add("N", "KN")
        else:
            code.add("KN")
        return i + 2
    if sub(i + 1, 2, "LI") and not slavo:  # "tagliaro"
        code.add("KL", "L")
        return i + 2
    if i == 0 and (nxt == "Y" or sub(i + 1, 2, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN",
                                     "IE", "EI", "ER")):
        code.add("K", "J")
        return i + 2
    if ((sub(i + 1, 2, "ER") or nxt == "Y") and not sub(0, 6, "DANGER", "RANGER", "MANGER")
            and not sub(i - 1, 1, "E", "I") and not sub(i - 1, 3, "RGY", "OGY")):
        code.add("K", "J")  # -ger-, -gy-
        return i + 2
    if sub(i + 1, 1, "E", "I", "Y") or sub(i - 1, 4, "AGGI", "OGGI"):  # Italian "biaggi"
        if sub(0, 4, "VAN ", "VON ") or sub(0, 3, "SCH") or sub(i + 1, 2, "ET"):
            code.add("K")  # obviously Germanic
        elif sub(i + 1, 3, "IER"):
            code.add("J")
        else:
            code.add("J", "K")
        return i + 2
    code.add("K")
    return i + 2 if nxt == "G" else i + 1


def _j(v: str, i: int, code: _Code, at: _At, sub: _Sub, vowel: _Vowel, slavo: bool) -> int:
    n = len(v)
    if sub(i, 4, "JOSE") or sub(0, 4, "SAN "):  # obviously Spanish: "Jose", "San Jacinto"
        if (i == 0 and at(i + 4) == " ") or n == 4 or sub(0, 4, "SAN "):
            code.add("H")
        else:
            code.add("J", "H")
        return i + 1
    if i == 0:
        code.add("J", "A")  # "Yankelovich" / "Jankelowicz"
    elif vowel(i - 1) and not slavo and at(i + 1) in ("A", "O"):
        code.add("J", "H")  # Spanish pronunciation of "bajador"
    elif i == n - 1:
        code.add("J", " ")
    elif not sub(i + 1, 1, "L", "T", "K", "S", "N", "M", "B", "Z") and not sub(i - 1, 1, "S", "K", "L"):
        code.add("J")
    return i + 2 if at(i + 1) == "J" else i + 1


def _s(v: str, i: int, code: _Code, at: _At, sub: _Sub, vowel: _Vowel, slavo: bool) -> int:
    n = len(v)
    if sub(i - 1, 3, "ISL", "YSL"):  # "island", "isle", "carlisle"
        return i + 1
    if i == 0 and sub(i, 5, "SUGAR"):
        code.add("X", "S")
        return i + 1
    if sub(i, 2, "SH"):
        code.add("S" if sub(i + 1, 4, "HEIM", "HOEK", "HOLM", "HOLZ") else "X")  # Germanic
        return i + 2
    if sub(i, 3, "SIO", "SIA") or sub(i, 4, "SIAN"):  # Italian and Armenian
        code.add("S") if slavo else code.add("S", "X")
        return i + 3
    if (i == 0 and sub(i + 1, 1, "M", "N", "L", "W")) or sub(i + 1, 1, "Z"):
        # German and anglicised: "smith" matches "schmidt", "snider" matches "schneider";
        # Slavic -sz-.
        code.add("S", "X")
        return i + 2 if sub(i + 1, 1, "Z") else i + 1
    if sub(i, 2, "SC"):
        if at(i + 2) == "H":  # Schlesinger's rule
            if sub(i + 3, 2, "OO", "ER", "EN", "UY", "ED", "EM"):  # Dutch: "school", "schooner"
                code.add("X", "SK") if sub(i + 3, 2, "ER", "EN") else code.add("SK")
            elif i == 0 and not vowel(3) and at(3) != "W":
                code.add("X", "S")
            else:
                code.add("X")
        elif sub(i + 2, 1, "I", "E", "Y"):
            code.add("S")
        else:
            code.add("SK")
        return i + 3
    if i == n - 1 and sub(i - 2, 2, "AI", "OI"):  # French: "resnais", "artois"
        code.add("", "S")
    else:
        code.add("S")
    return i + 2 if sub(i + 1, 1, "S", "Z") else i + 1


def _w(v: str, i: int, code: _Code, sub: _Sub, vowel: _Vowel) -> int:
    if sub(i, 2, "WR"):  # can also be in the middle of a word
        code.add("R")
        return i + 2
    if i == 0 and (vowel(i + 1) or sub(i, 2, "WH")):
        code.add("A", "F") if vowel(i + 1) else code.add("A")  # Wasserman/Vasserman; Uomo/Womo
        return i + 1
    if ((i == len(v) - 1 and vowel(i - 1)) or sub(i - 1, 5, "EWSKI", "EWSKY", "OWSKI", "OWSKY")
            or sub(0, 3, "SCH")):
        code.add("", "F")  # Arnow should match Arnoff
        return i + 1
    if sub(i, 4, "WICZ", "WITZ"):  # Polish: "filipowicz"
        code.add("TS", "FX")
        return i + 4
    return i + 1


def encode_tokens(tokens: Iterable[str]) -> list[tuple[str, str | None, str | None]]:
    """(token, primary, alternate) per token; codes are None when the token has no A-Z
    letter the algorithm can encode (e.g. a name in another script)."""
    out: list[tuple[str, str | None, str | None]] = []
    for t in tokens:
        p, a = double_metaphone(t)
        out.append((t, p or None, (a or p) or None))
    return out
