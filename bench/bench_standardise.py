"""Standardise-stage speed on N synthetic records (realistic cardinalities; speed only).

Usage: .venv/bin/python bench/bench_standardise.py [--rows 1000000] [--db /tmp/std1m.duckdb] [--runs 3]
"""
from __future__ import annotations

import argparse
import time

import duckdb

from accord.standardise import build_features

SYL = ["KA", "RO", "MI", "LE", "SAN", "TO", "VA", "NE", "GAR", "CI", "LO", "PEZ", "MAR", "TIN", "EZ", "SON",
       "BER", "GER", "SCH", "MIDT", "NGU", "YEN", "CHEN", "WANG", "LI", "ZHA", "NG", "AL", "HAS", "IV", "A",
       "NOV", "SKI", "OW", "KY", "DE", "LA", "VAN", "DER", "O", "BRI", "EN", "MC", "DON", "ALD", "RA", "HIM",
       "KHAN", "PAT", "EL", "SHA", "RMA", "GUP", "TA", "KIM", "PARK", "LEE", "JO", "HN", "SMI", "TH"]


def make(con: duckdb.DuckDBPyConnection, n: int) -> None:
    pick = "l[CAST(1 + hash(i, {k}) % len(l) AS BIGINT)]"
    con.execute(f"""CREATE OR REPLACE TABLE records AS
WITH r AS (SELECT i, CAST(hash(i) % 9223372036854775807 AS BIGINT) AS h FROM range({n}) t(i)),
sl AS (SELECT {SYL} AS l),
fam AS (SELECT i AS fid, {pick.format(k=1)} || {pick.format(k=2)} ||
        CASE WHEN i % 3 = 0 THEN {pick.format(k=3)} ELSE '' END AS fam FROM range(150000) t(i), sl),
giv AS (SELECT i AS gid, {pick.format(k=4)} || {pick.format(k=5)} ||
        CASE WHEN i % 2 = 0 THEN lower({pick.format(k=6)}) ELSE '' END AS giv FROM range(30000) t(i), sl)
SELECT ['tax', 'ssa', 'court', 'cbp', 'voter'][CAST(h % 5 + 1 AS BIGINT)] AS source,
  CAST(i AS VARCHAR) AS record_id, 1 AS version, 'sys' AS system,
  CASE WHEN h % 7 = 0 THEN lower(g.giv) ELSE g.giv END AS given_name,
  CASE WHEN h % 3 = 0 THEN g2.giv END AS middle_name,
  CASE WHEN h % 11 = 0 THEN 'de la ' || f.fam WHEN h % 13 = 0 THEN f.fam || '-' || f2.fam
       WHEN h % 17 = 0 THEN f.fam || ' Jr' ELSE f.fam END AS family_name,
  NULL::VARCHAR AS given_names, NULL::VARCHAR AS full_name,
  CASE WHEN h % 50 = 0 THEN 'III' END AS name_suffix,
  DATE '1930-01-01' + CAST(h % 30000 AS INTEGER) AS dob, CASE WHEN h % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
  CASE WHEN h % 3 <> 2 THEN lpad(CAST(100000000 + h % 600000000 AS VARCHAR), 9, '0') END AS ssn,
  CASE WHEN h % 3 = 2 THEN lpad(CAST(h % 9999 + 1 AS VARCHAR), 4, '0') END AS ssn_last4,
  NULL::VARCHAR AS itin, NULL::VARCHAR AS tin,
  CASE WHEN h % 4 = 0 THEN lpad(CAST(h % 300000000 AS VARCHAR), 9, '0') END AS a_number,
  CASE WHEN h % 6 = 0 THEN 'P' || CAST(h % 90000000 AS VARCHAR) END AS passport_number,
  CAST(h % 9999 + 1 AS VARCHAR) || ' ' || CASE WHEN h % 4 = 0 THEN 'North ' ELSE '' END || s.fam || ' ' ||
    ['Street', 'Ave', 'Road', 'Blvd', 'Ct'][CAST(h % 5 + 1 AS BIGINT)] ||
    CASE WHEN h % 8 = 0 THEN ' Apt ' || CAST(h % 400 AS VARCHAR) ELSE '' END AS street,
  c.fam AS city, 'CA' AS state, lpad(CAST(h % 99999 AS VARCHAR), 5, '0') AS zip,
  NULL::VARCHAR AS full_address,
  CASE WHEN h % 3 = 0 THEN CAST(2000000000 + h % 7999999999 AS VARCHAR) END AS phone,
  CASE WHEN h % 5 = 0 THEN lower(g.giv) || '@example.com' END AS email,
  CASE WHEN h % 4 = 0 THEN 'Mexico' END AS country_of_birth, NULL::VARCHAR AS citizenship_country
FROM r
JOIN fam f ON f.fid = (h >> 3) % 150000 JOIN fam f2 ON f2.fid = (h >> 7) % 150000
JOIN fam s ON s.fid = (h >> 11) % 20000 JOIN fam c ON c.fid = (h >> 13) % 3000
JOIN giv g ON g.gid = CAST(floor(30000 * pow(((h >> 17) % 100000) / 100000.0, 3)) AS BIGINT)
JOIN giv g2 ON g2.gid = (h >> 19) % 30000""")
    con.execute("CREATE OR REPLACE VIEW records_current AS SELECT * FROM records "
                "QUALIFY version = max(version) OVER (PARTITION BY source, record_id)")
    con.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/bench_standardise.duckdb")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    con = duckdb.connect(a.db)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    make(con, a.rows)
    for run in range(a.runs):
        t = time.perf_counter()
        counts = build_features(con)
        s = time.perf_counter() - t
        print(f"run {run + 1}: {s:.2f} s, {a.rows / s:,.0f} records/s, {counts}")


if __name__ == "__main__":
    main()
