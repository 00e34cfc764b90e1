"""docs/architecture.md stays true: the modules, files, tables, table owners, gate entry points
and links it names must exist, and every table and every writer of a table must be in it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest

from accord.governance.gate import Gate
from accord.store import Store

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC_PATH = ROOT / "docs" / "architecture.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
NAME = "docs/architecture.md"
SCHEMA_MODULES = ("accord.ingest.schema", "accord.resolve.schema", "accord.governance.schema",
                  "accord.casework.schema")
TABLES_SECTION = "Tables and their owners"
GATE_SECTION = "The governance gate"


def section(title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert m, f"{NAME} has no section '## {title}'"
    return m.group(1)


def module_file(module: str) -> Path:
    base = SRC.joinpath(*module.split("."))
    path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
    assert path.is_file(), f"{NAME} names module `{module}`, but {path.relative_to(ROOT)} does not exist"
    return path


# --- modules, files, links -------------------------------------------------------------------

def dotted_names() -> list[str]:
    return sorted(set(re.findall(r"\baccord(?:\.[A-Za-z_]\w*)+", DOC)))


def missing(dotted: str) -> str | None:
    """Why ``dotted`` (a module, or a module then attributes) does not exist; None if it does."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        obj: object = importlib.import_module(module)
        for i, attr in enumerate(parts[cut:], start=cut):
            if not hasattr(obj, attr):
                return f"`{'.'.join(parts[:i])}` has no module or attribute `{attr}`"
            obj = getattr(obj, attr)
        return None
    return "no such module"


def test_the_doc_names_modules() -> None:
    assert len(dotted_names()) > 50, f"{NAME} names almost no `accord.*` modules: wrong file?"


@pytest.mark.parametrize("dotted", dotted_names())
def test_every_named_module_exists(dotted: str) -> None:
    why = missing(dotted)
    assert why is None, f"{NAME} names `{dotted}`: {why}"


def test_every_package_is_on_the_map() -> None:
    packages = {".".join(p.parent.relative_to(SRC).parts) for p in (SRC / "accord").rglob("__init__.py")}
    named = set(dotted_names())
    absent = sorted(p for p in packages - {"accord"}
                    if not any(n == p or n.startswith(p + ".") for n in named))
    assert absent == [], f"packages missing from {NAME}: {absent}"


def file_paths() -> list[str]:
    return sorted(set(re.findall(r"src/accord/[\w/.*-]*[\w*]", DOC)))


@pytest.mark.parametrize("path", file_paths())
def test_every_named_file_exists(path: str) -> None:
    assert list(ROOT.glob(path)), f"{NAME} names `{path}`, which matches no file"


def test_links_to_every_other_doc_and_every_link_resolves() -> None:
    links = set(re.findall(r"\]\(([^)#]+)\)", DOC))
    broken = sorted(link for link in links if not (DOC_PATH.parent / link).is_file())
    assert broken == [], f"{NAME} links to files that do not exist: {broken}"
    docs = {p.name for p in DOC_PATH.parent.glob("*.md")} - {DOC_PATH.name}
    unlinked = sorted(docs - links)
    assert unlinked == [], f"{NAME} does not link to these docs: {unlinked}"


def test_readme_links_here() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in readme, "README.md does not link to docs/architecture.md"


def test_stays_one_page() -> None:
    lines = len(DOC.splitlines())
    assert lines <= 300, f"{NAME} has {lines} lines: a map a newcomer reads in ten minutes is shorter"


# --- gate entry points -----------------------------------------------------------------------

def test_every_gate_entry_point_is_named_and_every_named_one_exists() -> None:
    text = section(GATE_SECTION)
    public = {name for name, fn in vars(Gate).items()
              if not name.startswith("_") and inspect.isfunction(fn)}
    named = set(re.findall(r"`Gate\.(\w+)", text))
    unlisted = sorted(public - named)
    assert unlisted == [], f"Gate methods not listed in {NAME} '## {GATE_SECTION}': {unlisted}"
    unknown = sorted(n for n in set(re.findall(r"\bGate\.(\w+)", DOC)) if not hasattr(Gate, n))
    assert unknown == [], f"{NAME} names Gate methods that do not exist: {unknown}"


