"""The standardise stage: ``records_current`` -> ``features``.

``build_features`` creates or replaces table ``features``, owned by this stage: one row per
source record (``rid`` dense 0..n-1 in (source, record_id) order, so re-running on the same
records gives the same rids), holding comparison-ready forms of every identity field. Column
meanings are in ``FEATURE_COLUMNS`` and ``docs/standardise.md``.

Everything runs in DuckDB except two small Python steps, each over distinct values only:
Double Metaphone (``phonetic``) on distinct name tokens, and Cyrillic/Greek transliteration
(``names.transliterate``) on the rare distinct names still outside A-Z after SQL folding.
Work tables are temporary (``__std_*``) and dropped at the end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from accord.sources.fields import catalogue
from accord.sql_text import ident, lit
from accord.standardise import addresses, identifiers, names, phonetic, variants
from accord.store import Store
from accord.store.dialect import key_params

if TYPE_CHECKING:
    from accord.sql.backend import DuckDBBackend

FEATURES = "features"
# Columns a caller adds after FEATURE_COLUMNS: name -> (SQL over a row of the source table,
# SQL type). Resolution adds whether a record is in its statistics base (docs/resolve.md).
Extra = Mapping[str, tuple[str, str]]

# (name, type, meaning) in table order.
FEATURE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rid", "BIGINT", "dense record number 0..n-1, ordered by source, record_id"),
    ("source", "VARCHAR", "source name"),
    ("record_id", "VARCHAR", "record id within the source"),
    ("system", "VARCHAR", "record-system id of the source"),
    ("given_std", "VARCHAR", "given name folded (upper A-Z, no punctuation), title and suffix removed"),
    ("given_tokens", "VARCHAR[]", "tokens of given_std"),
    ("given_key", "VARCHAR", "variant-group key of the given name (BILL -> WILLIAM); else its first token"),
    ("given_keys", "VARCHAR[]", "every name the given name may stand for (nicknames, equivalents)"),
    ("given_dm1", "VARCHAR", "Double Metaphone primary code of the first given token"),
    ("given_dm2", "VARCHAR", "Double Metaphone alternate code of the first given token"),
    ("middle_std", "VARCHAR", "middle name(s) folded"),
    ("family_std", "VARCHAR", "family name folded, particles removed (DE LA CRUZ -> CRUZ)"),
    ("family_concat", "VARCHAR", "family name folded with particles kept, without spaces (DELACRUZ)"),
    ("family_tokens", "VARCHAR[]", "tokens of family_std (GARCIA LOPEZ -> [GARCIA, LOPEZ])"),
    ("family_key", "VARCHAR", "variant-group key of the family name, token by token"),
    ("family_keys", "VARCHAR[]", "every key any family token may stand for"),
    ("family_dm1", "VARCHAR", "Double Metaphone primary code of the first family token"),
    ("family_dm2", "VARCHAR", "Double Metaphone alternate code of the first family token"),
    ("name_suffix_std", "VARCHAR", "generational suffix JR, SR, II, III, IV..."),
    ("dob", "DATE", "date of birth (default dates such as 1900-01-01 removed)"),
    ("dob_y", "SMALLINT", "year of birth (also from a flagged date of birth, whose dob is NULL)"),
    ("dob_m", "TINYINT", "month of birth (likewise)"),
    ("dob_d", "TINYINT", "day of birth (likewise; 31 for 1956-09-31)"),
    ("sex", "VARCHAR", "M, F or X (unknown is NULL)"),
    ("ssn", "VARCHAR", "valid 9-digit SSN (from ssn or an SSN-form tin)"),
    ("ssn_last4", "VARCHAR", "last four SSN digits: the ssn_last4 field, else the last 4 of ssn"),
    ("itin", "VARCHAR", "valid 9-digit ITIN (from itin or an ITIN-form tin)"),
    ("a_number", "VARCHAR", "A-number, 9 digits zero-padded"),
    ("passport", "VARCHAR", "passport number, upper-case letters and digits"),
    ("street_number", "VARCHAR", "house number (123, 123A, 12 1/2) or PO box number: the street_number "
     "field when mapped (upper case, no spaces), else parsed from the street line"),
    ("street_name", "VARCHAR", "USPS-standardised street name (N MAIN ST) or PO BOX"),
    ("city_std", "VARCHAR", "city folded; leading SAINT/FORT/MOUNT abbreviated"),
    ("state", "VARCHAR", "USPS state code"),
    ("zip5", "VARCHAR", "5-digit ZIP code"),
    ("email", "VARCHAR", "e-mail address, lower case"),
    ("country_of_birth", "VARCHAR", "country of birth folded"),
    ("citizenship_country", "VARCHAR", "country of citizenship folded"),
    ("flags", "VARCHAR[]", "what standardisation removed: ssn_removed, dob_removed, given_placeholder..."),
    ("other_id", "VARCHAR", "namespace:value of other_id, the value upper-case letters and digits"),
    ("other_id_ns", "VARCHAR", "the namespace of other_id (other_id compares within it)"),
    ("postcode", "VARCHAR", "zip5, else the postcode field: upper-case letters and digits (any country)"),
    ("region", "VARCHAR", "the region field (state, province, territory) folded, without spaces "
     "(N.S.W. -> NSW), else the USPS state"),
)

# Canonical record columns read: the identity fields of the catalogue, with their types
# (missing ones are read as NULL).
INPUT_COLUMNS: dict[str, str] = {n: f.sql_type for n, f in catalogue().items()
                                 if f.kind == "identity"}
_KEYS = {"source": "VARCHAR", "record_id": "VARCHAR", "system": "VARCHAR"}
# The record's flags (accord.ingest.transform): identity values that failed ingest's rule. Only
# a flagged date of birth gives features: its year, month and day as ingest read them, for the
# fuzzy levels of the dob comparison; ``dob`` stays NULL. Other flagged values give none.
RECORD_FLAGS = "flags"
_FLAGGED_DOB = ("list_filter(from_json(CAST(__record_flags AS VARCHAR), "
                "'[{\"field\": \"VARCHAR\", \"year\": \"INTEGER\", \"month\": \"INTEGER\", "
                "\"day\": \"INTEGER\"}]'), lambda f: f.field = 'dob')[1]")

T = "__std_"  # prefix of this stage's temporary tables
# Input columns no step reads once the address lines are worked out (``__std_base`` leaves
# them out): the address fields the lines come from, and address_line_2 (no feature).
_UNREAD = ("street", "city", "state", "zip", "full_address", "address_line_2")


def _base_sql(con: duckdb.DuckDBPyConnection, source_table: str, extra: Extra | None = None) -> str:
    """The columns this stage reads, one row per record. ``source_table`` holds one row per
    (source, record_id), as ``records_current`` does; canonical columns it lacks read as NULL.
    The ``extra`` columns are computed here, from the source row."""
    present = {r[0] for r in con.execute(f"DESCRIBE {source_table}").fetchall()}
    cols = [ident(c) if c in present else f"CAST(NULL AS {t}) AS {ident(c)}"
            for c, t in {**_KEYS, **INPUT_COLUMNS}.items()]
    cols.append(f"CAST({ident(RECORD_FLAGS) if RECORD_FLAGS in present else 'NULL'} AS VARCHAR) "
                "AS __record_flags")
    cols += [f"CAST(({sql}) AS {t}) AS {ident(c)}" for c, (sql, t) in (extra or {}).items()]
    return f"SELECT {', '.join(cols)} FROM {source_table}"


# Work steps address records by the base table's row id (read once, never sorted); the final
# step maps it to rid, numbered over the two key columns alone (a window carrying whole rows
# would sort every column).
_BASE = f"(SELECT rowid AS rid, * FROM {T}base)"
_RID_SQL = f"SELECT rowid AS iid, row_number() OVER (ORDER BY source, record_id) - 1 AS rid FROM {T}base"


def _arrow_table(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table) -> None:
    view = name + "_arrow"
    con.register(view, data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)


def _transliterate(con: duckdb.DuckDBPyConnection, fold_raw: str) -> int:
    rows = con.execute(f"SELECT DISTINCT folded FROM {fold_raw} "
                       f"WHERE regexp_matches(folded, '[^A-Z ]')").fetchall()
    if not rows:
        return 0
    mapping = names.transliterate(r[0] for r in rows)
    _arrow_table(con, f"{T}translit", pa.table({
        "folded": pa.array(list(mapping), pa.string()),
        "latin": pa.array(list(mapping.values()), pa.string())}))
    con.execute(f"UPDATE {fold_raw} SET folded = t.latin FROM {T}translit t "
                f"WHERE {fold_raw}.folded = t.folded")
    return len(rows)


def _phonetic(con: duckdb.DuckDBPyConnection, tokens_sql: str) -> int:
    tokens = [r[0] for r in con.execute(tokens_sql).fetchall()]
    coded = phonetic.encode_tokens(tokens)
    _arrow_table(con, f"{T}phonetic", pa.table({
        "token": pa.array([t for t, _, _ in coded], pa.string()),
        # One letter is an initial, not a sound: no code.
        "dm1": pa.array([p if len(t) > 1 else None for t, p, _ in coded], pa.string()),
        "dm2": pa.array([a if len(t) > 1 else None for t, _, a in coded], pa.string())}))
    return len(tokens)


def _records_sql(extra: Extra | None = None) -> str:
    """Step 1 of 2 of the final table: per record, its identifiers, dates and address lines
    (projections of the base row: no self-joins), its rid and its standardised name parts
    (and the ``extra`` columns of the base row)."""
    more = "".join(f", {ident(c)}" for c in extra or {})
    raw_ids = ", ".join(f"{sql} AS {c}" for c, sql in identifiers.raw_identifier_sql().items())
    lines = ", ".join(addresses.address_lines_sql())  # computed once, in the base table
    valid = ", ".join(f"{sql} AS {c}" for c, sql in identifiers.validity_sql().items())
    ids = ", ".join(f"{sql} AS {c}" for c, sql in identifiers.identifier_sql().items())
    parts = identifiers.dob_sql("__dob_in")
    for c, part in (("dob_y", "year"), ("dob_m", "month"), ("dob_d", "day")):
        parts[c] = f"coalesce({parts[c]}, CASE WHEN __dob_in IS NULL THEN __dob_flagged.{part} END)"
    dob = ", ".join(f"{sql} AS {c}" for c, sql in parts.items())
    oid = ", ".join(f"{sql} AS {c}" for c, sql in identifiers.other_id_sql("other_id").items())
    oid_feature = ", ".join(f"{sql} AS {c}" for c, sql in identifiers.other_id_feature_sql().items())
    return f"""WITH b0 AS (SELECT rid, source, record_id, system, country_of_birth, citizenship_country,
    dob AS __dob_in, sex AS __sex_in, CASE WHEN __record_flags IS NOT NULL THEN {_FLAGGED_DOB} END
    AS __dob_flagged, {raw_ids}, {oid}, postcode AS __postcode_in, region AS __region_in,
    street_number AS __street_number_in, {lines}{more} FROM {_BASE}),
