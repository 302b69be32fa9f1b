"""The numpy model's fast paths against their plain references, and the stream's quick read of each line.

Outcomes only: each fast path must give what the plain rule gives (scikit-learn's own equality with the
numpy model on dev.jsonl is in test_classifier.py).
"""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest

from classifier import model as model_module
from classifier import stream
from classifier.labelling import load_bundle


def char_field() -> model_module.TextField:
    bundle = load_bundle()
    assert bundle is not None
    return next(f for f in bundle.model.fields if f.analyzer == "char_wb")


def fresh(field: model_module.TextField) -> model_module.TextField:
    """The same vocabulary in a new field: empty word cache, nothing indexed yet."""
    return model_module.TextField(
        field.name, field.analyzer, field.ngram_range, field.token_pattern, field.vocabulary, field.idf, 0
    )


def per_word(columns: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    out, start = [], 0
    for count in counts.tolist():
        out.append(sorted(columns[start : start + count].tolist()))
        start += count
    return out


def odd_words() -> list[str]:
    rng = random.Random(7)
    alphabet = "abcdefgh_-|0123456789éü\u03c3\u03c2\u0130\U0001f600"
    words = ["a", "ab", "abc", "delete", "project_id", "|", "é", "x\ud800y", "\U0001f600", "ſ", "k8s"]
    words += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(500)]
    return words


def test_char_ngrams_computed_in_numpy_are_those_of_the_plain_rule():
    field = fresh(char_field())
    assert field._index_chars(), "the shipped vocabulary's characters fit the integer n-gram keys"
    words = odd_words()
    assert per_word(*field._char_grams_numpy(words)) == per_word(*field._char_grams_python(words))
    assert per_word(*field._char_grams_numpy(words)).count([]) < len(words)  # the words do hit the vocabulary


def test_the_per_word_cache_gives_the_same_columns_when_it_overflows(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(model_module, "WORD_CACHE_LIMIT", 50)
    monkeypatch.setattr(model_module, "NUMPY_MIN_WORDS", 8)
    shipped = char_field()
    texts = [" ".join(odd_words()[i : i + 6]) + f" | get item{i}" for i in range(0, 300, 3)]
    cached = fresh(shipped)
    batches = [texts[i : i + 20] for i in range(0, len(texts), 20)]
    for batch in batches + batches:  # the second pass reads words cached, evicted and recomputed
        rows, columns = cached.columns(batch)
        assert len(cached._word_cache) <= 50 + len({w for t in batch for w in t.lower().split()})
        expected_rows, expected_columns = fresh(shipped).columns(batch)
        got = sorted(zip(rows.tolist(), columns.tolist(), strict=True))
        assert got == sorted(zip(expected_rows.tolist(), expected_columns.tolist(), strict=True))
    # and the plain rule, word by word, agrees with the batch
    plain = fresh(shipped)
    words = texts[0].lower().split()
    columns, counts = plain._char_grams_python(words)
    rows, batch_columns = fresh(shipped).columns([texts[0]])
    assert sorted(batch_columns.tolist()) == sorted(columns.tolist()) and int(counts.sum()) == len(rows)


def label_keys(out: bytes) -> list[dict]:
    return [{k: row[k] for k in ("name", *stream.LABEL_KEYS)} for row in map(json.loads, out.splitlines())]


def test_lines_the_quick_reader_cannot_take_are_read_as_before():
    lines = [
        b'{"server": "s", "name": "get_a", "score": NaN}\n',  # not JSON to msgspec or orjson; json reads it
        b'{"server": "s", "name": "drop_b", "name": "delete_b"}\n',  # duplicate key: the last one counts
        b'{"server": "s", "name": "get_c", "big": 123456789012345678901234567890}\n',
        b'{"server": "t", "name": "list_d", "limit": 1e400}\n',
    ]
    out = io.BytesIO()
    summary = stream.label_stream(lines, out, workers=1)
    labels = label_keys(out.getvalue())
    assert [label["name"] for label in labels] == ["get_a", "delete_b", "get_c", "list_d"]
    assert labels[1]["category"] == "destructive" and summary.rows == 4 and summary.split_servers == 0


def test_a_stream_leaves_the_garbage_collector_as_it_found_it():
    """label_stream freezes the loaded model out of the collector and collects less often while it runs;
    afterwards (also after a bad line) the thresholds and the frozen generation are as before."""
    import gc

    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    stream.label_stream([b'{"server": "s", "name": "get_x"}\n'], io.BytesIO(), workers=1)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    with pytest.raises(stream.InputError):
        stream.label_stream([b'{"name": 3}\n'], io.BytesIO(), workers=1)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"name": \n', "not valid JSON"),
        (b'{"name": "x"} trailing\n', "not valid JSON"),
        (b'{"name": "\xff"}\n', "not valid JSON (not UTF-8)"),
        (b'["name"]\n', "must be an object with a string 'name'"),
        (b'{"name": 3}\n', "must be an object with a string 'name'"),
        (b'{"server": "s"}\n', "must be an object with a string 'name'"),
    ],
)
def test_a_bad_line_is_named_with_its_number(line: bytes, message: str):
    lines = [b'{"server": "s", "name": "get_x"}\n', line]
    with pytest.raises(
        stream.InputError, match=f"^in.jsonl:2: .*{message.replace('(', '.').replace(')', '.')}"
    ):
        stream.label_stream(lines, io.BytesIO(), source="in.jsonl", workers=1)


