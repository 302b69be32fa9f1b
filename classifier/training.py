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

TRAINING_FILES = ("train.jsonl", "seed.jsonl")
EXCLUDED_SPLITS = {"check", "dev", "holdout", "test", "eval"}
FOLDS = 5
SEED = 0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _usable(row: dict[str, Any]) -> bool:
    split = str(row.get("split") or row.get("use") or "train").lower()
    return row.get("label") in CATEGORIES and bool(row.get("name")) and split not in EXCLUDED_SPLITS


def load_training_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Labelled rows from data_dir, deduplicated on (server, name) and sorted so training is deterministic."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for filename in TRAINING_FILES:
        path = data_dir / filename
        if path.exists():
            for row in read_jsonl(path):
                if _usable(row):
                    row.setdefault("server", f"{filename}:unknown")
                    rows.setdefault((str(row["server"]), str(row["name"])), row)
    return [rows[key] for key in sorted(rows)]


def _server_folds(servers: list[str], folds: int) -> np.ndarray:
    """Assign whole servers to folds (siblings stay together), round-robin over sorted server names."""
    unique = sorted(set(servers))
    fold_of = {server: index % folds for index, server in enumerate(unique)}
    return np.array([fold_of[s] for s in servers])


def cross_validated_decisions(rows: list[dict[str, Any]], folds: int = FOLDS) -> list[Any]:
    """Each row decided by rules + a model that never saw its server: the honest input for calibration."""
    lexicon = load_lexicon()
    features = build_features(rows, lexicon)
    labels = np.array([r["label"] for r in rows])
    fold_ids = _server_folds([f.server for f in features], folds)
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


def fit_calibrators(decisions: list[Any], labels: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One isotonic map per decision route, from raw confidence to the observed rate of being right."""
    from sklearn.isotonic import IsotonicRegression

    calibrators, stats = {}, {}
    for route in sorted({d.route for d in decisions if d is not None}):
        pairs = [
            (d.raw_confidence, d.category == label)
            for d, label in zip(decisions, labels, strict=True)
            if d is not None and d.route == route
        ]
        raw = np.array([p[0] for p in pairs], dtype=float)
        correct = np.array([p[1] for p in pairs], dtype=float)
        calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        calibrator.fit(raw, correct)
        calibrators[route] = calibrator
        stats[route] = {"count": len(pairs), "accuracy": float(correct.mean())}
    return calibrators, stats


def train(data_dir: Path, out: Path) -> dict[str, Any]:
    """Fit the model on data_dir's train.jsonl + seed.jsonl, calibrate on held-out folds, save to `out`."""
    from classifier.evaluation import score_labels

    rows = load_training_rows(Path(data_dir))
    if len({r["label"] for r in rows}) < len(CATEGORIES):
        from catalog.models import CatalogError

        raise CatalogError(
            f"training needs labelled rows of all three categories in {data_dir}", kind="no_data"
        )
    labels = [r["label"] for r in rows]
    decisions = cross_validated_decisions(rows)
    calibrators, route_stats = fit_calibrators(decisions, labels)
    features = build_features(rows, load_lexicon())
    pipeline = model_module.fit(features, labels, SEED)
    scored = [(d, label) for d, label in zip(decisions, labels, strict=True) if d is not None]
    cv = score_labels(
        [label for _, label in scored],
        [{"category": d.category, "confidence": d.raw_confidence} for d, _ in scored],
    )
    stats = {
        "rows": len(rows),
        "servers": len({r["server"] for r in rows}),
        "label_counts": {c: labels.count(c) for c in CATEGORIES},
        "cv_accuracy": round(cv["accuracy"], 4),
        "cv_macro_f1": round(cv["macro_f1"], 4),
        "cv_destructive_recall": round(cv["destructive_recall"], 4),
        "cv_confusion_matrix": cv["confusion_matrix"],
        "routes": route_stats,
    }
    model_module.save(
        {"pipeline": pipeline, "calibrators": calibrators, "stats": json.dumps(stats, sort_keys=True)},
        Path(out),
    )
    stats["model"] = str(out)
    stats["model_digest"] = model_module.file_digest(Path(out))
    return stats