b1 AS (SELECT *, {valid}, {oid_feature} FROM b0),
b AS (SELECT rid, source, record_id, system, country_of_birth, citizenship_country, street_line, city_line,
    state_line, zip_line, {ids}, {dob}, {identifiers.sex_sql('__sex_in')} AS sex, other_id, other_id_ns,
    __oid_flag,
    __postcode_in, __region_in, __street_number_in{more} FROM b1)
SELECT b.* EXCLUDE (rid), r.rid, n.given, n.middle, n.family, n.suffix, n.given_placeholder,
    n.middle_placeholder, n.family_placeholder
FROM b
JOIN {T}rid r ON r.iid = b.rid
JOIN {T}names n ON n.rid = b.rid"""


def _final_sql(extra: Extra | None = None) -> str:
    """Step 2 of 2: the records of step 1 (``{T}rec``) with their per-value parts (names,
    streets, cities, countries), in table order (the ``extra`` columns last)."""
    place = addresses.city_state_zip_sql()
    flags = ("list_filter(list_concat(b.__id_flags, [b.__dob_flag, b.__oid_flag, "
             "CASE WHEN b.given_placeholder THEN 'given_placeholder' END, "
             "CASE WHEN b.middle_placeholder THEN 'middle_placeholder' END, "
             "CASE WHEN b.family_placeholder THEN 'family_placeholder' END]), lambda x: x IS NOT NULL)")
    values = {
        "rid": "b.rid", "source": "b.source", "record_id": "b.record_id", "system": "b.system",
        "given_std": "b.given", "given_tokens": "gd.given_tokens", "given_key": "gd.given_key",
        "given_keys": "gd.given_keys", "given_dm1": "gd.given_dm1", "given_dm2": "gd.given_dm2",
        "middle_std": "b.middle", "family_std": "fd.family_std",
        "family_concat": "fd.family_concat", "family_tokens": "fd.family_tokens",
        "family_key": "fd.family_key", "family_keys": "fd.family_keys",
        "family_dm1": "fd.family_dm1", "family_dm2": "fd.family_dm2",
        "name_suffix_std": "b.suffix",
        "street_number": place["street_number"], "street_name": "st.street_name",
        "city_std": "ct.city_std", "state": place["state"], "zip5": place["zip5"],
        "postcode": place["postcode"], "region": place["region"], "other_id": "b.other_id",
        "other_id_ns": "b.other_id_ns",
        "country_of_birth": "cb.folded", "citizenship_country": "cc.folded",
        "flags": flags,
    }
    for c in ("dob", "dob_y", "dob_m", "dob_d", "sex", "ssn", "ssn_last4", "itin", "a_number", "passport",
              "email"):
        values[c] = f"b.{c}"
    columns = [(c, t) for c, t, _ in FEATURE_COLUMNS] + [(c, t) for c, (_, t) in (extra or {}).items()]
    values |= {c: f"b.{ident(c)}" for c in extra or {}}
    select = ",\n  ".join(f"CAST({values[c]} AS {t}) AS {ident(c)}" for c, t in columns)
    return f"""SELECT {select}
