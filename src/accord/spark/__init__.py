"""Batch resolution on Apache Spark: the same stages as on DuckDB, for sizes one machine cannot hold."""
