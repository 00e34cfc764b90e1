"""The Spark session a resolution runs on: a master URL (``local[*]`` by default, any cluster URL
the same way) and settings, from the command line or the ``spark`` section of the settings.

What Spark writes to disk while it works (shuffle files, spilled blocks, cached partitions) holds
person data: it goes to a private folder made for the session and removed when the session ends,
never to Spark's default ``/tmp`` paths. On a cluster the executors' own ``spark.local.dir`` is
the cluster's (docs/spark.md says what it must be).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.errors import AccordError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from accord.resolve.settings import SparkSettings

DEFAULT_MASTER = "local[*]"


@dataclass(frozen=True)
class SparkOptions:
    """Where and how to run: the master URL, Spark settings (``spark.*`` keys), the number of
    partitions a shuffle makes (None: two per core of a local master, else Spark's own), the
    string similarity (``accord.spark.dialect``) and the folder the store and Spark trade files
    in (None: a private folder in the system's temporary folder; on a cluster, one the driver
    and every executor reach)."""
    master: str = DEFAULT_MASTER
    conf: Mapping[str, str] = field(default_factory=dict)
    partitions: int | None = None
    similarity: str = "duckdb"
    exchange: Path | None = None

    @classmethod
    def of(cls, settings: SparkSettings) -> SparkOptions:
        """The options of a settings file's ``spark`` section."""
        return cls(settings.master, dict(settings.conf), settings.partitions, settings.similarity)

    @classmethod
    def parse(cls, master: str | None = None, conf: list[str] | None = None,
              partitions: int | None = None, base: SparkOptions | None = None,
              exchange: Path | None = None) -> SparkOptions:
        """Options from the command line (``KEY=VALUE`` settings) over ``base`` (the settings
        file's); a setting that is not ``KEY=VALUE`` is refused, naming it."""
        base = base or cls()
        pairs = dict(base.conf)
        for item in conf or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise AccordError(f"--spark-conf {item!r}: give a Spark setting as KEY=VALUE "
                                  f"(for example spark.executor.memory=8g)")
            pairs[key.strip()] = value.strip()
        return cls(master or base.master, pairs, partitions or base.partitions, base.similarity,
                   exchange or base.exchange)


def available() -> bool:
    """Whether PySpark is installed (the ``spark`` extra: ``pip install 'accord[spark]'``)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    if not available():
        raise AccordError("the spark engine needs PySpark: pip install 'accord[spark]' "
                          "(and Java 17 or newer on the machine)")


def _local_cores(master: str) -> int:
    inner = master.removeprefix("local").strip("[]") or "1"
    if inner.startswith("*") or not inner.split(",")[0].isdigit():
        return os.cpu_count() or 1
    return int(inner.split(",")[0])


def settings_for(options: SparkOptions, scratch: Path) -> dict[str, str]:
    """The Spark settings a session starts with: Accord's defaults, then the options' own."""
    out = {
        "spark.app.name": "accord-resolve",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.local.dir": str(scratch),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={scratch}",
        # The executors run this interpreter's Accord (its standardisation and comparisons).
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    if options.master.startswith("local"):
        # In local mode the driver is the executor too: Spark's default 1 GB heap is too small.
        out["spark.driver.memory"] = "4g"
        out["spark.sql.shuffle.partitions"] = str(options.partitions or 2 * _local_cores(options.master))
        out["spark.default.parallelism"] = out["spark.sql.shuffle.partitions"]
    elif options.partitions:
        out["spark.sql.shuffle.partitions"] = str(options.partitions)
    out.update(options.conf)
    return out


@contextlib.contextmanager
def spark_session(options: SparkOptions | None = None,
                  session: SparkSession | None = None) -> Iterator[SparkSession]:
    """A Spark session for one run, stopped and its scratch folder removed however the run ends.
    ``session``: one the caller holds; else the session already active in this process (a
    notebook's, the tests' shared one): used as it is (its master and settings stand) and left
    running."""
    require()
    from pyspark.sql import SparkSession

    session = session or SparkSession.getActiveSession()
    if session is not None:
        yield session
        return

    options = options or SparkOptions()
    # PySpark takes the executors' Python from the environment, not from the settings.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch = Path(tempfile.mkdtemp(prefix="accord-spark-"))
    builder: Any = SparkSession.builder.master(options.master)
    for key, value in settings_for(options, scratch).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # no Java, a bad master URL, a refused setting
        shutil.rmtree(scratch, ignore_errors=True)
        raise AccordError(f"Spark did not start on master {options.master!r}: {e}") from None
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