FROM {T}rec b
LEFT JOIN {T}given_dim gd ON gd.given_std = b.given
LEFT JOIN {T}family_dim fd ON fd.family = b.family
LEFT JOIN {T}street st ON st.street_line = b.street_line
LEFT JOIN {T}city ct ON ct.city_line = b.city_line
LEFT JOIN {T}country cb ON cb.raw = b.country_of_birth
LEFT JOIN {T}country cc ON cc.raw = b.citizenship_country"""


def load_features(con: duckdb.DuckDBPyConnection, files: str) -> None:
    """Create or replace table ``features`` from Parquet ``files`` (a glob) another engine
    standardised into (``accord.spark``), in rid order."""
    con.execute(f"CREATE OR REPLACE TABLE {ident(FEATURES)} AS "
                f"SELECT * FROM read_parquet({lit(files)}) ORDER BY rid")


# --- reads of ``features`` by other stages ----------------------------------------------------

NAME_PARTS = ("std", "key", "keys", "tokens", "dm1", "dm2")


def features_built(store: Store) -> bool:
    """Whether the store holds ``features`` (every resolution run builds them first)."""
    return bool(store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_type = 'BASE TABLE' AND table_catalog = current_database() "
        "AND table_schema = current_schema()", [FEATURES]))


def name_features_sql() -> str:
    """(source, record_id) and the standardised given and family name columns
    (``given_std``, ``given_key``, ... ``family_dm2``) of every record in ``features``."""
    cols = [f"{part}_{c}" for part in ("given", "family") for c in NAME_PARTS]
    return f"SELECT source, record_id, {', '.join(cols)} FROM {FEATURES}"


_TEMP = ("base", "rid", "rec", "parts", "fold_raw", "fold", "names", "family_forms", "phonetic", "given_dim",
         "family_dim", "street", "city", "country", "translit", "street_terms", "variants")


def build_features(con: duckdb.DuckDBPyConnection, source_table: str = "records_current", *,
                   counts: bool = True, extra: Extra | None = None) -> dict[str, int]:
    """Create or replace table ``features`` from ``source_table`` (one row per record).

    ``extra``: columns the caller adds after ``FEATURE_COLUMNS`` (name -> (SQL over a row of
    ``source_table``, SQL type)); resolution adds ``in_base`` and ``floor_marks``
    (``accord.resolve.base``). Without it the table has ``FEATURE_COLUMNS`` alone.

    Returns counts: records, distinct raw name values folded, distinct given and family names,
    name tokens given a phonetic code, values transliterated, distinct street lines, variant
    table entries, and per-flag counts of values removed. ``milliseconds`` is the wall time.
    ``counts=False``: only records and milliseconds (the other counts take extra scans).
    """
    started = time.perf_counter()
    try:
        # The address lines as written (parts, else cut from full_address) are read three
        # times: worked out once here, in place of the address fields they come from.
        address = ", ".join(f"{sql} AS {c}" for c, sql in addresses.address_lines_sql().items())
        unread = [ident(c) for c in _UNREAD if c in INPUT_COLUMNS]
        keep = f"* EXCLUDE ({', '.join(unread)})" if unread else "*"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}base AS SELECT {keep}, {address} "
                    f"FROM ({_base_sql(con, source_table, extra)})")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}rid AS {_RID_SQL}")
        n_variants = variants.register(con, f"{T}variants")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}street_terms AS {addresses.terms_values_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}parts AS {names.raw_parts_sql(_BASE)}")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}fold_raw AS
            SELECT raw, {names.fold_sql('raw')} AS folded FROM (
              SELECT g AS raw FROM {T}parts UNION SELECT m FROM {T}parts
              UNION SELECT f FROM {T}parts UNION SELECT s FROM {T}parts) WHERE raw IS NOT NULL""")
        n_translit = _transliterate(con, f"{T}fold_raw")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}fold AS {names.name_fold_sql(T + 'fold_raw')}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}names AS "
                    f"{names.repaired_parts_sql(T + 'parts', T + 'fold')}")
        n_name_values = int(con.execute(f"SELECT count(*) FROM {T}fold_raw").fetchall()[0][0])
        _drop(con, "parts", "fold_raw", "fold")  # memory: the final step holds what is left
        families = f"(SELECT DISTINCT family FROM {T}names WHERE family IS NOT NULL)"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}family_forms AS {names.family_forms_sql(families)}")
        n_tokens = _phonetic(con, f"""SELECT DISTINCT token FROM (
            SELECT split_part(given, ' ', 1) AS token FROM {T}names WHERE given IS NOT NULL
            UNION ALL SELECT family_tokens[1] FROM {T}family_forms) ORDER BY token""")
        givens = f"(SELECT DISTINCT given AS given_std FROM {T}names WHERE given IS NOT NULL)"
        given_dim = names.given_dim_sql(givens, T + "variants", T + "phonetic")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}given_dim AS {given_dim}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}family_dim AS "
                    f"{names.family_dim_sql(T + 'family_forms', T + 'variants', T + 'phonetic')}")
        _drop(con, "family_forms", "phonetic", "variants")
        lines = f"(SELECT DISTINCT street_line FROM {_BASE})"
        street = addresses.street_parse_sql(f"(SELECT * FROM {lines} WHERE street_line IS NOT NULL)",
                                            T + "street_terms")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}street AS {street}")
        _drop(con, "street_terms")
        cities = f"(SELECT DISTINCT city_line FROM {_BASE})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}city AS SELECT city_line, "
                    f"{addresses.city_sql('city_line')} AS city_std FROM {cities} "
                    f"WHERE city_line IS NOT NULL")
        countries = (f"(SELECT country_of_birth AS raw FROM {T}base UNION "
                     f"SELECT citizenship_country FROM {T}base)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}country AS SELECT raw, {names.fold_sql('raw')} "
                    f"AS folded FROM {countries} WHERE raw IS NOT NULL")
        # Two steps, so that no statement holds the per-record joins and the per-value joins
        # and the table being written at once: under a memory limit each can spill.
        n_records = int(con.execute(f"SELECT count(*) FROM {T}base").fetchall()[0][0])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {T}rec AS {_records_sql(extra)}")
        _drop(con, "base", "rid", "names")
        con.execute(f"CREATE OR REPLACE TABLE {ident(FEATURES)} AS {_final_sql(extra)}")
        out = (_counts(con, n_records, n_name_values, n_variants, n_tokens, n_translit) if counts
               else {"records": n_records})
    finally:
        _drop_work_tables(con)
    out["milliseconds"] = round((time.perf_counter() - started) * 1000)
    return out


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for t in tables:
        con.execute(f"DROP TABLE IF EXISTS {T}{t}")


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    for t in _TEMP:
        try:
            con.execute(f"DROP TABLE IF EXISTS {T}{t}")
        except duckdb.TransactionException:
            return  # the caller's transaction failed; rolling it back removes them


