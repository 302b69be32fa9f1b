"""train(): rebuild classifier/model.npz from labelled rows, reproducibly, with confidence calibrators.

Fitting needs scikit-learn (the `train` extra); the fitted pipeline is exported to the plain arrays of
classifier.model, which is all that labelling needs at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from classifier import model as model_module
from classifier.caution import STATS_KEY as CAUTION_KEY
from classifier.caution import choose_threshold
from classifier.features import ToolFeatures, build_features, load_lexicon
from classifier.labelling import decide_all
from classifier.rules import CATEGORIES

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SEED_FILE = "seed.jsonl"
LABELLED_DIR = "labelled"
EXCLUDED_SPLITS = {"check", "dev", "holdout", "test", "eval"}
# Servers kept out of training so they stay an honest test of generalisation (tests/fixtures holds them).
HELD_OUT_SERVERS = frozenset({"kkruglik/mlflow-mcp", "pypi:mlflow-mcp"})
SEED_SERVER_PREFIX = "seed:"
FOLDS = 10
MIN_ROUTE_ROWS = 30
SEED = 0
TOKEN_PATTERN = model_module.APOSTROPHE_TOKEN_PATTERN  # the model reads ASCII text without the regex for it


class TrainingError(Exception):
    """Training cannot run: no usable labelled data, or scikit-learn is not installed."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind


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
                    token_pattern=TOKEN_PATTERN,
                    dtype=np.float64,
                ),
                1,
            ),
        ]
    )
    classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("text", text_features), ("classify", classifier)])


def fit_pipeline(features: list[ToolFeatures], labels: list[str], seed: int = 0) -> Any:
    """The fitted scikit-learn pipeline (the reference the exported arrays are tested against)."""
    pipeline = build_pipeline(seed)
    pipeline.fit(model_module.texts(features), np.array(labels))
    return pipeline


def pipeline_proba(pipeline: Any, features: list[ToolFeatures]) -> np.ndarray:
    """The scikit-learn pipeline's probabilities in CLASSES order."""
    raw = pipeline.predict_proba(model_module.texts(features))
    return raw[:, [list(pipeline.classes_).index(c) for c in model_module.CLASSES]]


def _check_exportable(vectorizer: Any) -> None:
    settings = vectorizer.get_params()
    expected = {
        "lowercase": True,
        "norm": "l2",
        "use_idf": True,
        "sublinear_tf": True,
        "binary": False,
        "preprocessor": None,
        "tokenizer": None,
        "stop_words": None,
        "strip_accents": None,
    }
    wrong = {key: settings[key] for key, value in expected.items() if settings[key] != value}
    if wrong or settings["analyzer"] not in ("char_wb", "word"):
        raise ValueError(
            f"the numpy model cannot reproduce a vectorizer with {wrong or settings['analyzer']}"
        )


def export_pipeline(pipeline: Any) -> model_module.TextModel:
    """The fitted pipeline as plain arrays: per field vocabulary and idf, then coefficients in CLASSES order."""
    fields: list[model_module.TextField] = []
    offset = 0
    for name, vectorizer, column in pipeline.named_steps["text"].transformers_:
        if isinstance(vectorizer, str):  # "drop" / "passthrough" remainder
            continue
        _check_exportable(vectorizer)
        if column != len(fields):
            raise ValueError(f"field {name} reads text column {column}, expected {len(fields)}")
        vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        fields.append(
            model_module.TextField(
                name=name,
                analyzer=vectorizer.analyzer,
                ngram_range=tuple(vectorizer.ngram_range),
                token_pattern=vectorizer.token_pattern if vectorizer.analyzer == "word" else "",
                vocabulary=vocabulary,
                idf=np.array(vectorizer.idf_, dtype=np.float64),
                offset=offset,
            )
        )
        offset += len(vocabulary)
    logistic = pipeline.named_steps["classify"]
    order = [list(logistic.classes_).index(c) for c in model_module.CLASSES]
    coef = np.ascontiguousarray(logistic.coef_[order], dtype=np.float64)
    intercept = np.ascontiguousarray(logistic.intercept_[order], dtype=np.float64)
    return model_module.TextModel(fields, coef, intercept)


