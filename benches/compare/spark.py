#!/usr/bin/env python3
"""argmine on a local Spark next to the command line, on the same corpus, in one run.

    cargo build --release
    pip install ./python pyspark==3.5.7 pyarrow==21.0.0 pandas==2.3.3
    python3 benches/compare/spark.py              # prints a Markdown table

The corpus is `argmine bench`'s default: the bundled samples read 5 times over (30 articles,
2,205 sentences), as JSONL records with distinct ids. Runs alternate, command line then Spark,
`--runs` times; each figure is the median rate in sentences per second.

- command line: `argmine mine corpus.jsonl -o out.jsonl`, the whole process (model load
  included), as a user runs it;
- Spark `local[2]`: `argmine.spark.mine` over a DataFrame of the corpus in 2 partitions, written
  to Spark's `noop` sink so that every record is built and nothing is kept. "first job" is the
  first run in a fresh session (the Python workers start and load the model), "warm" the runs
  after it (workers and models reused); the session's own start is not counted in either.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def corpus(path):
    """The samples read 5 times over, as JSONL (the title is the first line, as for files)."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for copy in range(5):
            for sample in sorted((ROOT / "datasets/samples").glob("*.txt")):
                title, _, body = sample.read_text(encoding="utf-8").partition("\n")
                f.write(json.dumps({"id": f"{copy}-{sample.name}", "title": title, "text": body}) + "\n")
                n += 1
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default=str(ROOT / "target/release/argmine"))
    args = parser.parse_args()

    import pyarrow as pa
    from pyspark.sql import SparkSession

    import argmine
    from argmine import spark as amspark

    work = pathlib.Path(tempfile.mkdtemp())
    jsonl = work / "corpus.jsonl"
    articles = corpus(jsonl)
    records = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    sentences = None

    def cli():
        nonlocal sentences
        started = time.perf_counter()
        subprocess.run([args.binary, "mine", str(jsonl), "-o", str(work / "out.jsonl")], check=True, capture_output=True)
        seconds = time.perf_counter() - started
        sentences = sum(len(r.get("sentences", [])) for r in argmine.read_jsonl(work / "out.jsonl"))
        return seconds

    os.environ["PYSPARK_PYTHON"] = sys.executable
    started = time.perf_counter()
    session = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session_start = time.perf_counter() - started
    df = session.createDataFrame(
        session.sparkContext.parallelize([(r["id"], r["title"], r["text"]) for r in records], 2),
        "id string, title string, text string",
    ).cache()
    df.count()

    def spark():
        started = time.perf_counter()
        amspark.mine(df, title_col="title").write.format("noop").mode("overwrite").save()
        return time.perf_counter() - started

    cli_times, spark_times = [], []
    for run in range(args.runs + 1):  # Spark's first job is reported apart
        cli_times.append(cli())
        spark_times.append(spark())
    first_job, warm = spark_times[0], spark_times[1:]
    cli_rate = sentences / statistics.median(cli_times[1:])
    rows = [
        ("command line (`argmine mine`)", statistics.median(cli_times[1:]), cli_rate),
        ("Spark `local[2]`, first job", first_job, sentences / first_job),
        ("Spark `local[2]`, warm", statistics.median(warm), sentences / statistics.median(warm)),
    ]
    print(f"{articles} articles, {sentences} sentences; {args.runs} runs each; Spark session start {session_start:.1f} s\n")
    started = time.perf_counter()
    model = argmine.Model()
    load = time.perf_counter() - started
    lines = open(work / "out.jsonl", encoding="utf-8").read().splitlines()
    started = time.perf_counter()
    column = pa.array([json.loads(line) for line in lines], type=amspark.record_arrow_type())
    convert = time.perf_counter() - started
    assert len(column) == articles and model.backend == "candle-int8"
    print("| system | seconds | sentences/s | × command line |")
    print("|---|---:|---:|---:|")
    for name, seconds, rate in rows:
        print(f"| {name} | {seconds:.1f} | {rate:.1f} | {rate / cli_rate:.2f} |")
    print(f"\nRecords to dicts and an Arrow column: {convert:.2f} s; model load: {load:.2f} s per worker.")
    session.stop()


if __name__ == "__main__":
    main()