def _counts(con: duckdb.DuckDBPyConnection, n_records: int, n_name_values: int, n_variants: int,
            n_tokens: int, n_translit: int) -> dict[str, int]:
    def one(sql: str) -> Any:
        return con.execute(sql).fetchall()[0][0]

    out = {
        "records": n_records,
        "name_values": n_name_values,
        "given_names": int(one(f"SELECT count(*) FROM {T}given_dim")),
        "family_names": int(one(f"SELECT count(*) FROM {T}family_dim")),
        "phonetic_tokens": n_tokens,
        "transliterated": n_translit,
        "street_lines": int(one(f"SELECT count(*) FROM {T}street")),
        "variant_entries": n_variants,
    }
    for flag, n in con.execute(f"SELECT f, count(*) FROM (SELECT unnest(flags) AS f FROM {FEATURES}) "
                               f"GROUP BY f ORDER BY f").fetchall():
        out[str(flag)] = int(n)
    return out


# --- a few records' features (incremental resolution: accord.resolve.incremental) -------------

def features_of(con: duckdb.DuckDBPyConnection, source_table: str, *,
                extra: Extra | None = None) -> pa.Table:
    """The features of ``source_table``'s records (rid 0..), standardised as
    :func:`build_features` does, as Arrow; the (private) connection keeps no ``features``."""
    build_features(con, source_table, counts=False, extra=extra)
    out = con.sql(f"SELECT * FROM {FEATURES}").to_arrow_table()
    con.execute(f"DROP TABLE {FEATURES}")
    return out