def fit(features: list[ToolFeatures], labels: list[str], seed: int = 0) -> model_module.TextModel:
    """Fit with scikit-learn, keep the exported arrays."""
    return export_pipeline(fit_pipeline(features, labels, seed))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _usable(row: dict[str, Any]) -> bool:
    split = str(row.get("split") or row.get("use") or "train").lower()
    return (
        row.get("label") in CATEGORIES
        and bool(row.get("name"))
        and bool(row.get("server"))
        and split not in EXCLUDED_SPLITS
        and str(row["server"]) not in HELD_OUT_SERVERS
    )


def training_files(data_dir: Path) -> list[Path]:
    """seed.jsonl, then every data/labelled/*.jsonl in name order."""
    seed = [data_dir / SEED_FILE] if (data_dir / SEED_FILE).exists() else []
    return seed + sorted((data_dir / LABELLED_DIR).glob("*.jsonl"))


def load_training_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Labelled rows with their provenance (`file`, `source`), deduplicated on (server, name), sorted."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for path in training_files(Path(data_dir)):
        for row in read_jsonl(path):
            if _usable(row):
                row = {**row, "file": str(path.relative_to(data_dir))}
                row.setdefault("source", row["file"])
                rows.setdefault((str(row["server"]), str(row["name"])), row)
    return [rows[key] for key in sorted(rows)]


def is_seed(row: dict[str, Any]) -> bool:
    return str(row["server"]).startswith(SEED_SERVER_PREFIX)


def server_folds(rows: list[dict[str, Any]], folds: int = FOLDS) -> np.ndarray:
    """Fold of each row: whole real servers per fold (round-robin over sorted names); -1 = always trained on.

    Hand-written seed rows are never held out when real servers exist, so the figures measure real tools only.
    """
    real = sorted({str(r["server"]) for r in rows if not is_seed(r)})
    grouped = real or sorted({str(r["server"]) for r in rows})
    fold_of = {server: index % folds for index, server in enumerate(grouped)}
    return np.array([fold_of.get(str(r["server"]), -1) for r in rows])


def cross_validated_decisions(rows: list[dict[str, Any]], folds: int = FOLDS) -> list[Any]:
    """Each held-out row decided by rules + a model that never saw its server (None: never held out)."""
    lexicon = load_lexicon()
    features = build_features(rows, lexicon)
    labels = np.array([r["label"] for r in rows])
    fold_ids = server_folds(rows, folds)
    decisions: list[Any] = [None] * len(rows)
    for fold in range(folds):
        held_out = np.flatnonzero(fold_ids == fold)
        kept = np.flatnonzero(fold_ids != fold)
        if len(held_out) == 0 or len(set(labels[kept])) < len(CATEGORIES):
            continue
        text_model = fit([features[i] for i in kept], list(labels[kept]), SEED)
        for index, (decision, _) in zip(
            held_out, decide_all([features[i] for i in held_out], lexicon, text_model), strict=True
        ):
            decisions[index] = decision
    return decisions


def _isotonic(raw: np.ndarray, correct: np.ndarray) -> model_module.Calibrator:
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True).fit(raw, correct)
    return export_isotonic(fitted)


def export_isotonic(fitted: Any) -> model_module.Calibrator:
    """The points of a fitted IsotonicRegression (out_of_bounds='clip'): it predicts by linear interpolation."""
    if fitted.out_of_bounds != "clip":
        raise ValueError("only out_of_bounds='clip' calibrators can be exported")
    return model_module.Calibrator(
        np.array(fitted.X_thresholds_, dtype=np.float64),
        np.array(fitted.y_thresholds_, dtype=np.float64),
        float(fitted.X_min_),
        float(fitted.X_max_),
    )


def fit_calibrators(
    decisions: list[Any], labels: list[str]
) -> tuple[dict[str, model_module.Calibrator], dict[str, Any]]:
    """Isotonic maps from raw confidence to the observed rate of being right: one per route, plus 'all'.

    A route with fewer than MIN_ROUTE_ROWS held-out decisions uses the pooled 'all' map instead.
    """
    pairs = [
        (d.route, d.raw_confidence, d.category == label)
        for d, label in zip(decisions, labels, strict=True)
        if d
    ]
    calibrators: dict[str, model_module.Calibrator] = {}
    stats: dict[str, Any] = {}
    for route in ["all"] + sorted({p[0] for p in pairs}):
        chosen = [p for p in pairs if route in ("all", p[0])]
        if not chosen or (route != "all" and len(chosen) < MIN_ROUTE_ROWS):
            continue
        raw = np.array([p[1] for p in chosen], dtype=float)
        correct = np.array([p[2] for p in chosen], dtype=float)
        calibrators[route] = _isotonic(raw, correct)
        stats[route] = {"count": len(chosen), "accuracy": round(float(correct.mean()), 4)}
    return calibrators, stats


