"""argmine on Apache Spark: mine the articles of a DataFrame.

>>> from argmine import spark as amspark
>>> mined = amspark.mine(df, text_col="text", id_col="id", title_col="title")
>>> mined.select("id", "argmine.graph.thesis", "argmine.error.kind").show()

:func:`mine` runs with ``mapInArrow``: each Python worker loads the model once and mines the
rows of an Arrow batch together, so encoder batches span rows. The output is the input with
one struct column typed like the output record (:func:`record_schema`, derived from
``docs/output.schema.json``); a row that cannot be mined gets a null ``sentences`` and an
``error`` struct, never an exception. Records depend only on the row, the model and the
backend (not on batching or threads; a row without an id is named ``input:N`` by its position
N in its partition), so a retried task writes the same rows.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, Optional, Tuple

from . import Model, _argmine, _check_positive

__all__ = ["mine", "record_schema", "record_arrow_type"]


def record_arrow_type() -> "Any":
    """The Arrow struct type of a record: the properties of a mined record and of an error
    record in one struct (each absent part null), read from ``docs/output.schema.json``.
    ``meta`` is left out: the input's other columns stay beside the record."""
    import pyarrow as pa

    schema = json.loads(_argmine.output_schema())
    defs = schema["$defs"]

    def resolve(node: Dict[str, Any]) -> Dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        return node

    def arrow(node: Dict[str, Any]) -> "pa.DataType":
        node = resolve(node)
        if "enum" in node:
            return pa.string()
        kind = node["type"]
        if isinstance(kind, list):  # ["integer", "null"]: nullable, as every field is
            (kind,) = [k for k in kind if k != "null"]
        if kind == "object":
            return pa.struct(
                [pa.field(name, arrow(prop)) for name, prop in node["properties"].items() if name != "meta"]
            )
        if kind == "array":
            return pa.list_(arrow(node["items"]))
        return {"integer": pa.int64(), "number": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}[kind]

    fields: Dict[str, pa.Field] = {}
    for variant in schema["oneOf"]:
        for field in arrow(variant):
            fields.setdefault(field.name, field)
    return pa.struct(list(fields.values()))


def record_schema() -> "Any":
    """The Spark type of a record (:func:`record_arrow_type`, converted by PySpark)."""
    from pyspark.sql.pandas.types import from_arrow_type

    return from_arrow_type(record_arrow_type())


def mine(
    df: "Any",
    text_col: str = "text",
    id_col: str = "id",
    title_col: Optional[str] = None,
    model: Optional[str] = None,
    batch_size: int = 64,
    *,
    backend: str = "candle-int8",
    threads: Optional[int] = None,
    output_col: str = "argmine",
) -> "Any":
    """Returns ``df`` with ``output_col`` holding each row's record.

    ``model`` is a model directory as the workers see it (default: each worker's
    ``ARGMINE_MODEL``, else the bundled model); on a cluster, ship it with ``--archives`` and
    name the unpacked folder. ``batch_size`` rows are mined together. ``threads`` is the
    threads each task mines with (default: ``spark.task.cpus``).
    """
    for name, col in (("text_col", text_col), ("id_col", id_col), ("title_col", title_col)):
        if col is not None and col not in df.columns:
            raise ValueError(f"{name}={col!r} is not a column of the DataFrame; it has {df.columns}")
    if output_col in df.columns:
        raise ValueError(f"output_col={output_col!r} is already a column; choose another name")
    _check_positive("batch_size", batch_size)
    if threads is not None:
        _check_positive("threads", threads)
    from pyspark.sql.types import StructField, StructType

    schema = StructType(df.schema.fields + [StructField(output_col, record_schema(), nullable=False)])
    arrow_type = record_arrow_type()
    settings = (model, backend)

    def mine_batches(batches: Iterator["Any"]) -> Iterator["Any"]:
        import pyarrow as pa
        from pyspark import TaskContext

        worker = _worker_model(settings)
        task = TaskContext.get()
        n = threads or (task.cpus() if task is not None else None)
        position = 1  # of the row in the task's partition: names rows without an id
        for batch in batches:
            texts = batch.column(text_col).to_pylist()
            ids = batch.column(id_col).to_pylist()
            titles = batch.column(title_col).to_pylist() if title_col else [None] * len(texts)
            # as JSONL records: a null text or id fails as it does on the command line
            articles = [{"id": i, "text": t, "title": title} for i, t, title in zip(ids, texts, titles)]
            records = list(worker.mine_many(articles, batch_size=batch_size, threads=n, first=position))
            position += len(records)
            column = pa.array(records, type=arrow_type)
            yield pa.RecordBatch.from_arrays(batch.columns + [column], names=batch.schema.names + [output_col])

    return df.mapInArrow(mine_batches, schema)


_MODELS: Dict[Tuple[Optional[str], str], Model] = {}


def _worker_model(settings: Tuple[Optional[str], str]) -> Model:
    """The model of this Python worker, loaded on its first task and kept for the next."""
    if settings not in _MODELS:
        path, backend = settings
        _MODELS[settings] = Model(path, backend)
    return _MODELS[settings]
