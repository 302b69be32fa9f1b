"""classify(): tool dicts in, one label dict out per tool (category, risk, calibrated confidence, reasons)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier import model as model_module
from classifier.combine import Decision, combine_rules_model_annotations, risk_level
from classifier.features import Lexicon, ToolFeatures, build_features, load_lexicon
from classifier.rules import apply_rules

CONFIDENCE_CEILING = 0.99
MAX_REASONS = 6


@lru_cache(maxsize=4)
def _cached_bundle(path: str, mtime_ns: int) -> dict[str, Any]:
    return model_module.load(Path(path))


def load_bundle(path: Path | None = None) -> dict[str, Any] | None:
    """The shipped model bundle (pipeline + confidence calibrators), or None: then rules decide alone."""
    path = path or model_module.MODEL_PATH
    if not path.exists():
        return None
    return _cached_bundle(str(path), path.stat().st_mtime_ns)


def classifier_version(lexicon: Lexicon, model_path: Path | None = None) -> str:
    path = model_path or model_module.MODEL_PATH
    model_part = model_module.file_digest(path) if path.exists() else "none"
    return f"rules-{lexicon.digest}+model-{model_part}"


def decide_all(
    features: list[ToolFeatures], lexicon: Lexicon, pipeline: Any | None
) -> list[tuple[Decision, Any]]:
    """Rules, model and annotations for a batch: the Decision and the rule verdict of every tool."""
    proba = model_module.predict_proba(pipeline, features) if pipeline is not None and features else None
    results = []
    for index, feature in enumerate(features):
        verdict = apply_rules(feature, lexicon)
        row_proba = proba[index] if proba is not None else None
        results.append((combine_rules_model_annotations(feature, verdict, row_proba), verdict))
    return results


def calibrate(decisions: list[Decision], calibrators: dict[str, Any] | None) -> np.ndarray:
    """Map each raw confidence through its route's isotonic calibrator, else the pooled 'all' one.

    The calibrators were fitted on decisions about servers the model had not seen (training.cross_validate).
    """
    raw = np.array([d.raw_confidence for d in decisions], dtype=float)
    if not calibrators:
        return np.minimum(raw, CONFIDENCE_CEILING)
    routes = np.array([d.route if d.route in calibrators else "all" for d in decisions])
    calibrated = raw.copy()
    for route, calibrator in calibrators.items():
        mask = routes == route
        if mask.any():
            calibrated[mask] = calibrator.predict(raw[mask])
    return np.clip(calibrated, 0.0, CONFIDENCE_CEILING)


def classify_with(
    tools: list[dict[str, Any]], bundle: dict[str, Any] | None, version: str
) -> list[dict[str, Any]]:
    lexicon = load_lexicon()
    features = build_features(tools, lexicon)
    decided = decide_all(features, lexicon, bundle["pipeline"] if bundle else None)
    confidences = calibrate([d for d, _ in decided], bundle.get("calibrators") if bundle else None)
    labels = []
    for feature, (decision, verdict), confidence in zip(features, decided, confidences, strict=True):
        risk, risk_reasons = risk_level(decision.category, verdict, feature, lexicon)
        reasons = list(dict.fromkeys(decision.reasons + [f"risk {risk}: {r}" for r in risk_reasons]))
        labels.append(
            {
                "category": decision.category,
                "risk": risk,
                "confidence": round(float(confidence), 3),
                "reasons": reasons[:MAX_REASONS],
                "version": version,
            }
        )
    return labels


def classify(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Label each tool (siblings share `server`): category, risk, calibrated confidence, reasons, version."""
    lexicon = load_lexicon()
    return classify_with(tools, load_bundle(), classifier_version(lexicon))
