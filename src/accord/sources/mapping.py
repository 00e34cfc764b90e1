"""The source mapping contract (DESIGN.md): one YAML file per extract.

Validation errors name the mapping file, the key and its line, and what was expected.
Checks that need the data file (missing columns) happen when the file is opened
(``accord.sources.readers``).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from accord.errors import MappingError
from accord.sources.dates import format_problem
from accord.sources.fields import catalogue

_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_NAMESPACE = _SOURCE_NAME


def _namespaced() -> str:
    return ", ".join(n for n, f in catalogue().items() if f.namespaced)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvOptions(_Strict):
    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True
    columns: list[str] | None = Field(
        default=None, description="column names, required when header is false"
    )
    quote: str = '"'

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError(f"must be a single character, got {v!r}")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @model_validator(mode="after")
    def _columns_without_header(self) -> CsvOptions:
        if not self.header and not self.columns:
            raise ValueError("header: false needs columns: [names in file order]")
        if self.header and self.columns:
            raise ValueError("columns: names the columns of a file without a header row; "
                             "it needs header: false")
        return self


class FieldSpec(_Strict):
    column: str
    format: str | list[str] | None = Field(default=None, description="strptime format(s) for dates")
    layout: str | None = Field(default=None, description="name layout for full_name")
    values: dict[str, str] | None = Field(default=None, description="raw value -> canonical value")
    namespace: str | None = Field(default=None, description="the identifier scheme of other_id "
                                  "(values compare only within one namespace)")

    @field_validator("values", mode="before")
    @classmethod
    def _stringify_keys(cls, v: Any) -> Any:
        # YAML turns Y/N/1/0 keys into booleans/ints; codes in extracts are text.
        if isinstance(v, dict):
            return {_yaml_scalar_text(k): ("" if val is None else _yaml_scalar_text(val))
                    for k, val in v.items()}
        return v

    @property
    def formats(self) -> list[str]:
        if self.format is None:
            return []
        return [self.format] if isinstance(self.format, str) else list(self.format)


def _yaml_scalar_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Mapping(_Strict):
    """A validated mapping of one extract onto canonical fields."""

    source: str
    system: str
    format: Literal["csv", "parquet", "jsonl"]
    csv: CsvOptions = CsvOptions()
    file: str | None = Field(default=None, description="data file, relative to the mapping")
    description: str | None = None
    record_id: str | list[str]
    fields: dict[str, FieldSpec]

    @field_validator("source")
    @classmethod
    def _source_name(cls, v: str) -> str:
        if not _SOURCE_NAME.match(v):
            raise ValueError("must be lower-case letters, digits and _ (starting with a letter)")
        return v

    @field_validator("record_id")
    @classmethod
    def _record_id(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and not v:
            raise ValueError("needs at least one column")
        return v

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"column": str(s)} if isinstance(s, str | int) else s) for k, s in v.items()}
        return v

    @model_validator(mode="after")
    def _fields_known(self) -> Mapping:
        cat = catalogue()
        for name, spec in self.fields.items():
            if name not in cat:
                close = difflib.get_close_matches(name, list(cat), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise _FieldError(("fields", name), f"unknown canonical field {name!r}{hint}")
            f = cat[name]
            if spec.format is not None and f.type != "date":
                raise _FieldError(("fields", name, "format"), f"format applies to dates; {name} is {f.type}")
            for fmt in spec.formats:
                problem = format_problem(fmt)
                if problem is not None:
                    raise _FieldError(("fields", name, "format"), problem)
            if spec.layout is not None:
                if not f.layouts:
                    raise _FieldError(("fields", name, "layout"), f"layout applies to full_name, not {name}")
                if spec.layout not in f.layouts:
                    raise _FieldError(("fields", name, "layout"),
                                      f"unknown layout {spec.layout!r}; expected one of {list(f.layouts)}")
            if spec.namespace is not None and not f.namespaced:
                raise _FieldError(("fields", name, "namespace"),
                                  f"namespace applies to {_namespaced()}, not {name}")
            if f.namespaced and spec.namespace is None:
                raise _FieldError(("fields", name), f"{name} needs a namespace, the identifier scheme its "
                                  f"values belong to (values compare only within one namespace): write "
                                  f"{name}: {{column: {spec.column}, namespace: NAME}}, NAME lower-case "
                                  "letters, digits and _ (e.g. state_dl_ca)")
            if spec.namespace is not None and not _NAMESPACE.match(spec.namespace):
                raise _FieldError(("fields", name, "namespace"),
                                  f"namespace {spec.namespace!r} must be lower-case letters, digits and _ "
                                  "(starting with a letter, at most 63)")
            if spec.values is not None and f.values is not None:
                bad = sorted({t for t in spec.values.values() if t != "" and t not in f.values})
                if bad:
                    raise _FieldError(("fields", name, "values"),
                                      f"maps to {bad}, outside the controlled set {list(f.values)}")
        if "full_name" in self.fields and self.fields["full_name"].layout is None:
            raise _FieldError(("fields", "full_name"), "full_name needs a layout, one of "
                              f"{list(cat['full_name'].layouts or ())}")
        return self

    @property
    def record_id_columns(self) -> list[str]:
        return [self.record_id] if isinstance(self.record_id, str) else list(self.record_id)

    def columns_used(self) -> list[str]:
        cols = list(self.record_id_columns)
        for spec in self.fields.values():
            if spec.column not in cols:
                cols.append(spec.column)
        return cols


class _FieldError(ValueError):
    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps the node tree so errors can name lines."""


