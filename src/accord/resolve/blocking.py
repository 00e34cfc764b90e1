"""Blocking: which record pairs are compared at all.

Each rule is an equi-join of ``features`` with itself on some columns. Rules are OR-ed: a
pair found by several rules is compared once and credited to the first. A key value shared
by more records than ``max_block_size`` (a very common name, an SSN used by many people)
would explode the comparisons; such blocks are skipped for that rule and reported, and a
rule set that would still exceed ``max_comparisons`` is refused with a clear message.
Pure SQL builders; ``run_blocking`` executes them through the backend.

With ``base`` (a boolean column: resolution passes ``in_base``) a block's size is the number
of its records in the statistics base: whether a key value is skipped then never depends on
a record some purpose may not see, so removing such records leaves every other pair found or
skipped as it was. The records outside the base still join the blocks that are kept; the
comparisons counted against ``max_comparisons`` are those of every record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from accord.errors import AccordError
from accord.resolve.settings import Blocking, BlockingRule
from accord.sql.backend import SQLRunner
from accord.sql_text import ident


class BlockingError(AccordError):
    """The blocking rules would generate more comparisons than allowed."""


@dataclass
class RuleReport:
    name: str
    keyed_records: int
    blocks: int
    comparisons: int
    skipped_blocks: int
    skipped_records: int
    largest_block: int
    largest_kept_block: int
    largest_counted_block: int = 0  # counting base records only: what the limit is held to


@dataclass
class BlockingReport:
    rules: list[RuleReport] = field(default_factory=list)
    pairs: int = 0

    def messages(self) -> list[str]:
        out = []
        for r in self.rules:
            if r.skipped_blocks:
                out.append(f"rule {r.name}: {r.skipped_blocks:,} key values shared by more than "
                           f"the block limit were skipped ({r.skipped_records:,} records; "
                           f"largest {r.largest_block:,})")
        return out


def _keys_present(cols: list[str], alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return " AND ".join(f"{p}{ident(c)} IS NOT NULL" for c in cols)


def block_sizes_sql(cols: list[str], source: str = "features", base: str | None = None) -> str:
    """Records per key value (``base``: only the records where that column is true)."""
    keys = ", ".join(ident(c) for c in cols)
    counted = f" AND {ident(base)}" if base else ""
    return (f"SELECT {keys}, count(*) AS n FROM {source} WHERE {_keys_present(cols)}{counted} "
            f"GROUP BY {keys}")


def block_counts_sql(cols: list[str], source: str = "features", base: str | None = None) -> str:
    """Per key value: ``n`` records, of which ``nb`` count against the block limit (those in
    the base, or all of them without ``base``)."""
    keys = ", ".join(ident(c) for c in cols)
    nb = f"count(*) FILTER (WHERE {ident(base)})" if base else "count(*)"
    return (f"SELECT {keys}, count(*) AS n, {nb} AS nb FROM {source} WHERE {_keys_present(cols)} "
            f"GROUP BY {keys}")


def rule_pairs_sql(rule: BlockingRule, index: int, max_block: int,
                   source: str = "features", oversize: bool = True, base: str | None = None,
                   anti_join: bool = False) -> str:
    """Pairs (rid_l < rid_r) for one rule, skipping oversize blocks on either side.
    ``oversize=False``: the analysis found none, so no block sizes are computed. ``base``:
    block sizes count only the records where that column is true. ``anti_join``: the
    oversize key values are left out by an anti join rather than ``NOT IN`` (the same rows:
    keys are never NULL here), for an engine that plans a multi-column ``NOT IN`` as a nested
    loop (Spark)."""
    def side(cols: list[str]) -> str:
        keys = ", ".join(ident(c) for c in cols)
        if not oversize:
            return f"(SELECT * FROM {source} WHERE {_keys_present(cols)})"
        big = f"(SELECT {keys} FROM ({block_sizes_sql(cols, source, base)}) WHERE n > {max_block})"
        if anti_join:
            same = " AND ".join(f"s.{ident(c)} = o.{ident(c)}" for c in cols)
            return (f"(SELECT s.* FROM {source} s ANTI JOIN {big} o ON {same} "
                    f"WHERE {_keys_present(cols, 's')})")
        return (f"(SELECT * FROM {source} WHERE {_keys_present(cols)} AND ({keys}) NOT IN "
                f"(SELECT ({keys}) FROM ({block_sizes_sql(cols, source, base)}) WHERE n > {max_block}))")
    cond = " AND ".join(f"l.{ident(a)} = r.{ident(b)}" for a, b in zip(rule.keys, rule.right,
                                                                        strict=True))
    if rule.against is None:
        return (f"SELECT l.rid AS rid_l, r.rid AS rid_r, {index} AS rule FROM {side(rule.keys)} l "
                f"JOIN {side(rule.keys)} r ON {cond} AND l.rid < r.rid")
    return (f"SELECT least(l.rid, r.rid) AS rid_l, greatest(l.rid, r.rid) AS rid_r, {index} AS rule "
            f"FROM {side(rule.keys)} l JOIN {side(rule.right)} r ON {cond} AND l.rid <> r.rid")


def merge_pairs_sql(found: str) -> str:
    """Each pair once, credited to the first rule that finds it; ``rules`` has bit i set for
    every rule i that finds it (training sessions use each rule's full set of pairs). A bit
    mask instead of a list keeps it a single hash group-by."""
    return ("SELECT rid_l, rid_r, min(rule) AS rule, bit_or(CAST(1 AS BIGINT) << rule) AS rules "
            f"FROM {found} GROUP BY rid_l, rid_r")


def pairs_sql(blocking: Blocking, source: str = "features", base: str | None = None) -> str:
    """All rules, OR-ed, as one query (``run_blocking`` runs the same rule by rule)."""
    parts = [rule_pairs_sql(r, i, blocking.max_block_size, source, base=base)
             for i, r in enumerate(blocking.rules)]
    return merge_pairs_sql("(\n" + "\nUNION ALL\n".join(parts) + "\n)")


# Where a rule reads its features: one table or view for all, or chosen per rule.
Source = str | Callable[[BlockingRule], str]


def _for_rule(source: Source, rule: BlockingRule) -> str:
    return source(rule) if callable(source) else source


def analyse(db: SQLRunner, blocking: Blocking, source: Source = "features",
            base: str | None = None) -> BlockingReport:
    """Comparisons per rule, the largest blocks, and what the block limit skips (``base``:
    the limit is held to the block's records in the base; see the module)."""
    report = BlockingReport()
    cap = blocking.max_block_size
    for rule in blocking.rules:
        src = _for_rule(source, rule)
        if rule.against is not None:
            left = block_counts_sql(rule.keys, src, base)
            keys = " AND ".join(f"l.{ident(a)} = r.{ident(b)}"
                                for a, b in zip(rule.keys, rule.right, strict=True))
            kept = f"l.nb <= {cap} AND r.nb <= {cap}"
            row = db.rows(
                f"WITH l AS ({left}), r AS ({block_counts_sql(rule.right, src, base)}) "
                f"SELECT count(*), coalesce(sum(l.n * r.n) FILTER (WHERE {kept}), 0), "
                f"coalesce(max(greatest(l.n, r.n)), 0), 0, 0, "
                f"coalesce(max(greatest(l.n, r.n)) FILTER (WHERE {kept}), 0), "
                f"(SELECT coalesce(sum(n), 0) FROM l), coalesce(max(greatest(l.nb, r.nb)), 0) "
                f"FROM l JOIN r ON {keys}")[0]
            blocks, comparisons, largest, skipped, skipped_recs, kept_n, keyed, counted = row
        else:
            row = db.rows(
                f"SELECT coalesce(sum(n), 0), count(*), "
                f"coalesce(sum(n * (n - 1) / 2) FILTER (WHERE nb <= {cap}), 0), "
                f"coalesce(max(n), 0), count(*) FILTER (WHERE nb > {cap}), "
                f"coalesce(sum(n) FILTER (WHERE nb > {cap}), 0), "
                f"coalesce(max(n) FILTER (WHERE nb <= {cap}), 0), coalesce(max(nb), 0) "
                f"FROM ({block_counts_sql(rule.keys, src, base)})")[0]
            keyed, blocks, comparisons, largest, skipped, skipped_recs, kept_n, counted = row
        report.rules.append(RuleReport(rule.name, int(keyed), int(blocks), int(comparisons),
                                       int(skipped), int(skipped_recs), int(largest), int(kept_n),
                                       int(counted)))
    total = sum(r.comparisons for r in report.rules)
    if total > blocking.max_comparisons:
        worst = max(report.rules, key=lambda r: r.comparisons)
        raise BlockingError(
            f"blocking would compare up to {total:,} pairs (limit {blocking.max_comparisons:,}); "
            f"rule {worst.name!r} alone gives {worst.comparisons:,}: add a column to it, lower "
            f"max_block_size, or raise max_comparisons")
    return report


def run_blocking(db: SQLRunner, blocking: Blocking, source: Source = "features",
                 output: str = "pairs", base: str | None = None) -> BlockingReport:
    """Pairs of every rule into ``output``. ``source``: the features (a name, or a function
    naming them per rule); ``base``: the column of the records block sizes count."""
    report = analyse(db, blocking, source, base)
    # Rule by rule into one narrow table, then merged: one rule's join tables at a time, so
    # memory stays bounded (and spills) however many rules there are.
    found = f"{output}_found"
    db.run(f"CREATE OR REPLACE TEMP TABLE {found} (rid_l BIGINT, rid_r BIGINT, rule INTEGER)")
    for i, (rule, rr) in enumerate(zip(blocking.rules, report.rules, strict=True)):
        # The analysis saw every block joined (a swap rule: every joined pair of blocks).
        oversize = rr.largest_counted_block > blocking.max_block_size
        sql = rule_pairs_sql(rule, i, blocking.max_block_size, _for_rule(source, rule),
                             oversize=oversize, base=base, anti_join=db.dialect != "duckdb")
        db.run(f"INSERT INTO {found} {sql}")
    db.create_table(output, merge_pairs_sql(found), temp=True)
    db.run(f"DROP TABLE {found}")
    report.pairs = int(db.scalar(f"SELECT count(*) FROM {output}"))
    return report
