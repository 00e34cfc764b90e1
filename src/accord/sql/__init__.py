"""SQL written once (DuckDB dialect) by pure builders, run by a backend, transpiled by sqlglot."""
