"""argmine.spark on a local Spark (two worker threads, a task retried up to three times)."""

import os
import sys

import pytest

pyspark = pytest.importorskip("pyspark", reason="pip install pyspark pyarrow pandas")

from pyspark.sql import SparkSession  # noqa: E402

import argmine  # noqa: E402
from argmine import spark as amspark  # noqa: E402
from conftest import canonical, write_jsonl  # noqa: E402

BAD = [{"id": "blank", "text": "   "}, {"id": "null-text", "text": None}]


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2,4]")
        .appName("argmine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "32")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def articles(snippets):
    return snippets + BAD


@pytest.fixture(scope="module")
def cli_records(cli, articles, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark")
    cli("mine", write_jsonl(folder / "in.jsonl", articles), "-o", folder / "out.jsonl")
    return {r["id"]: canonical(r) for r in argmine.read_jsonl(folder / "out.jsonl")}


def frame(spark, articles, partitions=4):
    rows = spark.sparkContext.parallelize([(a["id"], a["text"]) for a in articles], partitions)
    return spark.createDataFrame(rows, "id string, text string")


def records(df):
    return [(row["id"], canonical(row["argmine"].asDict(recursive=True))) for row in df.collect()]


def test_the_record_column_is_typed_like_the_output_schema():
    names = amspark.record_schema().fieldNames()
    assert names == ["id", "title", "sentences", "graph", "model", "error"]


def test_records_equal_the_cli_output(spark, articles, cli_records):
    assert len(articles) > 150
    mined = amspark.mine(frame(spark, articles), batch_size=16)
    assert mined.columns == ["id", "text", "argmine"]
    got = records(mined)
    assert [i for i, _ in got] == [a["id"] for a in articles]
    assert dict(got) == cli_records
    errors = mined.where("argmine.error IS NOT NULL").select("id", "argmine.error.kind").collect()
    assert {(r["id"], r["kind"]) for r in errors} == {("blank", "empty_text"), ("null-text", "invalid_record")}


def test_a_task_killed_part_way_is_retried_and_every_record_comes_once(spark, articles, cli_records):
    from pyspark import TaskContext
    from pyspark.sql.types import IntegerType, StructField, StructType

    # in the first Arrow batch of the second partition (of 4): its task dies after argmine has
    # mined that batch and before the next
    victim = articles[len(articles) * 3 // 8]["id"]

    def kill_on_first_attempt(batches):
        import pyarrow as pa

        attempt = TaskContext.get().attemptNumber()
        for batch in batches:  # records that argmine has mined, a batch at a time
            if attempt == 0 and victim in batch.column("id").to_pylist():
                os._exit(1)  # the Python worker dies mid-task, as on a lost executor
            yield batch.append_column("attempt", pa.array([attempt] * batch.num_rows, pa.int32()))

    mined = amspark.mine(frame(spark, articles))
    schema = StructType(mined.schema.fields + [StructField("attempt", IntegerType())])
    rows = mined.mapInArrow(kill_on_first_attempt, schema).collect()
    assert max(r["attempt"] for r in rows) == 1, "the killed task ran again"
    got = [(r["id"], canonical(r["argmine"].asDict(recursive=True))) for r in rows]
    assert sorted(i for i, _ in got) == sorted(cli_records)
    assert dict(got) == cli_records


def test_bad_arguments_name_the_columns(spark, articles):
    df = frame(spark, articles[:2])
    with pytest.raises(ValueError, match="body"):
        amspark.mine(df, text_col="body")
    with pytest.raises(ValueError, match="already a column"):
        amspark.mine(df, output_col="text")
