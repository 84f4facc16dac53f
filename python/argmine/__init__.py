"""argmine from Python: sentence labels and argument graphs for articles.

>>> import argmine
>>> model = argmine.Model()                      # the bundled model
>>> record = model.mine(text, title="...")       # one record, as `argmine mine` writes it
>>> graph = argmine.to_networkx(record)          # thesis, edges and attributes

A record is the JSON object of one `argmine mine` output line, as a dict (format:
docs/output-format.md): a mined article, or ``{"id": ..., "error": {"kind", "message"}}`` for
an article that could not be mined. Mining never raises for a bad article; it returns its
error record, so nothing is lost from a stream.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

from . import _argmine

__all__ = ["Model", "read_jsonl", "to_aif", "to_networkx", "export", "default_model_dir"]

Record = Dict[str, Any]
Article = Union[str, Dict[str, Any]]


def default_model_dir() -> str:
    """The model `Model()` loads: ``ARGMINE_MODEL`` if set, else the bundled one."""
    return os.environ.get("ARGMINE_MODEL") or _argmine.default_model_dir()


class Model:
    """A model loaded for mining.

    ``path`` is a model directory (default: :func:`default_model_dir`); ``backend`` the
    encoder backend (``"candle-int8"``, ``"candle"``, or one the extension was built with); ``batch_size`` the
    sentences per encoder batch.
    """

    def __init__(
        self,
        path: Optional[Union[str, "os.PathLike[str]"]] = None,
        backend: str = "candle-int8",
        *,
        batch_size: int = 32,
    ) -> None:
        if not isinstance(backend, str):
            raise TypeError(f"backend must be a str such as 'candle', not {type(backend).__name__}")
        _check_positive("batch_size", batch_size)
        path = default_model_dir() if path is None else os.fspath(path)
        self._engine = _argmine.Engine(path, backend, batch_size)

    @property
    def path(self) -> str:
        """The model directory."""
        return str(self._engine.path)

    @property
    def backend(self) -> str:
        """The encoder backend."""
        return self._engine.backend

    def __repr__(self) -> str:
        name, revision = self._engine.info
        return f"argmine.Model({self.path!r}, backend={self.backend!r}) # {name} {revision}"

    def mine(self, text: str, title: Optional[str] = None, id: Optional[str] = None) -> Record:
        """Mines one article; returns its record (an error record if it cannot be mined).
        The record's id is ``id``, or ``"article"`` without one."""
        for name, value, optional in (("text", text, False), ("title", title, True), ("id", id, True)):
            if not (isinstance(value, str) or (optional and value is None)):
                kind = "a str or None" if optional else "a str"
                raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
        article = {"id": "article" if id is None else id, "text": text}
        if title is not None:
            article["title"] = title
        return next(self._stream(iter([article]), 1, None, 1))

    def mine_many(
        self,
        articles: Iterable[Article],
        batch_size: int = 64,
        threads: Optional[int] = None,
        *,
        first: int = 1,
    ) -> Iterator[Record]:
        """Mines a stream of articles lazily, yielding one record per article, in order.

        An article is a dict shaped like a line of `argmine mine`'s JSONL input (``id``,
        ``text``, optional ``title``; other keys come back as the record's ``meta``) or a str
        of text (its id is its position). ``batch_size`` articles are mined together, their
        sentences sharing encoder batches, with the GIL released; memory stays flat however
        long the stream. ``threads`` sizes a pool of worker threads for this call (default:
        all cores). An article that cannot be mined gives the same error record as on the
        command line; one without a usable id is named ``input:N`` by its position N, counted
        from ``first``.
        """
        _check_positive("batch_size", batch_size)
        if threads is not None:
            _check_positive("threads", threads)
        _check_positive("first", first)
        pool = _argmine.ThreadPool(threads) if threads is not None else None
        return self._stream(iter(articles), batch_size, pool, first)

    def _stream(self, items: Iterator[Any], batch_size: int, pool: Any, first: int) -> Iterator[Record]:
        while True:
            chunk = list(itertools.islice(items, batch_size))
            if not chunk:
                return
            lines = [_jsonl_line(a, first + k) for k, a in enumerate(chunk)]
            for line in self._engine.mine_lines(lines, first, pool):
                yield json.loads(line)
            first += len(chunk)


def _check_positive(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")


def _jsonl_line(article: Any, position: int) -> str:
    """One article as a JSONL input line. Values JSON cannot hold are written as their
    ``str()``; anything but a dict or a str becomes a line the parser rejects as not a
    record, exactly as on the command line."""
    if isinstance(article, str):
        return json.dumps({"id": str(position), "text": article})
    return json.dumps(article, default=str)


def export(record: Record, format: str) -> Dict[str, str]:
    """A mined record in one of `argmine export`'s formats (aif, xaif, graphml, nodelink,
    dot, brat), as ``{file-name suffix: contents}``: brat gives ``txt`` and ``ann``, the
    others one file. Raises ValueError for an error record or an unknown format."""
    _check_record(record)
    return dict(_argmine.export(json.dumps(record), format))


def to_aif(record: Record) -> Dict[str, Any]:
    """The record's argument graph as AIF-JSON (what AIFdb serves and OVA loads)."""
    (contents,) = export(record, "aif").values()
    return json.loads(contents)


def to_networkx(record: Record) -> "Any":
    """The record's argument graph as a ``networkx.DiGraph``.

    Nodes are sentence indices (the thesis, every edge's ends, and the argumentative sentences
    left unattached) with ``label``, ``confidence``, ``role``, ``start``, ``end`` and ``text``;
    edges run from the supporting
    or attacking sentence to its target, with ``relation`` and ``confidence``; the graph's
    ``id`` and ``thesis`` are in ``graph.graph``.
    """
    import networkx as nx

    (contents,) = export(record, "nodelink").values()
    return nx.node_link_graph(json.loads(contents), edges="links")


def read_jsonl(path: Union[str, "os.PathLike[str]"]) -> Iterator[Record]:
    """The records of an `argmine mine` output file, lazily. A line that is not a JSON
    object raises ValueError naming the file and line."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{os.fspath(path)}:{n}: not a JSON record: {err}") from None
            if not isinstance(record, dict):
                raise ValueError(f"{os.fspath(path)}:{n}: a record must be a JSON object")
            yield record


def _check_record(record: Any) -> None:
    if not isinstance(record, dict):
        raise TypeError(f"a record must be a dict (as Model.mine returns), not {type(record).__name__}")
