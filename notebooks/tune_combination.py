"""Choose the combination's weights (classifier.combine) on leave-servers-out cross-validation.

    python notebooks/tune_combination.py            # prints every grid point, best last

The text model is fitted once per fold exactly as `catalog train` does (classifier.training.server_folds,
seed rows always trained on); its held-out probabilities and every row's rule verdict are kept, and only the
weighing of rules, annotations and model (RULE_WEIGHT, ANNOTATION_WEIGHT, MODEL_WEIGHT, DANGER_BONUS,
READ_GUARD) is varied over a small grid. A grid point is eligible when its destructive recall is no lower and
it labels no more destructive tools read than today's constants; among those the highest accuracy + recall
wins. The constants in classifier/combine.py were set from this script's output (stop 20).
"""

from __future__ import annotations

import copy
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import classifier.combine as combine  # noqa: E402
from classifier.features import build_features, load_lexicon  # noqa: E402
from classifier.labelling import has_text  # noqa: E402
from classifier.rules import MEDIUM, NONE, STRONG, WEAK, apply_rules  # noqa: E402
from classifier.training import FOLDS, SEED, fit, load_training_rows, server_folds  # noqa: E402

GRID = {
    "model": [1.5, 2.0, 2.5, 3.0],
    "strong": [3.0, 4.0],
    "medium": [1.2, 1.6, 2.0],
    "weak": [0.5, 0.8],
    "annotation": [0.8, 1.2],
    "danger_bonus": [0.15, 0.3],
    "read_guard": [0.3, 0.4],
}


def held_out_inputs() -> tuple[list, list, list, np.ndarray]:
    rows = load_training_rows(ROOT / "data")
    lexicon = load_lexicon()
    features = build_features(rows, lexicon)
    labels = np.array([r["label"] for r in rows])
    folds = server_folds(rows, FOLDS)
    proba: list = [None] * len(rows)
    for fold in range(FOLDS):
        held, kept = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
        model = fit([features[i] for i in kept], list(labels[kept]), SEED)
        for i, p in zip(held, model.predict_proba([features[i] for i in held]), strict=True):
            proba[i] = p if has_text(features[i]) else None
    held_rows = [i for i in range(len(rows)) if folds[i] != -1]
    verdicts = [apply_rules(features[i], lexicon) for i in held_rows]
    return [features[i] for i in held_rows], verdicts, [proba[i] for i in held_rows], labels[held_rows]


def score(features: list, verdicts: list, proba: list, labels: np.ndarray) -> tuple[float, float, int]:
    """Accuracy, destructive recall and destructive tools labelled read under the current constants."""
    predicted = []
    for feature, verdict, p in zip(features, verdicts, proba, strict=True):
        fresh = copy.copy(verdict)
        fresh.reasons, fresh.flags = list(verdict.reasons), set(verdict.flags)
        predicted.append(combine.combine_rules_model_annotations(feature, fresh, p).category)
    predicted_array = np.array(predicted)
    destructive = labels == "destructive"
    return (
        float((predicted_array == labels).mean()),
        float((predicted_array[destructive] == "destructive").mean()),
        int((predicted_array[destructive] == "read").sum()),
    )


def set_constants(point: dict[str, float]) -> None:
    combine.MODEL_WEIGHT = point["model"]
    combine.RULE_WEIGHT = {NONE: 0.0, WEAK: point["weak"], MEDIUM: point["medium"], STRONG: point["strong"]}
    combine.ANNOTATION_WEIGHT = {MEDIUM: point["annotation"], WEAK: 0.5}
    combine.DANGER_BONUS = point["danger_bonus"]
    combine.READ_GUARD = point["read_guard"]


def main() -> None:
    inputs = held_out_inputs()
    today = score(*inputs)
    print(f"today's constants: accuracy {today[0]:.4f}  recall {today[1]:.4f}  destructive as read {today[2]}")
    best: tuple[float, dict[str, float], tuple[float, float, int]] | None = None
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        set_constants(point)
        result = score(*inputs)
        print(point, f"accuracy {result[0]:.4f}  recall {result[1]:.4f}  destructive as read {result[2]}")
        if result[1] >= today[1] and result[2] <= today[2] and (best is None or sum(result[:2]) > best[0]):
            best = (sum(result[:2]), point, result)
    print("best eligible:", best[1:] if best else "none better than today's constants")


if __name__ == "__main__":
    main()
