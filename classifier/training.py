"""train(): rebuild data/model.skops from labelled rows, reproducibly, with confidence calibrators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from classifier import model as model_module
from classifier.features import build_features, load_lexicon
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
        pipeline = model_module.fit([features[i] for i in kept], list(labels[kept]), SEED)
        for index, (decision, _) in zip(
            held_out, decide_all([features[i] for i in held_out], lexicon, pipeline), strict=True
        ):
            decisions[index] = decision
    return decisions


def _isotonic(raw: np.ndarray, correct: np.ndarray) -> Any:
    from sklearn.isotonic import IsotonicRegression

    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    return calibrator.fit(raw, correct)


def fit_calibrators(decisions: list[Any], labels: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Isotonic maps from raw confidence to the observed rate of being right: one per route, plus 'all'.

    A route with fewer than MIN_ROUTE_ROWS held-out decisions uses the pooled 'all' map instead.
    """
    pairs = [
        (d.route, d.raw_confidence, d.category == label)
        for d, label in zip(decisions, labels, strict=True)
        if d
    ]
    calibrators, stats = {}, {}
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
    rows = load_training_rows(Path(data_dir))
    if len({r["label"] for r in rows}) < len(CATEGORIES):
        from catalog.models import CatalogError

        raise CatalogError(
            f"training needs labelled rows of all three categories in {data_dir}", kind="no_data"
        )
    labels = [r["label"] for r in rows]
    cv = cross_validate(rows)
    features = build_features(rows, load_lexicon())
    pipeline = model_module.fit(features, labels, SEED)
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
    model_module.save(
        {"pipeline": pipeline, "calibrators": cv["calibrators"], "stats": json.dumps(stats, sort_keys=True)},
        Path(out),
    )
    stats["model"] = str(out)
    stats["model_digest"] = model_module.file_digest(Path(out))
    return stats