def test_word_ngrams_of_a_large_batch_are_those_of_one_text_at_a_time():
    """A batch of BATCH_MIN_TEXTS or more goes through the token index and numpy bigram keys; fewer texts
    (one tool) are looked up one n-gram at a time. Both give the same columns for every text."""
    from classifier import DATA_DIR
    from classifier.features import build_features, model_text

    bundle = load_bundle()
    assert bundle is not None
    field = next(f for f in bundle.model.fields if f.analyzer == "word")
    rows = [json.loads(line) for line in (DATA_DIR / "seed.jsonl").read_text().splitlines() if line.strip()]
    texts = [model_text(f)[1] for f in build_features(rows)]
    texts += ["don't x'y ab'' ''ab é\u00e9t\u00e9 \u03a3\u03c3 delete the run", "", "a", "run run run"]
    assert len(texts) >= model_module.BATCH_MIN_TEXTS
    rows_batch, columns_batch = fresh(field).columns(texts)
    one_by_one = fresh(field)
    expected = []
    for index, text in enumerate(texts):
        _, columns = one_by_one.columns([text])
        expected += [(index, column) for column in columns.tolist()]
    assert sorted(zip(rows_batch.tolist(), columns_batch.tolist(), strict=True)) == sorted(expected)
    assert any(" " in term for term, column in field.vocabulary.items() if column in set(columns_batch.tolist()))


def test_ascii_texts_are_cut_into_the_tokens_of_the_token_pattern():
    """The byte-translation split of ASCII text gives what the vectorizer's regular expression finds, looked up
    in the token index."""
    import re

    bundle = load_bundle()
    assert bundle is not None
    field = next(f for f in bundle.model.fields if f.analyzer == "word")
    assert field._ascii_tokens, "the shipped model uses the apostrophe token pattern"
    rng = random.Random(11)
    alphabet = "aB9_' -.,;:!?\"()[]{}\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00~"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["don't x'y ab'' ''ab a' 'a __ _ a_b ' '' a'b'c Delete_All the RUN's", "", "a", "é l'été"]
    texts += [" ".join(random.Random(i).sample(sorted(field.vocabulary), 12)) for i in range(50)]  # known ones
    pattern = re.compile(field.token_pattern)
    field.prepare()
    index = field._token_index
    expected = [[index.get(token, -1) for token in pattern.findall(text.lower())] for text in texts]
    assert [field._token_ids(text) for text in texts] == expected
    assert sum(i >= 0 for ids in expected for i in ids) > 100  # the texts do hit the index
