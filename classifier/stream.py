"""JSONL in, labelled JSONL out, batch by batch: memory stays flat however long the input is.

Rows of one `server` are siblings, so a batch only ever ends where the server changes (input grouped by
server, as the catalog and the crawler write it). A server whose rows come back after its batch was written
is labelled with the siblings of its later batch only; the run counts such servers (`split_servers`).
Above PARALLEL_MIN_ROWS rows, batches are labelled in worker processes (at most two batches in flight
per worker) and written in input order. Cutting batches needs only each line's name and server, which are
read without parsing the rest of the line; the full parse happens once, where the batch is labelled.
"""

from __future__ import annotations

import gc
import json
import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

import msgspec
import orjson

BATCH_ROWS = 2048
# Labelling allocates many short-lived objects and few reference cycles: while a stream runs, the young
# generation is collected after this many allocations instead of 700 (CPython's default).
GC_YOUNG_THRESHOLD = 100_000
PARALLEL_MIN_ROWS = 3 * BATCH_ROWS  # below this, starting processes costs more than it saves
# The label as `catalog classify` writes it; p_destructive and possibly_destructive are the cautious reading
# (classifier.caution) that policies act on.
LABEL_KEYS = ("category", "risk", "confidence", "reasons", "p_destructive", "possibly_destructive")


class InputError(ValueError):
    """A line of the input is not a JSON object with a string 'name'."""


@dataclass
class StreamSummary:
    rows: int = 0
    batches: int = 0
    workers: int = 0
    split_servers: int = 0


def _loads(line: bytes) -> Any:
    """orjson where it can (several times faster), the standard library for what orjson refuses (NaN, huge ints)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _head(line: bytes) -> tuple[Any, Any] | None:
    """(name, server) of a JSON object line, decoded without building the rest of the row (msgspec skips
    the other fields, several times faster than a full parse); None when the line is not a plain JSON object
    (the full parse then decides, with its messages)."""
    try:
        head = _head_decoder().decode(line)
    except msgspec.DecodeError:  # also ValidationError: not an object, a number out of range
        return None
    return head.name, head.server


@lru_cache(maxsize=1)
def _head_decoder() -> Any:
    class Head(msgspec.Struct):
        name: Any = None
        server: Any = None

    return msgspec.json.Decoder(Head)


def _dumps(row: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(row) + b"\n"
    except TypeError:  # orjson refuses ints beyond 64 bits and non-string keys
        return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def label_lines(lines: list[bytes]) -> bytes:
    """Label one batch of JSONL lines (whole servers): the same rows with the label keys added, as JSONL."""
    from classifier.labelling import classify

    rows = [_loads(line) for line in lines]
    labels = classify(rows)
    out = []
    for row, label in zip(rows, labels, strict=True):
        for key in LABEL_KEYS:  # in place: the same keys in the same order as a merged copy
            row[key] = label[key]
        out.append(_dumps(row))
    return b"".join(out)


def _batches(
    lines: Iterable[bytes], source: str, batch_rows: int, summary: StreamSummary
) -> Iterator[list[bytes]]:
    """Checked lines, cut into batches of about batch_rows that never split a run of one server's rows."""
    batch: list[bytes] = []
    batch_servers: set[str] = set()
    previous: object = None
    done: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line or line.isspace():  # a blank line, tested without copying it
            continue
        head = _head(line)
        if head is None:
            try:
                row = _loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                message = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
                raise InputError(f"{source}:{number}: not valid JSON ({message})") from None
            head = (row.get("name"), row.get("server")) if isinstance(row, dict) else None
        if head is None or not isinstance(head[0], str):
            raise InputError(f"{source}:{number}: each line must be an object with a string 'name'")
        server = str(head[1] or "")
        if server != previous:
            if len(batch) >= batch_rows:
                done |= batch_servers
                yield batch
                batch, batch_servers = [], set()
            if server in done:
                summary.split_servers += 1
                done.discard(server)  # count each return once
            batch_servers.add(server)
            previous = server
        batch.append(line)
        summary.rows += 1
    if batch:
        yield batch


def _pool(workers: int) -> Any:
    import multiprocessing

    from classifier.labelling import load_bundle

    bundle = load_bundle()  # loaded and indexed once here; forked workers inherit it
    for text_field in bundle.model.fields if bundle else ():
        text_field.prepare()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return context.Pool(workers)


@contextmanager
def _long_lived_model() -> Iterator[None]:
    """The loaded model and lexicon stay for the whole run: frozen out of the garbage collector's scans
    (forked workers inherit that), and young collections run less often. Restored afterwards."""
    from classifier.labelling import load_bundle

    load_bundle()
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(previous[0], GC_YOUNG_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def label_stream(
    lines: Iterable[bytes],
    out: IO[bytes],
    source: str = "-",
    batch_rows: int = BATCH_ROWS,
    workers: int | None = None,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
) -> StreamSummary:
    """Read JSONL lines, write each row with its label keys, in input order; at most a few batches in memory."""
    with _long_lived_model():
        return _label_stream(lines, out, source, batch_rows, workers, parallel_min_rows)


def _label_stream(
    lines: Iterable[bytes],
    out: IO[bytes],
    source: str,
    batch_rows: int,
    workers: int | None,
    parallel_min_rows: int,
) -> StreamSummary:
    summary = StreamSummary()
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    batches = _batches(lines, source, batch_rows, summary)
    head: list[list[bytes]] = []
    for batch in batches:  # look ahead: start processes only for inputs long enough to pay for them
        head.append(batch)
        if sum(map(len, head)) >= parallel_min_rows:
            break
    parallel = workers > 1 and sum(map(len, head)) >= parallel_min_rows
    if not parallel:
        for batch in _chain(head, batches):
            out.write(label_lines(batch))
            summary.batches += 1
        return summary
    summary.workers = workers
    pool = _pool(workers)
    try:
        pending: deque[Any] = deque()
        for batch in _chain(head, batches):
            pending.append(pool.apply_async(label_lines, (batch,)))
            while len(pending) >= 2 * workers:
                out.write(pending.popleft().get())
                summary.batches += 1
        while pending:
            out.write(pending.popleft().get())
            summary.batches += 1
    finally:
        pool.terminate()
        pool.join()
    return summary


def _chain(head: list[list[bytes]], rest: Iterator[list[bytes]]) -> Iterator[list[bytes]]:
    while head:
        yield head.pop(0)
    yield from rest