def cross_fitted_confidence(decisions: list[Any], labels: list[str], fold_ids: np.ndarray) -> list[float]:
    """Each held-out decision's confidence through calibrators fitted on the other folds only (honest ECE)."""
    from classifier.labelling import calibrate

    confidence = [0.0] * len(decisions)
    for fold in sorted(set(fold_ids.tolist()) - {-1}):
        others = [d if f != fold else None for d, f in zip(decisions, fold_ids, strict=True)]
        calibrators, _ = fit_calibrators(others, labels)
        members = [i for i, f in enumerate(fold_ids) if f == fold and decisions[i] is not None]
        for i, value in zip(members, calibrate([decisions[i] for i in members], calibrators), strict=True):
            confidence[i] = float(value)
    return confidence


def cross_validate(rows: list[dict[str, Any]], folds: int = FOLDS) -> dict[str, Any]:
    """Leave-servers-out figures on real rows: decisions, the calibrators fitted on them, and the scores."""
    from classifier.evaluation import score_labels

    decisions = cross_validated_decisions(rows, folds)
    labels = [r["label"] for r in rows]
    calibrators, route_stats = fit_calibrators(decisions, labels)
    held = [i for i, d in enumerate(decisions) if d is not None]
    confidence = cross_fitted_confidence(decisions, labels, server_folds(rows, folds))
    predictions = [{"category": decisions[i].category, "confidence": confidence[i]} for i in held]
    scores = score_labels([labels[i] for i in held], predictions)
    return {
        "decisions": decisions,
        "calibrators": calibrators,
        "route_stats": route_stats,
        "held_out": held,
        "scores": scores,
    }


def _provenance(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["file"]] = counts.get(row["file"], 0) + 1
    return counts


def train(data_dir: Path, out: Path) -> dict[str, Any]:
    """Fit the model on data_dir's seed.jsonl + labelled/*.jsonl, calibrate on held-out servers, save to `out`."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise TrainingError(
            "training needs scikit-learn: install the train extra (pip install 'mcp-catalog[train]')",
            kind="missing_dependency",
        ) from None
    rows = load_training_rows(Path(data_dir))
    if len({r["label"] for r in rows}) < len(CATEGORIES):
        raise TrainingError(
            f"training needs labelled rows of all three categories in {data_dir}", kind="no_data"
        )
    labels = [r["label"] for r in rows]
    cv = cross_validate(rows)
    features = build_features(rows, load_lexicon())
    text_model = fit(features, labels, SEED)
    scores = cv["scores"]
    stats = {
        "rows": len(rows),
        "servers": len({r["server"] for r in rows}),
        "files": _provenance(rows),
        "label_counts": {c: labels.count(c) for c in CATEGORIES},
        "cv_rows": scores["count"],
        "cv_servers": len({rows[i]["server"] for i in cv["held_out"]}),
        "cv_accuracy": round(scores["accuracy"], 4),
        "cv_macro_f1": round(scores["macro_f1"], 4),
        "cv_destructive_recall": round(scores["destructive_recall"], 4),
        "cv_destructive_labelled_read": scores["destructive_labelled_read"],
        "cv_confusion_matrix": scores["confusion_matrix"],
        "cv_expected_calibration_error": round(scores["expected_calibration_error"], 4),
        "routes": cv["route_stats"],
    }
    stats["caution"] = choose_threshold(cv["decisions"], labels)
    stats[CAUTION_KEY] = stats["caution"]["threshold"]
    model_module.save(model_module.Bundle(text_model, cv["calibrators"], stats), Path(out))
    stats["model"] = str(out)
    stats["model_digest"] = model_module.file_digest(Path(out))
    return stats
