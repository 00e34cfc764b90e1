"""Resolution settings: declared as data (``settings.yaml``), validated here."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

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


class Settings(_Strict):
    blocking: Blocking
    model: ModelSettings = ModelSettings()
    clustering: Clustering = Clustering()
    resources: Resources = Resources()


@cache
def default_settings() -> Settings:
    text = resources.files("accord.resolve").joinpath("settings.yaml").read_text("utf-8")
    return Settings.model_validate(yaml.safe_load(text))


def load_settings(path: str | Path | None) -> Settings:
    if path is None:
        return default_settings()
    return Settings.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
