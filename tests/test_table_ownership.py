"""Table ownership, checked: every table of the store is written only by its owning module
(and created by its schema module), and read only within its owner's package, or through a
function of it.

The owners are the table of owners in docs/architecture.md. The SQL is found in the source of
``src/accord``: every string and f-string (docstrings aside) is searched for statements that
write a table (``INSERT INTO``, ``UPDATE ... SET``, ``DELETE FROM``, ``CREATE``, ``DROP``,
``ALTER``, ``COPY``, ``TRUNCATE``) or read one (``FROM`` / ``JOIN``), and every
``insert(`` / ``insert_rows(`` / ``bulk_load(`` call for the table it names. Table names held
in module constants (``MEMBERS = "view_members"``, imported or not) are followed.

Accesses that break the rule today, in modules being moved on other branches, are listed in
``KNOWN_EXCEPTIONS``; a new one fails the test, and so does an exception no longer needed
(remove it: the rule then holds for that module).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "accord"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# Tables some package other than the owner's reads by design, documented in docs/architecture.md:
# resolution computes over the standardise stage's ``features`` (it rebuilds them first).
DOCUMENTED_READERS: dict[str, set[str]] = {
    "features": {"accord.resolve", "accord.spark"},
    "resolve_features": {"accord.spark"},
    "resolve_shared_identifiers": {"accord.spark"},
}
# Resolution's working tables that a second engine computes as its own (Spark's temporary views,
# under the store's names so that resolution's SQL builders run there unchanged); the store's
# tables of those names are written only by their owners' functions (docs/architecture.md).
ENGINE_COPIES: dict[str, set[str]] = {
    "resolve_features": {"accord.spark.resolve"},
    "resolve_shared_identifiers": {"accord.spark.resolve"},
}

# Why each exception stands, and what would end it.
_STORE = "the store package: each engine records its own schema version"
_INGEST = "ingest's own package: the correction path beside the pipeline"
_SCOPE = "the scope is the one way readers see records: it builds its SQL over ingest's tables"
# table -> module -> (what it does: read | write | read+write, why it is allowed for now).
# Tighten at integration: the test fails on any entry no longer needed.
KNOWN_EXCEPTIONS: dict[str, dict[str, tuple[str, str]]] = {
    # A new PostgreSQL store records its schema version as the embedded store does.
    "accord_meta": {"accord.store.postgres_store": ("write", _STORE)},
    # Ingest stores a dispute's correction (a record's new version and its batch) in its own
    # module beside the pipeline: both are ingest's.
    "records": {"accord.ingest.records": ("write", _INGEST),
                "accord.governance.scope": ("read", _SCOPE)},
    "records_current": {"accord.governance.scope": ("read", _SCOPE)},
    "ingest_batches": {"accord.ingest.records": ("write", _INGEST)},
}


# --- the checker -----------------------------------------------------------------------------

_WRITES = [
    r"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)",
    r"\bUPDATE\s+(\w+)\s+SET\b",
    r"\bDELETE\s+FROM\s+(\w+)",
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\w*\s+)?(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    r"\bDROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?(\w+)",
    r"\bALTER\s+TABLE\s+(\w+)",
    r"\bCOPY\s+(\w+)",
    r"\bTRUNCATE\s+(?:TABLE\s+)?(\w+)",
]
_WRITE_RE = [re.compile(p, re.IGNORECASE) for p in _WRITES]
_READ_RE = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.IGNORECASE)
_DELETE_FROM = re.compile(r"\bDELETE\s+FROM\b", re.IGNORECASE)
# Calls that write the table they name: the store's inserts; a backend's ``create_table`` and
# resolution's ``replace_view`` (the name is the argument at the index given).
_WRITE_CALLS = {"insert": 0, "insert_rows": 0, "bulk_load": 0, "create_table": 0, "replace_view": 1}
UNRESOLVED = "{?}"


@dataclass(frozen=True)
class Access:
    table: str
    module: str
    kind: str      # read | write


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def module_constants(tree: ast.AST) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    out: dict[str, str] = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


class _Names:
    """What a name or attribute in one module stands for: a string constant of its own or of
    a module it imports."""

    def __init__(self, module: str, tree: ast.AST, constants: Mapping[str, dict[str, str]]) -> None:
        self.own = constants.get(module, {})
        self.imported: dict[str, str] = {}
        self.modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    name = alias.asname or alias.name
                    if alias.name in constants.get(node.module, {}):
                        self.imported[name] = constants[node.module][alias.name]
                    self.modules[name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.modules[alias.asname or alias.name] = alias.name
        self.constants = constants

    def value(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.own.get(node.id, self.imported.get(node.id))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.modules.get(node.value.id)
            return self.constants.get(module, {}).get(node.attr) if module else None
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            return self.value(node.args[0])       # ident(NAME), lit(NAME), str(NAME)
        return None


def strings(module: str, tree: ast.AST, names: _Names) -> Iterator[str]:
    """The text of every string and f-string of a module but its docstrings (an f-string's
    fields replaced by the constant they name, else by ``{?}``)."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    skip.add(id(v))
                    parts.append(str(v.value))
                elif isinstance(v, ast.FormattedValue):
                    parts.append(names.value(v.value) or UNRESOLVED)
                    if v.format_spec is not None:
                        skip.update(id(x) for x in ast.walk(v.format_spec))
            yield "".join(parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.value


def accesses(module: str, source: str, tables: Iterable[str],
             constants: Mapping[str, dict[str, str]] | None = None) -> set[Access]:
    """The reads and writes of ``tables`` in one module's source."""
    known = set(tables)
    tree = ast.parse(source)
    consts = dict(constants or {})
    consts.setdefault(module, module_constants(tree))
    names = _Names(module, tree, consts)
    out: set[Access] = set()
    for text in strings(module, tree, names):
        for pattern in _WRITE_RE:
            out.update(Access(t, module, "write") for t in pattern.findall(text) if t in known)
        reads = _DELETE_FROM.sub("DELETE", text)
        out.update(Access(t, module, "read") for t in _READ_RE.findall(reads) if t in known)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else \
            node.func.id if isinstance(node.func, ast.Name) else None
        at = _WRITE_CALLS.get(called or "")
        temp = any(k.arg == "temp" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in node.keywords)              # a working table of one connection
        if at is not None and len(node.args) > at and not temp:
            table = names.value(node.args[at])
            if table in known:
                out.add(Access(table, module, "write"))
    return out


@dataclass(frozen=True)
class Owner:
    creator: str
    owner: str


def owners(architecture: str) -> dict[str, Owner]:
    """Table -> (creator, owner), from the tables of owners of docs/architecture.md."""
    out = {}
    for m in re.finditer(r"^\| `(\w+)`(?: \(view\))? \| `([\w.]+)` \| `([\w.]+)` \|", architecture, re.M):
        out[m.group(1)] = Owner(m.group(2), m.group(3))
    return out


def package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def violations(found: Iterable[Access], owned: Mapping[str, Owner],
               exceptions: Mapping[str, Mapping[str, tuple[str, str]]],
               readers: Mapping[str, set[str]] = DOCUMENTED_READERS) -> list[str]:
    """What breaks the rule and is no known exception, one line each."""
    out = []
    for a in sorted(found, key=lambda a: (a.table, a.module, a.kind)):
        own = owned.get(a.table)
        if own is None:
            out.append(f"{a.table}: no owner in docs/architecture.md ({a.kind} in {a.module})")
            continue
        if a.kind == "write":
            allowed = a.module in (own.owner, own.creator) or a.module in ENGINE_COPIES.get(a.table, set())
        else:
            allowed = (package(a.module) in {package(own.owner), package(own.creator)}
                       or package(a.module) in readers.get(a.table, set()))
        if allowed:
            continue
        known = exceptions.get(a.table, {}).get(a.module)
        if known is not None and a.kind in known[0].split("+"):
            continue
        verb = "writes" if a.kind == "write" else "reads"
        out.append(f"{a.module} {verb} {a.table}, owned by {own.owner}")
    return out


def stale(found: Iterable[Access], exceptions: Mapping[str, Mapping[str, tuple[str, str]]]) -> list[str]:
    """Known exceptions that no access needs any more."""
    seen = {(a.table, a.module, a.kind) for a in found}
    return [f"{t}: {m} ({kinds})" for t, by in exceptions.items() for m, (kinds, _) in by.items()
            if not all((t, m, k) in seen for k in kinds.split("+"))]


# --- the store's tables and every module's accesses ------------------------------------------

def schema_tables() -> set[str]:
    from accord.casework import schema as casework_schema
    from accord.governance import schema as governance_schema
    from accord.ingest import schema as ingest_schema
    from accord.resolve import schema as resolve_schema
    from accord.store import duckdb_store

    ddl = [*ingest_schema.DDL, *resolve_schema.DDL, *governance_schema.DDL, *casework_schema.DDL,
           *duckdb_store._META_DDL]
    tables = set()
    for text in ddl:
        m = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", text)
        if m:
            tables.add(m.group(1))
    tables.add(duckdb_store.DATA_VERSION_TABLE)
    return tables


# The working tables of a resolution run (docs/architecture.md: not in the schema modules).
WORKING_TABLES = {"features", "resolve_shared_identifiers", "resolve_features"}


def all_accesses(tables: set[str]) -> set[Access]:
    files = sorted(SRC.rglob("*.py"))
    trees = {module_name(f): ast.parse(f.read_text(encoding="utf-8")) for f in files}
    constants = {m: module_constants(t) for m, t in trees.items()}
    out: set[Access] = set()
    for f in files:
        out |= accesses(module_name(f), f.read_text(encoding="utf-8"), tables, constants)
    return out


@pytest.fixture(scope="module")
def found() -> set[Access]:
    return all_accesses(schema_tables() | WORKING_TABLES)


def test_every_table_has_an_owner_in_the_architecture_map() -> None:
    owned = owners(ARCHITECTURE.read_text(encoding="utf-8"))
    assert schema_tables() | WORKING_TABLES <= set(owned), sorted(schema_tables() - set(owned))


def test_tables_are_written_by_their_owner_and_read_within_its_package(found: set[Access]) -> None:
    owned = owners(ARCHITECTURE.read_text(encoding="utf-8"))
    assert violations(found, owned, KNOWN_EXCEPTIONS) == []


def test_every_known_exception_is_still_needed(found: set[Access]) -> None:
    assert stale(found, KNOWN_EXCEPTIONS) == []


def test_each_owner_writes_its_table(found: set[Access]) -> None:
    owned = owners(ARCHITECTURE.read_text(encoding="utf-8"))
    writes = {(a.table, a.module) for a in found if a.kind == "write"}
    missing = [t for t, o in owned.items() if (t, o.owner) not in writes]
    assert missing == []


# --- the checker can fail ----------------------------------------------------------------------

_OWNED = {"links": Owner("accord.resolve.schema", "accord.resolve.pipeline"),
          "entity_members": Owner("accord.resolve.schema", "accord.resolve.ids"),
          "features": Owner("accord.standardise.features", "accord.standardise.features")}

_ROGUE = '''
"""A docstring that says DELETE FROM links is not SQL."""
from accord.resolve.views import MEMBERS as M
T = "links"
def f(store, t):
    store.write(f"DELETE FROM {T} WHERE run_id = 1")
    store.query("SELECT * FROM entity_members JOIN features USING (source)")
    store.insert_rows("entity_members", ["source"], [["s"]])
    store.query(f"SELECT * FROM {t}")        # a table the checker cannot know
'''


def test_the_checker_finds_writes_and_reads_outside_the_owner() -> None:
    found = accesses("accord.master.rogue", _ROGUE, _OWNED)
    assert found == {Access("links", "accord.master.rogue", "write"),
                     Access("entity_members", "accord.master.rogue", "write"),
                     Access("entity_members", "accord.master.rogue", "read"),
                     Access("features", "accord.master.rogue", "read")}
    assert violations(found, _OWNED, {}) == [
        "accord.master.rogue reads entity_members, owned by accord.resolve.ids",
        "accord.master.rogue writes entity_members, owned by accord.resolve.ids",
        "accord.master.rogue reads features, owned by accord.standardise.features",
        "accord.master.rogue writes links, owned by accord.resolve.pipeline"]


def test_the_owner_and_its_package_pass_and_an_exception_covers_only_its_kind() -> None:
    own = accesses("accord.resolve.ids", 'S = "INSERT INTO entity_members (source) SELECT 1"', _OWNED)
    same_package = accesses("accord.resolve.entities", 'S = "SELECT 1 FROM entity_members"', _OWNED)
    assert violations(own | same_package, _OWNED, {}) == []
    reader = accesses("accord.resolve.entities", 'S = "DELETE FROM entity_members"', _OWNED)
    assert violations(reader, _OWNED, {}) == [
        "accord.resolve.entities writes entity_members, owned by accord.resolve.ids"]
    rogue = accesses("accord.master.rogue", _ROGUE, _OWNED)
    listed = {"entity_members": {"accord.master.rogue": ("read", "test")}}
    assert "accord.master.rogue writes entity_members, owned by accord.resolve.ids" in \
        violations(rogue, _OWNED, listed)
    assert "accord.master.rogue reads entity_members, owned by accord.resolve.ids" not in \
        violations(rogue, _OWNED, listed)


def test_an_exception_no_access_needs_is_stale() -> None:
    rogue = accesses("accord.master.rogue", _ROGUE, _OWNED)
    listed = {"entity_members": {"accord.master.rogue": ("read+write", "test")},
              "links": {"accord.master.view": ("read", "test")}}
    assert stale(rogue, listed) == ["links: accord.master.view (read)"]
