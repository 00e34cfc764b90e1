"""Resolution settings: declared as data (``settings.yaml``), validated here."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlockingRule(_Strict):
    name: str
    keys: list[str] = Field(min_length=1)
    against: list[str] | None = Field(
        default=None, description="right-hand columns when they differ from `keys` (e.g. swaps)")

    @model_validator(mode="after")
    def _same_arity(self) -> BlockingRule:
        if self.against is not None and len(self.against) != len(self.keys):
            raise ValueError(f"rule {self.name}: `against` needs {len(self.keys)} columns")
        return self

    @property
    def right(self) -> list[str]:
        return self.against or self.keys


MAX_RULES = 63  # a pair's rules are kept as bits of one BIGINT


class Blocking(_Strict):
    max_block_size: int = 500
    max_comparisons: int = 200_000_000
    rules: list[BlockingRule] = Field(min_length=1, max_length=MAX_RULES)


class ModelSettings(_Strict):
    u_sample_pairs: int = Field(default=300_000, gt=0)
    u_seed: int = 1
    em_max_iterations: int = 25
    em_tolerance: float = 1e-4
    tf_min_u: float = 1e-5


class Clustering(_Strict):
    link_probability: float = 0.998
    review_probability: float = 0.5
    max_dob_year_gap: int = 1
    shared_identifier_people: int = 3
    # Two records whose given names differ outright (not a variant, nickname, initial or
    # near spelling), or whose SSNs (or SSN and last four) or A-numbers disagree, link only
    # when an identifier (SSN, A-number, passport, ITIN) agrees exactly; otherwise the pair
    # goes to review. Family name, date of birth and address agree for twins and siblings,
    # and the model treats them as independent evidence.
    different_given_name_needs_identifier: bool = True
    # A link resting on names and dates of birth alone (no SSN, A-number, passport or ITIN
    # agreeing exactly) never joins citizenship or lawful-status evidence with a removal
    # order (evidence.yaml), nor, with unequal dates of birth, records whose identifiers
    # point to other records; rebuilt components take identifier links first. Off: those
    # two guards are skipped and links are taken by weight alone (docs/resolve.md).
    evidence_guard: bool = True
    # With the evidence guard on: a link whose identifier (SSN, A-number, passport, ITIN, other
    # id) agrees exactly may join records whose dates of birth lie further apart than
    # max_dob_year_gap (one person, one date mistaken), and records of one of those dates may
    # then join them. Such a person's identity is unsettled: status and work lists hold them
    # for review (accord.person_status.identity). Off: the gap holds whatever agrees.
    identifier_bridges_dob_gap: bool = True


SIZE = r"\d+(\.\d+)?\s*([KMGT]i?B|B)"


class Resources(_Strict):
    """What the engine may use while resolving. Beyond ``memory_limit`` DuckDB spills its
    working tables to its temporary directory (beside the store: ``<store>.tmp``), so a run
    larger than memory completes instead of failing.

    ``memory_limit``: a size ("4GB"), ``auto`` (``memory_per_record`` bytes per current
    record, at least 128 MiB and at most half the machine's memory) or None (the connection's
    own setting; DuckDB's default is 80% of the machine). Between steps the memory the engine
    freed is handed back to the system, so the process stays near the limit plus what Python
    holds (docs/resolve.md)."""
    memory_limit: str | None = Field(default="auto", pattern=rf"^\s*(auto|{SIZE})\s*$")
    memory_per_record: int = Field(default=512, gt=0)
    threads: int | None = Field(default=None, ge=1)


class Similarity(_Strict):
    column: str
    at_least: float = Field(gt=0, le=1)


class EditDistance(_Strict):
    column: str
    at_most: int = Field(ge=1, le=3)


class DateWindow(_Strict):
    column: str
    days: int = Field(ge=0)


class YearsApart(_Strict):
    column: str
    years: int = Field(ge=1)


class MonthWindow(_Strict):
    column: str
    months: int = Field(ge=0)


class Condition(_Strict):
    """One test on a pair, over feature columns (each read as ``<column>_l`` and
    ``<column>_r``). Exactly one key is given; ``any`` / ``all`` combine conditions."""
    exact: str | None = Field(default=None, description="the column agrees exactly")
    jaro_winkler: Similarity | None = None
    damerau_levenshtein: EditDistance | None = None
    initial: str | None = Field(default=None, description="one side is a single letter that "
                                "starts the other (J / JOHN)")
    token_overlap: str | None = Field(default=None, description="a compound value (with a space) "
                                      "shares a token with the other")
    swapped: bool | None = Field(default=None, description="given and family names agree only "
                                 "the other way round")
    day_month_swapped: str | None = Field(default=None, description="a date whose day and month "
                                          "are each other's, same year (reads <column>_y/_m/_d)")
    within_days: DateWindow | None = None
    years_apart: YearsApart | None = None
    within_months: MonthWindow | None = Field(default=None, description="a date's year and month "
                                              "at most this many months apart (reads <column>_y/_m)")
    same_month: str | None = Field(default=None, description="a date with the same year and "
                                   "month (reads <column>_y/_m)")
    one_side_missing: str | None = Field(default=None, description="the column is missing on "
                                         "one side or both")
    any: list[Condition] | None = Field(default=None, min_length=1)
    all: list[Condition] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [k for k in type(self).model_fields if k != "label" and k != "u_from_counts"
                 and getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a condition needs exactly one of "
                             f"{', '.join(k for k in Condition.model_fields)}; got "
                             f"{', '.join(given) or 'none'}")
        return self


class Level(Condition):
    """One agreement level: its label and the condition that puts a pair in it."""
    label: str = Field(min_length=1)
    u_from_counts: bool = Field(default=False, description=(
        "u of this level computed exactly from value counts, not sampled: allowed on a first "
        "level of `exact` (or `all` of `exact`) and on a `day_month_swapped` level"))


class ComparisonSpec(_Strict):
    """One comparison: a name, its levels strongest first (a last level, ``else_label``, takes
    every other pair), the columns that make it answerable, and what it means for the guards."""
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    present: list[str] = Field(default_factory=list, description=(
        "the pair is 'missing' (no evidence) unless one of these columns is on both records; "
        "empty: never missing"))
    within: str | None = Field(default=None, description=(
        "compared only between records with the same value of this column (an identifier's "
        "namespace, other_id_ns); any other pair is 'missing'"))
    levels: list[Level] = Field(min_length=1)
    else_label: str = "different"
    term_frequency: str | None = Field(default=None, description=(
        "the first level's weight is adjusted by how common the left record's value of this "
        "column is"))
    identifier: bool = Field(default=False, description=(
        "an identifier issued to one person: exact agreement corroborates a link, and its u "
        "is re-estimated among non-matches"))
    disagreement_needs_identifier: bool = Field(default=False, description=(
        "a pair at the last level links only when an identifier agrees exactly "
        "(clustering.different_given_name_needs_identifier)"))
    ordered: bool = Field(default=True, description=(
        "levels are ordered by strength (a stronger level never weighs less)"))
    about: list[str] = Field(default_factory=list, description=(
        "further columns this comparison is about: a blocking rule on them teaches it nothing"))


class SparkSettings(_Strict):
    """Where a run with ``--engine spark`` computes (docs/spark.md): the master URL
    (``local[*]``: this machine's cores; ``spark://host:7077``, ``yarn``, ``k8s://...``: a
    cluster), Spark settings (``spark.executor.memory`` and the like), the partitions a shuffle
    makes (None: two per core on a local master, the cluster's own setting otherwise), and the
    string similarity (``duckdb``: the embedded engine's functions, the same links on both
    engines; ``spark``: Spark's built-in Jaro-Winkler, no Python worker, levels may differ)."""
    master: str = "local[*]"
    conf: dict[str, str] = Field(default_factory=dict)
    partitions: int | None = Field(default=None, ge=1)
    similarity: Literal["duckdb", "spark"] = "duckdb"


class Settings(_Strict):
    blocking: Blocking
    comparisons: list[ComparisonSpec] | None = Field(default=None, description=(
        "the comparisons (None: the package's, settings.yaml)"))
    model: ModelSettings = ModelSettings()
    clustering: Clustering = Clustering()
    resources: Resources = Resources()
    spark: SparkSettings = SparkSettings()


@cache
def default_settings() -> Settings:
    text = resources.files("accord.resolve").joinpath("settings.yaml").read_text("utf-8")
    return Settings.model_validate(yaml.safe_load(text))


def load_settings(path: str | Path | None) -> Settings:
    """Settings from a YAML file (the package's without one); a file that is not valid
    settings is refused with what and where (``accord.resolve.comparisons.checked_settings``
    also compiles its comparisons)."""
    from pydantic import ValidationError

    from accord.errors import AccordError

    if path is None:
        return default_settings()
    try:
        settings = Settings.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except OSError as e:
        raise AccordError(f"{path}: cannot read the settings file ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise AccordError(f"{path}: not YAML ({e})") from None
    except ValidationError as e:
        where = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
                          for err in e.errors()[:5])
        raise AccordError(f"{path}: not valid resolution settings: {where}") from None
    return settings