def replace_features(store: Store, fresh: pa.Table, keys: Sequence[tuple[str, str]]) -> pa.Table:
    """Replace the store's ``features`` rows of the records ``keys`` with ``fresh`` (theirs, as
    :func:`features_of` made them): a record keeps its stored rid, a new one gets the next
    after the last. Returns ``fresh`` with those rids."""
    in_keys, params = store.dialect.in_keys(), key_params(keys)
    known = {(s, r): int(i) for s, r, i in store.query(
        f"SELECT source, record_id, rid FROM {FEATURES} WHERE {in_keys}", params)}
    last = int(store.scalar(f"SELECT coalesce(max(rid), -1) FROM {FEATURES}"))
    rids = []
    for s, r in zip(fresh.column("source").to_pylist(), fresh.column("record_id").to_pylist(),
                    strict=True):
        if (s, r) not in known:
            last += 1
            known[(s, r)] = last
        rids.append(known[(s, r)])
    fresh = fresh.set_column(fresh.schema.get_field_index("rid"), "rid", pa.array(rids, pa.int64()))
    store.write(f"DELETE FROM {FEATURES} WHERE {in_keys}", params)
    store.bulk_load(FEATURES, fresh)
    return fresh


def numbered_copy(db: DuckDBBackend, rows: str) -> None:
    """A private DuckDB's ``features``: the stored features rows of table ``rows`` (some
    records'), numbered 0.. in (source, record_id) order as :func:`build_features` numbers a
    store's (so that ties fall alike), each row's stored rid kept as ``grid``."""
    db.run(f"""CREATE OR REPLACE TABLE _numbers AS SELECT source, record_id,
        row_number() OVER (ORDER BY source, record_id) - 1 AS rid FROM {rows}""")
    db.run(f"""CREATE OR REPLACE TABLE {FEATURES} AS
        SELECT r.* REPLACE (k.rid AS rid), r.rid AS grid FROM {rows} r
        JOIN _numbers k USING (source, record_id) ORDER BY k.rid""")
