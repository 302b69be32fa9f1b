"""classify(): tool dicts in, one label dict out per tool (category, risk, calibrated confidence, reasons)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier import caution
from classifier import model as model_module
from classifier.combine import Decision, combine_rules_model_annotations, risk_level
from classifier.features import Lexicon, ToolFeatures, build_features, load_lexicon
from classifier.rules import apply_rules

CONFIDENCE_CEILING = 0.99
MAX_REASONS = 6
BATCH_SIZE = 4096


@lru_cache(maxsize=4)
def _cached_bundle(path: str, mtime_ns: int) -> model_module.Bundle:
    return model_module.load(Path(path))


def load_bundle(path: Path | None = None) -> model_module.Bundle | None:
    """The shipped model bundle (text model + confidence calibrators), or None: then rules decide alone."""
    path = path or model_module.MODEL_PATH
    if not path.exists():
        return None
    return _cached_bundle(str(path), path.stat().st_mtime_ns)


RULE_SOURCES = ("features.py", "rules.py", "combine.py")


@lru_cache(maxsize=8)
def rules_digest(lexicon_digest: str) -> str:
    """A digest of the lexicon and of the code that applies it: editing either gives a new version."""
    import hashlib

    digest = hashlib.sha256(lexicon_digest.encode())
    for name in RULE_SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:12]


def classifier_version(lexicon: Lexicon, model_path: Path | None = None) -> str:
    """'rules-<lexicon and rule code digest>+model-<model file digest or none>', kept with every label."""
    path = model_path or model_module.MODEL_PATH
    model_part = model_module.file_digest(path) if path.exists() else "none"
    return f"rules-{rules_digest(lexicon.digest)}+model-{model_part}"


def has_text(feature: ToolFeatures) -> bool:
    """Whether the model has anything to read; with no name, description or parameters it only knows its prior."""
    return bool(feature.tokens or feature.description.strip() or feature.params)


def decide_all(
    features: list[ToolFeatures], lexicon: Lexicon, text_model: model_module.TextModel | None
) -> list[tuple[Decision, Any]]:
    """Rules, model and annotations for a batch: the Decision and the rule verdict of every tool."""
    # plain floats per row: the combination's few sums read them faster than numpy scalars
    proba = text_model.predict_proba(features).tolist() if text_model is not None and features else None
    results = []
    for index, feature in enumerate(features):
        verdict = apply_rules(feature, lexicon)
        row_proba = proba[index] if proba is not None and has_text(feature) else None
        results.append((combine_rules_model_annotations(feature, verdict, row_proba), verdict))
    return results


def calibrate(
    decisions: list[Decision], calibrators: dict[str, model_module.Calibrator] | None
) -> np.ndarray:
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
    tools: list[dict[str, Any]], bundle: model_module.Bundle | None, version: str
) -> list[dict[str, Any]]:
    lexicon = load_lexicon()
    features = build_features(tools, lexicon)
    decided = decide_all(features, lexicon, bundle.model if bundle else None)
    confidences = calibrate([d for d, _ in decided], bundle.calibrators if bundle else None)
    threshold = bundle.stats.get(caution.STATS_KEY) if bundle else None
    labels = []
    for feature, (decision, verdict), confidence in zip(features, decided, confidences.tolist(), strict=True):
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
        p = caution.p_destructive(decision.category, decision.model_destructive, float(confidence))
        labels[-1]["p_destructive"] = p
        labels[-1][caution.STATS_KEY] = threshold
        labels[-1]["possibly_destructive"] = caution.possibly_destructive(decision.category, p, threshold)
    return labels


def sibling_batches(tools: list[dict[str, Any]], size: int = BATCH_SIZE) -> list[list[int]]:
    """Indices of the tools in batches of about `size`, never splitting one server's tools across batches."""
    by_server: dict[str, list[int]] = {}
    for index, tool in enumerate(tools):
        by_server.setdefault(str(tool.get("server") or ""), []).append(index)
    batches: list[list[int]] = [[]]
    for indices in by_server.values():
        if batches[-1] and len(batches[-1]) + len(indices) > size:
            batches.append([])
        batches[-1].extend(indices)
    return [batch for batch in batches if batch]


def classify(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Label each tool (siblings share `server`): category, risk, calibrated confidence, reasons, version.

    Large inputs are labelled in vectorised batches of whole servers, which bounds the memory used.
    """
    lexicon = load_lexicon()
    bundle, version = load_bundle(), classifier_version(lexicon)
    labels: list[dict[str, Any]] = [{} for _ in tools]
    for batch in sibling_batches(tools):
        for index, label in zip(
            batch, classify_with([tools[i] for i in batch], bundle, version), strict=True
        ):
            labels[index] = label
    return labels