# --- tables ------------------------------------------------------------------------------------

DDL_NAME = re.compile(r"CREATE (?:TABLE IF NOT EXISTS|OR REPLACE VIEW) (\w+)")


def schema_tables() -> set[str]:
    """Every table and view the schema modules (and the store's own DDL) declare."""
    from accord.store import duckdb_store as store

    ddl = [*store._META_DDL]
    for module in SCHEMA_MODULES:
        ddl += importlib.import_module(module).DDL
    return {m.group(1) for stmt in ddl for m in DDL_NAME.finditer(stmt)}


@pytest.fixture(scope="module")
def fresh_tables(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    with Store(tmp_path_factory.mktemp("arch") / "fresh.duckdb") as s:
        return {r[0] for r in s.query("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = current_schema()")}


def test_schema_parse_finds_every_table_of_a_fresh_store(fresh_tables: set[str]) -> None:
    parsed = schema_tables()
    unparsed, extra = sorted(fresh_tables - parsed), sorted(parsed - fresh_tables)
    assert unparsed == [], f"a fresh store has tables the parse of the schema DDL missed: {unparsed}"
    assert extra == [], f"the parse of the schema DDL found tables a fresh store lacks: {extra}"


class Row(NamedTuple):
    table: str
    created_by: list[str]
    owner: list[str]
    also: list[str]


def rows() -> dict[str, Row]:
    out: dict[str, Row] = {}
    for line in section(TABLES_SECTION).splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"{NAME}: table row needs 4 cells: {line}"
        table = re.findall(r"`(\w+)`", cells[0])[0]
        mods = [re.findall(r"`(accord(?:\.\w+)+)`", c) for c in cells[1:]]
        assert table not in out, f"{NAME} lists table `{table}` twice"
        out[table] = Row(table, *mods)
    assert out, f"{NAME} '## {TABLES_SECTION}' has no table rows"
    return out


def test_every_schema_table_is_in_the_ownership_section() -> None:
    absent = sorted(schema_tables() - set(rows()))
    assert absent == [], f"tables missing from {NAME} '## {TABLES_SECTION}': {absent}"


def test_every_row_names_one_creator_and_one_owner() -> None:
    bad = sorted(r.table for r in rows().values() if len(r.created_by) != 1 or len(r.owner) != 1)
    assert bad == [], f"{NAME}: rows need exactly one `created by` and one `owner` module: {bad}"


# What a module's SQL does to each table, found in its source (docstrings left out).

DML = re.compile(r'\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)')
CREATE = re.compile(r'\bCREATE\s+(OR\s+REPLACE\s+)?(TEMP(?:ORARY)?\s+)?(TABLE|VIEW)\s+'
                    r'(IF\s+NOT\s+EXISTS\s+)?"?(\w+)')
UNKNOWN = "\x00"  # stands for a part of an f-string that is not a known constant


class Touch(NamedTuple):
    table: str
    kind: str   # "write" (INSERT/UPDATE/DELETE), "replace" (creates and fills), "declare" (DDL)
    how: str


_CONSTANTS: dict[str, dict[str, str]] = {}


def constants(module: str) -> dict[str, str]:
    """Module-level string constants, with those imported from other accord modules (a module
    met again while its own imports are read gives what it has so far: imports may cycle)."""
    if module in _CONSTANTS:
        return _CONSTANTS[module]
    tree = ast.parse(module_file(module).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    _CONSTANTS[module] = out
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accord"):
            try:
                theirs = constants(node.module)
            except AssertionError:          # a package attribute, not a module
                continue
            out.update({a.asname or a.name: theirs[a.name] for a in node.names if a.name in theirs})
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            out.update({t.id: value.value for t in targets if isinstance(t, ast.Name)})
    return out


def render(node: ast.expr, consts: dict[str, str]) -> str | None:
    """The text of a string expression, with known constants filled in."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(render(v, consts) or UNKNOWN for v in node.values)
    if isinstance(node, ast.FormattedValue):
        inner = node.value
        if isinstance(inner, ast.Call) and len(inner.args) == 1:   # ident(NAME), lit(NAME)
            inner = inner.args[0]
        return render(inner, consts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = render(node.left, consts), render(node.right, consts)
        return None if left is None and right is None else (left or UNKNOWN) + (right or UNKNOWN)
    return None


def _strings(tree: ast.Module) -> Iterator[ast.expr]:
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp) and id(node) not in docstrings:
            yield node


@cache
def touches(module: str) -> frozenset[Touch]:
    tree = ast.parse(module_file(module).read_text(encoding="utf-8"))
    consts = constants(module)
    found: set[Touch] = set()
    for node in _strings(tree):
        sql = render(node, consts)
        if not sql:
            continue
        for m in DML.finditer(sql):
            found.add(Touch(m.group(2), "write", " ".join(m.group(1).split())))
        for m in CREATE.finditer(sql):
            if m.group(2):
                continue                                   # a temporary table of one connection
            kind = "declare" if m.group(4) else "replace"
            found.add(Touch(m.group(5), kind, f"CREATE {m.group(3)}"))
    # Helpers that take the table's name: store.insert(table, row), store.insert_rows(table, ...),
    # store.bulk_load(table, data), backend.create_table(name, sql, temp=False),
    # working.replace_view(db, name, sql).
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        fn = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if fn not in {"insert", "insert_rows", "bulk_load", "create_table", "replace_view"}:
            continue
        if any(k.arg == "temp" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
               for k in call.keywords):
            continue
        names = [render(a, consts) for a in call.args]
        table = next((n for n in names if n and re.fullmatch(r"\w+", n)), None)
        if table:
            kind = "replace" if fn in {"create_table", "replace_view"} else "write"
            found.add(Touch(table, kind, f"{fn}()"))
    return frozenset(found)


def all_modules() -> list[str]:
    return sorted(".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
                  for p in (SRC / "accord").rglob("*.py"))


def test_every_named_table_exists(fresh_tables: set[str]) -> None:
    """In a fresh store, or else (a working table) created by the module the doc says."""
    for row in rows().values():
        if row.table in fresh_tables:
            continue
        made = {t.table for m in row.created_by for t in touches(m) if t.kind == "replace"}
        assert row.table in made, (
            f"{NAME} lists table `{row.table}`: a fresh store has no such table, and "
            f"{row.created_by} does not create it (CREATE OR REPLACE TABLE/VIEW, create_table)")


@pytest.mark.parametrize("table", sorted(rows()))
def test_creator_creates_and_owner_writes(table: str) -> None:
    row = rows()[table]
    for module in row.created_by:
        created = {t.table for t in touches(module) if t.kind in {"declare", "replace"}}
        assert table in created, (f"{NAME}: `{table}` is created by `{module}`, but no CREATE TABLE/VIEW "
                                  f"{table} is in {module_file(module).relative_to(ROOT)}")
    for module in row.owner + row.also:
        written = {t.table for t in touches(module) if t.kind in {"write", "replace"}}
        role = "owner" if module in row.owner else "also written by"
        assert table in written, (
            f"{NAME}: `{module}` is listed as {role} of `{table}`, but no SQL in "
            f"{module_file(module).relative_to(ROOT)} writes it "
            f"(INSERT INTO / UPDATE / DELETE FROM / CREATE OR REPLACE {table}, insert_rows, create_table)")


def test_every_module_that_writes_a_table_is_named_for_it() -> None:
    """A second writer of a table must be listed as a known gap, not hidden."""
    listed = rows()
    hidden = []
    for module in all_modules():
        for t in touches(module):
            if t.table not in listed or t.kind == "declare":
                continue
            row = listed[t.table]
            if module not in row.owner + row.also:
                hidden.append(f"{module} writes `{t.table}` ({t.how})")
    hidden = sorted(set(hidden))
    assert hidden == [], (f"writers missing from {NAME} '## {TABLES_SECTION}' "
                          f"(add them under 'also written by'): {hidden}")