def _node_line(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest node reachable along ``loc``."""
    line = node.start_mark.line + 1
    cur: yaml.Node | None = node
    for part in loc:
        if isinstance(cur, yaml.MappingNode):
            nxt = None
            for k, v in cur.value:
                if str(k.value) == str(part):
                    line = k.start_mark.line + 1
                    nxt = v
                    break
            cur = nxt
        elif isinstance(cur, yaml.SequenceNode) and isinstance(part, int) and part < len(cur.value):
            cur = cur.value[part]
            line = cur.start_mark.line + 1
        else:
            break
        if cur is None:
            break
    return line


def parse_mapping(text: str, path: str = "<mapping>") -> Mapping:
    """Parse and validate mapping YAML text; raise MappingError naming key and line."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        if node is not None:
            _check_duplicate_keys(node, path)
            _keep_source_text(node)
        data = _LineLoader("").construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise MappingError(path, line, None, f"not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict) or node is None:
        raise MappingError(path, 1, None, "expected a mapping with keys source, system, format, "
                           "record_id, fields")
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        loc, msg = _describe(e)
    # Raised outside the except block: the pydantic error (which the garbage collector cannot
    # traverse) must not stay reachable from this error, or it keeps every caller's frame
    # (an open store included) alive for the life of the process.
    key = ".".join(str(p) for p in loc if not str(p).startswith(("str", "list[")))
    line = _node_line(node, tuple(p for p in loc if not str(p).startswith(("str", "list["))))
    raise MappingError(path, line, key or None, msg)


def _describe(e: ValidationError) -> tuple[tuple[Any, ...], str]:
    """(location, message) of the first validation error, as plain values."""
    err = e.errors()[0]
    loc = tuple(err["loc"])
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, _FieldError):
        loc, msg = ctx_err.loc, ctx_err.message
    elif err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}" + _expected_keys(loc)
    elif err["type"] == "missing":
        msg = f"missing required key {loc[-1]!r}"
        loc = loc[:-1]
    else:
        msg = err["msg"]
        if err["type"] == "literal_error":
            msg = f"got {err['input']!r}; {msg.lower()}"
    return loc, msg


_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"


def _check_duplicate_keys(node: yaml.Node, path: str, loc: tuple[str, ...] = ()) -> None:
    """A key given twice is an error (YAML would silently keep the last one)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            if key in seen:
                raise MappingError(path, k.start_mark.line + 1, ".".join((*loc, key)),
                                   f"key {key!r} is given twice")
            seen.add(key)
            _check_duplicate_keys(v, path, (*loc, key))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, path, loc)


def _as_text(node: yaml.Node | None) -> None:
    """Read a plain scalar as the text written (not as a bool/int/float), keeping nulls."""
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag != _NULL_TAG:
        node.tag = _STR_TAG
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _as_text(item)


def _keep_source_text(root: yaml.Node) -> None:
    """Column names and value codes are text exactly as written: YAML would turn codes such
    as yes/no/on/off into booleans and 007 or 010 into numbers (collapsing distinct codes)."""
    if not isinstance(root, yaml.MappingNode):
        return
    for k, v in root.value:
        if k.value == "record_id":
            _as_text(v)
        elif k.value == "csv" and isinstance(v, yaml.MappingNode):
            for ck, cv in v.value:
                if ck.value == "columns":
                    _as_text(cv)
        elif k.value == "fields" and isinstance(v, yaml.MappingNode):
            for _, spec in v.value:
                _as_text(spec)  # shorthand: the column name
                if isinstance(spec, yaml.MappingNode):
                    for sk, sv in spec.value:
                        if sk.value in ("column", "namespace"):
                            _as_text(sv)
                        elif sk.value == "values" and isinstance(sv, yaml.MappingNode):
                            for code, target in sv.value:
                                _as_text(code)
                                _as_text(target)


def _expected_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] | None = Mapping
    parts = [p for p in loc[:-1] if not str(p).startswith(("str", "list["))]
    if parts[:1] == ["csv"]:
        model = CsvOptions
    elif parts[:1] == ["fields"]:
        model = FieldSpec
    elif parts:
        model = None
    if model is None:
        return ""
    return f"; expected one of {sorted(model.model_fields)}"


def load_mapping(path: str | Path) -> Mapping:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise MappingError(str(p), None, None, f"cannot read mapping: {e.strerror}") from None
    except UnicodeDecodeError:
        raise MappingError(str(p), None, None, "mapping is not UTF-8 text") from None
    return parse_mapping(text, str(p))


class MappingFile:
    """A validated mapping together with where it came from (for errors and provenance)."""

    def __init__(self, path: Path, text: str, spec: Mapping) -> None:
        self.path, self.text, self.spec = path, text, spec
        self.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._node = yaml.compose(text, Loader=_LineLoader)

    def error(self, loc: tuple[str, ...], message: str) -> MappingError:
        line = _node_line(self._node, loc) if self._node is not None else None
        return MappingError(str(self.path), line, ".".join(loc), message)

    def data_path(self, file: str | Path | None = None) -> Path:
        """The data file: the one given, else the mapping's ``file:`` relative to the mapping."""
        if file is not None:
            return Path(file)
        if self.spec.file is None:
            raise MappingError(str(self.path), None, "file",
                               "no data file given and the mapping has no `file:` key")
        return self.path.parent / self.spec.file


def load_mapping_file(path: str | Path) -> MappingFile:
    p = Path(path)
    spec = load_mapping(p)
    return MappingFile(p, p.read_text(encoding="utf-8"), spec)
