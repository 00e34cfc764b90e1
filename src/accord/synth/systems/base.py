"""What every record system produces: an extract (columns, mapping, person of each row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from accord.synth.corrupt import BadKind, BadRow, inject_bad_rows
from accord.synth.textops import IntArray, join, set_null


@dataclass
class Extract:
    """One extract of a record system, before it is written."""

    source: str                      # mapping ``source``
    system: str                      # mapping ``system`` (authority registry id)
    description: str
    columns: dict[str, pa.Array]     # in file order
    record_id: str | list[str]
    fields: dict[str, Any]           # mapping ``fields`` (canonical field -> column/spec)
    person: IntArray                 # person index of each row
    delimiter: str = ","
    encoding: str = "utf-8"
    optional: list[str] = field(default_factory=list)  # identity columns that may be blank
    bad_kinds: list[BadKind] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.person.size)

    def table(self) -> pa.Table:
        return pa.table(self.columns)

    def record_ids(self) -> pa.Array:
        """Record ids exactly as the mapping's record_id produces them (text; composite
        ids joined with '|')."""
        cols = [self.record_id] if isinstance(self.record_id, str) else self.record_id
        texts = [_text(self.columns[c]) for c in cols]
        return texts[0] if len(texts) == 1 else join(texts, sep="|")

    def blank_optional(self, rate: float, rng: np.random.Generator) -> None:
        """Leave optional identity values blank at ``rate`` (SynthConfig.missing_rate)."""
        for column in self.optional:
            self.columns[column] = set_null(self.columns[column],
                                              rng.random(self.rows) < rate)

    def add_bad_rows(self, rate: float, rng: np.random.Generator) -> None:
        self.bad_rows = inject_bad_rows(self.source, self.columns, self.bad_kinds, rate, rng)

    def mapping(self, file_name: str, fmt: str) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "system": self.system, "format": fmt}
        if fmt == "csv" and (self.delimiter != "," or self.encoding != "utf-8"):
            out["csv"] = {"delimiter": self.delimiter, "encoding": self.encoding}
        out["file"] = file_name
        out["description"] = self.description
        out["record_id"] = self.record_id
        out["fields"] = self.fields
        return out


def _text(arr: pa.Array) -> pa.Array:
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def shuffled(rng: np.random.Generator, *arrays: IntArray) -> list[IntArray]:
    """The same random row order applied to parallel arrays (extracts are not sorted by
    person, so neighbouring rows do not give households away)."""
    order = rng.permutation(arrays[0].size)
    return [a[order] for a in arrays]


def date_field(column: str, fmt: str) -> dict[str, str]:
    return {"column": column, "format": fmt}

