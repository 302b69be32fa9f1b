"""The learned part: a scikit-learn Pipeline over tool text, saved and loaded safely with skops."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import ToolFeatures, model_text

CLASSES = ("read", "write", "destructive")
MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "model.skops"

# The only types data/model.skops may contain. skops refuses anything else: the file's own
# list of types is never consulted, so a crafted file cannot smuggle in a callable.
TRUSTED_TYPES = [
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "numpy.ndarray",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "scipy.sparse._csr.csr_matrix",
    "scipy.interpolate._interpolate.interp1d",
]


def build_pipeline(seed: int = 0) -> Any:
    """TF-IDF char n-grams over name and params + word n-grams over everything, into logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    text_features = ColumnTransformer(
        [
            (
                "name_chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    max_features=15000,
                    sublinear_tf=True,
                    dtype=np.float64,
                ),
                0,
            ),
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    min_df=2,
                    max_features=20000,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w[\w']+\b",
                    dtype=np.float64,
                ),
                1,
            ),
        ]
    )
    classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("text", text_features), ("classify", classifier)])


def texts(features: list[ToolFeatures]) -> np.ndarray:
    """The (n, 2) object array of text fields the pipeline reads."""
    array = np.empty((len(features), 2), dtype=object)
    for row, feature in enumerate(features):
        array[row, 0], array[row, 1] = model_text(feature)
    return array


def fit(features: list[ToolFeatures], labels: list[str], seed: int = 0) -> Any:
    pipeline = build_pipeline(seed)
    pipeline.fit(texts(features), np.array(labels))
    return pipeline


def predict_proba(pipeline: Any, features: list[ToolFeatures]) -> np.ndarray:
    """Probabilities in CLASSES order (read, write, destructive), whatever order the estimator learned."""
    if not features:
        return np.zeros((0, len(CLASSES)))
    raw = pipeline.predict_proba(texts(features))
    order = [list(pipeline.classes_).index(c) for c in CLASSES]
    return raw[:, order]


_SKOPS_ID = re.compile(r'("__id__": |"file": ")(\d+)')
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _drop_run_specific_state(bundle: dict[str, Any]) -> None:
    """Remove fitted attributes that hold object ids of this process (TfidfVectorizer._stop_words_id),
    and hold vocabulary indices as plain ints: skops writes each numpy int as a file of its own."""
    pipeline = bundle.get("pipeline")
    steps = getattr(pipeline, "named_steps", {})
    for _, transformer, _ in getattr(steps.get("text"), "transformers_", []):
        if hasattr(transformer, "_stop_words_id"):
            del transformer._stop_words_id
        if hasattr(transformer, "vocabulary_"):
            transformer.vocabulary_ = {term: int(index) for term, index in transformer.vocabulary_.items()}


def canonical_skops(raw: bytes) -> bytes:
    """Rewrite a skops archive so the same model gives the same bytes: ids renumbered, fixed times, sorted."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    schema = source.read("schema.json").decode("utf-8")
    renumbered: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        number = renumbered.setdefault(match.group(2), str(len(renumbered) + 1))
        return match.group(1) + number

    files = {"schema.json": _SKOPS_ID.sub(renumber, schema).encode("utf-8")}
    for name in source.namelist():
        if name != "schema.json":
            stem, dot, ext = name.partition(".")
            files[renumbered.get(stem, stem) + dot + ext] = source.read(name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in sorted(files, key=lambda n: (n != "schema.json", len(n), n)):
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def save(bundle: dict[str, Any], path: Path) -> None:
    """Write the bundle with skops (no pickle), byte-for-byte reproducible for the same fitted model."""
    import skops.io

    _drop_run_specific_state(bundle)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_skops(skops.io.dumps(bundle)))


def load(path: Path = MODEL_PATH) -> dict[str, Any]:
    """Load a model bundle, refusing any type not in TRUSTED_TYPES."""
    import skops.io

    return skops.io.load(path, trusted=TRUSTED_TYPES)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
