"""The learned part at run time: TF-IDF + logistic regression held as plain numpy arrays (classifier/model.npz).

Training (classifier/training.py, with scikit-learn) exports the fitted pipeline into the arrays kept here;
predicting needs numpy only. The file is an .npz read with allow_pickle=False: a JSON header (format,
classes, vectorizer settings, training stats) plus vocabularies, idf weights, coefficients, intercepts and
the confidence calibrators' points. Nothing in it can run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import ToolFeatures, model_text

CLASSES = ("read", "write", "destructive")
MODEL_PATH = Path(__file__).resolve().parent / "model.npz"  # package data: ships inside the wheel
FORMAT = "mcp-catalog/tfidf-logreg/1"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_TERM_SEPARATOR = "\n"
BATCH_MIN_TEXTS = 32  # fewer texts (one tool): n-grams looked up one by one, no index built at load
NUMPY_MIN_WORDS = 64  # fewer new words than this (one tool): the Python path, without building the char index
WORD_CACHE_LIMIT = 20_000  # char n-gram columns cached per distinct word; bounded, so memory stays flat

# The word fields' token pattern (classifier.training.TOKEN_PATTERN): a word character, then word characters or
# apostrophes, ending on a word character. TextField cuts ASCII text into these tokens without the regex.
APOSTROPHE_TOKEN_PATTERN = r"(?u)\b\w[\w']+\b"
# ASCII lower-cased, and every character that cannot be part of such a token (not a letter, digit, '_' or "'")
# turned into a space
_LOWER_TOKEN_BYTE = bytes(
    ord(chr(code).lower()) if code < 128 and (chr(code).isalnum() or chr(code) in "_'") else ord(" ")
    for code in range(256)
)


@dataclass(frozen=True)
class Calibrator:
    """An isotonic map from raw to calibrated confidence: clip to [x_min, x_max], interpolate linearly."""

    x: np.ndarray
    y: np.ndarray
    x_min: float
    x_max: float

    def predict(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if len(self.y) == 1:
            return np.full(raw.shape, float(self.y[0]))
        return np.interp(np.clip(raw, self.x_min, self.x_max), self.x, self.y)


@dataclass
class TextField:
    """One TF-IDF vectorizer: its vocabulary (term -> column), idf weights and analyzer settings.

    Sublinear tf (1 + log count), times idf, rows scaled to unit L2 norm: the settings training uses.
    """

    name: str
    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    token_pattern: str
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # first column of this field in the model's coefficients
    _word_cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._token = re.compile(self.token_pattern)
        self._pairs = self.analyzer == "word" and self.ngram_range == (1, 2)
        self._ascii_tokens = self.token_pattern == APOSTROPHE_TOKEN_PATTERN
        self._tokens_indexed = False  # the (1, 2)-gram index is built at the first batch of BATCH_MIN_TEXTS
        # whether new words' char n-grams are computed in numpy: decided (and indexed) at the first large batch
        self._char_vectorized: bool | None = None

    def _index_tokens(self) -> None:
        """For (1, 2)-grams: an index for every token that is a unigram term or half of a bigram term, with the
        token's unigram column as an array (-1: none), and the bigrams as sorted keys of index pairs. A batch's
        tokens are then looked up once each, and its bigrams matched at once in numpy."""
        unigrams = [term for term in self.vocabulary if " " not in term]
        bigrams = [term for term in self.vocabulary if " " in term]
        halves = [term.split(" ", 1) for term in bigrams]
        known = dict.fromkeys(unigrams)
        known.update(dict.fromkeys(chain.from_iterable(halves)))
        index = self._token_index = dict(zip(known, range(len(known)), strict=True))
        # the same for ASCII text read as bytes (a non-ASCII token cannot occur in it)
        self._ascii_token_index = {
            token.encode("ascii"): at for token, at in index.items() if token.isascii()
        }
        self._token_count = max(len(known), 1)
        # the last entry answers index -1 (a token the model does not know): no column
        self._unigram_of = np.array([*map(self.vocabulary.get, known, repeat(-1)), -1], dtype=np.int64)
        pairs = np.array([[index[first], index[second]] for first, second in halves], dtype=np.int64)
        keys = pairs[:, 0] * self._token_count + pairs[:, 1] if len(halves) else np.zeros(0, dtype=np.int64)
        order = np.argsort(keys)
        self._bigram_keys = keys[order]
        self._bigram_columns = np.array(list(map(self.vocabulary.__getitem__, bigrams)), dtype=np.int64)[
            order
        ]

    def prepare(self) -> None:
        """Build now the indexes a first large batch would build (forked workers then share them)."""
        if self._pairs and not self._tokens_indexed:
            self._index_tokens()
            self._tokens_indexed = True
        if self.analyzer == "char_wb" and self._char_vectorized is None:
            self._char_vectorized = self._index_chars()

    @property
    def size(self) -> int:
        return len(self.idf)

    def _char_grams_python(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the words' char n-grams (each word padded by a space each side), word after word, and
        how many belong to each word: the vectorizer's rule written out (the reference for the numpy path)."""
        low, high = self.ngram_range
        grams: list[str] = []
        counts = []
        for word in words:
            padded = f" {word} "
            length = len(padded)
            before = len(grams)
            for n in range(low, high + 1):
                if length <= n:  # a short word counts once, whole
                    grams.append(padded)
                    break
                grams += [padded[start : start + n] for start in range(length - n + 1)]
            counts.append(len(grams) - before)
        found = np.fromiter(map(self.vocabulary.get, grams, repeat(-1)), dtype=np.intc, count=len(grams))
        known = found >= 0
        word_of = np.repeat(np.arange(len(words)), counts)[known]
        return found[known], np.bincount(word_of, minlength=len(words))

    def _index_chars(self) -> bool:
        """For char n-grams: every character of the vocabulary gets a small id (1..K; 0 = a character no term
        has), so an n-gram is exactly one integer (its ids in `bits`-bit digits), and the vocabulary a sorted
        array of those integers. False when they would not fit in 63 bits, or when short words are counted
        whole (a lowest n above 3): then the Python path is used."""
        low, high = self.ngram_range
        alphabet = sorted(set(chain.from_iterable(self.vocabulary)))
        bits = len(alphabet).bit_length()
        if bits * high > 63 or low > 3 or not alphabet:
            return False
        table = np.zeros(ord(alphabet[-1]) + 1, dtype=np.int64)
        table[[ord(c) for c in alphabet]] = np.arange(1, len(alphabet) + 1)
        self._char_table, self._char_bits = table, bits
        terms = list(self.vocabulary)
        ids, starts, lengths = self._char_ids(terms)
        keys = np.zeros(len(terms), dtype=np.int64)
        for j in range(high):
            longer = lengths > j
            keys[longer] |= ids[starts[longer] + j] << (bits * j)
        order = np.argsort(keys)
        self._char_keys = keys[order]
        self._char_key_columns = np.fromiter(self.vocabulary.values(), dtype=np.intc, count=len(terms))[order]
        return True

    def _char_ids(self, strings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The strings' characters as ids, end to end, with each string's start and length."""
        joined = "".join(strings).encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(joined, dtype=np.uint32).astype(np.int64)
        table = self._char_table
        ids = np.where(codes < len(table), table[np.minimum(codes, len(table) - 1)], 0)
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        return ids, np.cumsum(lengths) - lengths, lengths

    def _char_grams_numpy(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """What _char_grams_python gives, for all the words at once: each n-gram of length n (from the lowest
        n up to the word's padded length, at most the highest) as one integer, looked up in the sorted keys."""
        low, high = self.ngram_range
        bits = self._char_bits
        ids, starts, lengths = self._char_ids([f" {word} " for word in words])
        word_at = np.repeat(np.arange(len(words)), lengths)
        offset = np.arange(len(ids)) - starts[word_at]
        room = lengths[word_at] - offset  # characters from each position to its word's end
        found_words, found_columns = [], []
        for n in range(low, high + 1):
            at = np.flatnonzero(room >= n)
            if not len(at):
                break
            keys = np.zeros(len(at), dtype=np.int64)
            whole = np.ones(len(at), dtype=bool)
            for j in range(n):
                digit = ids[at + j]
                whole &= digit > 0
                keys |= digit << (bits * j)
            place = _search_sorted(self._char_keys, keys)
            place[place == len(self._char_keys)] = 0
            known = whole & (self._char_keys[place] == keys)
            found_words.append(word_at[at[known]])
            found_columns.append(self._char_key_columns[place[known]])
        word_of = np.concatenate(found_words) if found_words else np.zeros(0, dtype=np.int64)
        columns = np.concatenate(found_columns) if found_columns else np.zeros(0, dtype=np.intc)
        order = np.argsort(word_of, kind="stable")
        return columns[order], np.bincount(word_of, minlength=len(words))

    def _cache_char_columns(self, words: set[str]) -> None:
        """Compute the columns of these words' char n-grams and cache them per word as int32 bytes."""
        ordered = list(words)
        if self._char_vectorized is None and len(ordered) >= NUMPY_MIN_WORDS:
            self._char_vectorized = self._index_chars()
        if self._char_vectorized and len(ordered) >= NUMPY_MIN_WORDS:
            columns, counts = self._char_grams_numpy(ordered)
        else:
            columns, counts = self._char_grams_python(ordered)
        buffer = np.ascontiguousarray(columns, dtype=np.intc).tobytes()
        size = np.dtype(np.intc).itemsize
        start = 0
        for word, end in zip(ordered, np.cumsum(counts).tolist(), strict=True):
            self._word_cache[word] = buffer[start * size : end * size]
            start = end

    def _char_columns(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text lower-cased and split on whitespace once; every word's columns come from a per-word cache
        and are joined as bytes. When the cache is full, only the words of the current batch stay in it, so
        memory stays flat and the common words stay cached."""
        words_of = [text.lower().split() for text in texts]
        words = list(chain.from_iterable(words_of))
        distinct = set(words)
        missing = distinct.difference(self._word_cache)
        if missing:
            if len(self._word_cache) + len(missing) > WORD_CACHE_LIMIT:
                kept = distinct - missing
                self._word_cache = {word: self._word_cache[word] for word in kept}
            self._cache_char_columns(missing)
        found = list(map(self._word_cache.__getitem__, words))
        columns = np.frombuffer(b"".join(found), dtype=np.intc).astype(np.int64)
        per_word = (
            np.fromiter(map(len, found), dtype=np.int64, count=len(found)) // np.dtype(np.intc).itemsize
        )
        per_text = np.fromiter(map(len, words_of), dtype=np.int64, count=len(words_of))
        word_rows = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        return np.repeat(word_rows, per_word), columns

    def _word_row(self, text: str, out: list[int]) -> None:
        """Unigram then n-gram columns of the text's tokens (the vectorizer's token pattern, lower-cased)."""
        tokens = self._token.findall(text.lower())
        get = self.vocabulary.get
        found = list(map(get, tokens))
        low, high = self.ngram_range
        if high >= 2 and len(tokens) > 1:
            for n in range(max(2, low), high + 1):
                found += map(get, map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
        out += [c for c in found if c is not None]

    def _token_ids(self, text: str) -> list[int]:
        """The token index of each of the text's tokens (lower-cased; -1: a token the model does not know).
        For ASCII text and the training's token pattern (a word character, then word characters or apostrophes,
        ending on a word character) without the regular expression: one byte translation lower-cases it and
        turns every other character into a space, and each run left, stripped of apostrophes, is a token when
        it has two characters or more (looked up as bytes)."""
        if not (self._ascii_tokens and text.isascii()):
            index = self._token_index
            return [index.get(token, -1) for token in self._token.findall(text.lower())]
        ascii_index = self._ascii_token_index
        translated = text.encode("ascii").translate(_LOWER_TOKEN_BYTE)
        runs = translated.split()
        if b"'" in translated:
            runs = [run.strip(b"'") for run in runs]
        return [ascii_index.get(run, -1) for run in runs if len(run) > 1]

    def _pair_columns(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All the batch's tokens looked up at once (one dict lookup each); unigram columns and bigram id pairs
        of neighbouring tokens of one text follow in numpy."""
        ids_of = list(map(self._token_ids, texts))
        per_text = np.fromiter(map(len, ids_of), dtype=np.int64, count=len(ids_of))
        index = np.fromiter(chain.from_iterable(ids_of), dtype=np.int64, count=int(per_text.sum()))
        token_rows = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        unigrams = self._unigram_of[index]
        has_unigram = unigrams >= 0
        first, second = index[:-1], index[1:]
        usable = (first >= 0) & (second >= 0) & (token_rows[:-1] == token_rows[1:])
        keys = first[usable] * self._token_count + second[usable]
        pair_rows = token_rows[:-1][usable]
        at = _search_sorted(self._bigram_keys, keys)
        at[at == len(self._bigram_keys)] = 0
        known = self._bigram_keys[at] == keys if len(self._bigram_keys) else np.zeros(len(keys), dtype=bool)
        rows = np.concatenate([token_rows[has_unigram], pair_rows[known]])
        columns = np.concatenate([unigrams[has_unigram], self._bigram_columns[at[known]]])
        return rows, columns

    def columns(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every row's n-gram columns (with repeats), flat, and the row each belongs to."""
        if self._pairs and len(texts) >= BATCH_MIN_TEXTS:
            if not self._tokens_indexed:
                self._index_tokens()
                self._tokens_indexed = True
            return self._pair_columns(texts)
        if self.analyzer == "char_wb":
            return self._char_columns(texts)
        flat: list[int] = []
        ends = []
        for text in texts:
            self._word_row(text, flat)
            ends.append(len(flat))
        lengths = np.diff(np.array(ends, dtype=np.int64), prepend=0)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)  # type: ignore[arg-type]  # numpy's stubs type np.diff of int64 as timedelta64
        return rows, np.array(flat, dtype=np.int64)

    def weights(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, tf-idf weight) of every non-zero in the batch, each row at unit L2 norm."""
        rows, columns = self.columns(texts)
        if not len(columns):
            empty = np.zeros(0)
            return rows, columns, empty
        keys = rows * self.size + columns
        if len(texts) * self.size < 2**31:  # numpy sorts 32-bit keys several times faster
            keys = keys.astype(np.int32)
        keys, counts = _counted(keys)
        rows, columns = np.divmod(keys.astype(np.int64), self.size)
        values = (np.log(counts) + 1.0) * self.idf[columns]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
        return rows, columns, values / norms[rows]


def _search_sorted(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """np.searchsorted(haystack, needles), the needles looked up in sorted order: several times faster for
    many needles, whose searches then walk the haystack in order."""
    order = np.argsort(needles)
    places = np.empty(len(needles), dtype=np.intp)
    places[order] = np.searchsorted(haystack, needles[order])
    return places


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and how often each occurs: np.unique(keys, return_counts=True) without its
    extra passes over the array."""
    keys = np.sort(keys)
    edges = np.empty(len(keys) + 1, dtype=bool)  # where a run of equal keys starts, and the end
    edges[0] = edges[-1] = True
    np.not_equal(keys[1:], keys[:-1], out=edges[1:-1])
    starts = np.flatnonzero(edges)
    return keys[starts[:-1]], np.diff(starts)


@dataclass
class TextModel:
    """Logistic regression over the TF-IDF fields, with coefficient rows in CLASSES order."""

    fields: list[TextField]
    coef: np.ndarray  # (len(CLASSES), total columns)
    intercept: np.ndarray  # (len(CLASSES),)

    def decision(self, texts: list[tuple[str, ...]]) -> np.ndarray:
        scores = np.tile(self.intercept, (len(texts), 1))
        for index, text_field in enumerate(self.fields):
            rows, columns, values = text_field.weights([text[index] for text in texts])
            columns = columns + text_field.offset  # in the coefficients
            for k in range(len(CLASSES)):
                scores[:, k] += np.bincount(
                    rows, weights=values * self.coef[k, columns], minlength=len(texts)
                )
        return scores

    def predict_proba(self, features: list[ToolFeatures]) -> np.ndarray:
        """Probabilities in CLASSES order (softmax of the decision scores)."""
        if not features:
            return np.zeros((0, len(CLASSES)))
        scores = self.decision([model_text(f) for f in features])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class Bundle:
    """What classifier/model.npz holds: the text model, the confidence calibrators per route, training stats."""

    model: TextModel
    calibrators: dict[str, Calibrator]
    stats: dict[str, Any]


def predict_proba(model: TextModel, features: list[ToolFeatures]) -> np.ndarray:
    return model.predict_proba(features)


def _bytes_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text_of(array: np.ndarray) -> str:
    return array.tobytes().decode("utf-8")


def to_arrays(bundle: Bundle) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON header and the named arrays that describe a bundle (vocabularies in column order)."""
    arrays: dict[str, np.ndarray] = {}
    fields = []
    for text_field in bundle.model.fields:
        terms = sorted(text_field.vocabulary, key=text_field.vocabulary.__getitem__)
        if any(_TERM_SEPARATOR in term for term in terms):
            raise ValueError(f"a term of {text_field.name} contains a newline")
        arrays[f"{text_field.name}.terms"] = _bytes_array(_TERM_SEPARATOR.join(terms))
        arrays[f"{text_field.name}.idf"] = np.ascontiguousarray(text_field.idf, dtype=np.float64)
        fields.append(
            {
                "name": text_field.name,
                "analyzer": text_field.analyzer,
                "ngram_range": list(text_field.ngram_range),
                "token_pattern": text_field.token_pattern,
                "offset": text_field.offset,
                "size": text_field.size,
            }
        )
    arrays["coef"] = np.ascontiguousarray(bundle.model.coef, dtype=np.float64)
    arrays["intercept"] = np.ascontiguousarray(bundle.model.intercept, dtype=np.float64)
    calibrators = {}
    for route, calibrator in sorted(bundle.calibrators.items()):
        arrays[f"calibrator.{route}.x"] = np.ascontiguousarray(calibrator.x, dtype=np.float64)
        arrays[f"calibrator.{route}.y"] = np.ascontiguousarray(calibrator.y, dtype=np.float64)
        calibrators[route] = {"x_min": calibrator.x_min, "x_max": calibrator.x_max}
    header = {
        "format": FORMAT,
        "classes": list(CLASSES),
        "fields": fields,
        "calibrators": calibrators,
        "stats": bundle.stats,
    }
    return header, arrays


def save(bundle: Bundle, path: Path) -> None:
    """Write the bundle as a compressed .npz, byte-for-byte the same for the same model (fixed times, order)."""
    header, arrays = to_arrays(bundle)
    arrays = {"header": _bytes_array(json.dumps(header, sort_keys=True, separators=(",", ":"))), **arrays}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


class ModelFileError(ValueError):
    """The model file is not one this code can read."""


def load(path: Path = MODEL_PATH) -> Bundle:
    """Read a bundle written by save(): plain arrays only (allow_pickle=False), checked against its header."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    try:
        header = json.loads(_text_of(arrays.pop("header")))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: no readable header ({exc})") from None
    if header.get("format") != FORMAT or tuple(header.get("classes", ())) != CLASSES:
        raise ModelFileError(f"{path}: format {header.get('format')!r}, expected {FORMAT!r}")
    fields = []
    for spec in header["fields"]:
        terms = _text_of(arrays[f"{spec['name']}.terms"]).split(_TERM_SEPARATOR)
        idf = arrays[f"{spec['name']}.idf"]
        if len(terms) != spec["size"] or len(idf) != spec["size"]:
            raise ModelFileError(f"{path}: field {spec['name']} has inconsistent sizes")
        fields.append(
            TextField(
                name=spec["name"],
                analyzer=spec["analyzer"],
                ngram_range=(int(spec["ngram_range"][0]), int(spec["ngram_range"][1])),
                token_pattern=spec["token_pattern"],
                vocabulary=dict(zip(terms, range(len(terms)), strict=True)),
                idf=idf,
                offset=int(spec["offset"]),
            )
        )
    coef, intercept = arrays["coef"], arrays["intercept"]
    if coef.shape != (len(CLASSES), sum(f.size for f in fields)) or intercept.shape != (len(CLASSES),):
        raise ModelFileError(f"{path}: coefficients of shape {coef.shape} do not fit the vocabularies")
    calibrators = {
        route: Calibrator(
            arrays[f"calibrator.{route}.x"], arrays[f"calibrator.{route}.y"], bounds["x_min"], bounds["x_max"]
        )
        for route, bounds in header["calibrators"].items()
    }
    return Bundle(TextModel(fields, coef, intercept), calibrators, header["stats"])


def file_digest(path: Path) -> str:
    """The first 12 hex digits of the file's sha256 (recomputed only when its size or mtime changes)."""
    stat = path.stat()
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def texts(features: Iterable[ToolFeatures], text_of: Callable[[ToolFeatures], tuple[str, str]] = model_text):
    """The (n, 2) object array of text fields the scikit-learn pipeline reads in training."""
    rows = [text_of(f) for f in features]
    array = np.empty((len(rows), 2), dtype=object)
    for index, (first, second) in enumerate(rows):
        array[index, 0], array[index, 1] = first, second
    return array
