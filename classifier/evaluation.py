"""evaluate(): accuracy, macro-F1, per-class scores, confusion matrix and a calibration table."""

from __future__ import annotations

from typing import Any

from classifier.rules import CATEGORIES

CALIBRATION_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)


def _per_class(matrix: list[list[int]]) -> dict[str, dict[str, float]]:
    scores = {}
    for index, category in enumerate(CATEGORIES):
        true_positive = matrix[index][index]
        predicted = sum(row[index] for row in matrix)
        actual = sum(matrix[index])
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[category] = {"precision": precision, "recall": recall, "f1": f1, "support": actual}
    return scores


def calibration_table(confidences: list[float], correct: list[bool]) -> list[dict[str, Any]]:
    """Per confidence bin: how many labels, their mean confidence, and how many were right."""
    table = []
    for low, high in zip(CALIBRATION_EDGES, CALIBRATION_EDGES[1:], strict=False):
        members = [(c, ok) for c, ok in zip(confidences, correct, strict=True) if low <= c < high]
        if members:
            table.append(
                {
                    "bin": f"{low:.2f}-{min(high, 1.0):.2f}",
                    "count": len(members),
                    "mean_confidence": sum(c for c, _ in members) / len(members),
                    "accuracy": sum(ok for _, ok in members) / len(members),
                }
            )
    return table


def score_labels(labels: list[str], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of predictions against true labels (both in CATEGORIES)."""
    index = {c: i for i, c in enumerate(CATEGORIES)}
    matrix = [[0] * 3 for _ in CATEGORIES]
    for label, prediction in zip(labels, predictions, strict=True):
        matrix[index[label]][index[prediction["category"]]] += 1
    correct = [label == p["category"] for label, p in zip(labels, predictions, strict=True)]
    confidences = [float(p["confidence"]) for p in predictions]
    per_class = _per_class(matrix)
    table = calibration_table(confidences, correct)
    total = len(labels)
    ece = sum(b["count"] * abs(b["mean_confidence"] - b["accuracy"]) for b in table) / total if total else 0.0
    return {
        "count": total,
        "accuracy": sum(correct) / total if total else 0.0,
        "macro_f1": sum(s["f1"] for s in per_class.values()) / len(per_class),
        "per_class": per_class,
        "labels": list(CATEGORIES),
        "confusion_matrix": matrix,
        "destructive_recall": per_class["destructive"]["recall"],
        "destructive_labelled_read": matrix[index["destructive"]][index["read"]],
        "calibration": table,
        "expected_calibration_error": ece,
    }


def sent_to_approval(prediction: dict[str, Any]) -> bool:
    """Whether the default (balanced) policy asks a human before the tool runs, or denies it: a destructive
    label, a read/write label that is possibly destructive (the cautious threshold), or critical risk (denied).

    tests/test_evaluation.py holds this to catalog.policies.rules.decide for every combination.
    """
    return (
        prediction["category"] == "destructive"
        or bool(prediction.get("possibly_destructive"))
        or prediction.get("risk") == "critical"
    )


def approval_figures(labels: list[str], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """What the default policy makes of the labels: hand-labelled destructive tools that get no approval step
    (nor a deny), and read/write tools that only the cautious threshold sends to approval (false alarms)."""
    pairs = list(zip(labels, predictions, strict=True))
    unguarded = [
        i for i, (label, p) in enumerate(pairs) if label == "destructive" and not sent_to_approval(p)
    ]
    alarms = sum(1 for label, p in pairs if label != "destructive" and p.get("possibly_destructive"))
    threshold = next(
        (p["caution_threshold"] for p in predictions if p.get("caution_threshold") is not None), None
    )
    return {
        "caution_threshold": threshold,
        "destructive_not_sent_to_approval": len(unguarded),
        "not_sent_to_approval": unguarded,
        "false_alarms": alarms,
        "false_alarms_per_100": round(100 * alarms / len(pairs), 2) if pairs else 0.0,
    }


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Classify labelled rows (siblings by `server`) and score the result against their `label`."""
    from classifier.labelling import classify

    rows = [r for r in rows if r.get("label") in CATEGORIES]
    predictions = classify(rows)
    result = score_labels([r["label"] for r in rows], predictions)
    result["version"] = predictions[0]["version"] if predictions else ""
    approval = approval_figures([r["label"] for r in rows], predictions)
    approval["not_sent_to_approval"] = [
        {"server": rows[i].get("server", ""), "name": rows[i].get("name", ""), **predictions[i]}
        for i in approval["not_sent_to_approval"]
    ]
    result["approval"] = approval
    result["mistakes"] = [
        {"server": r.get("server", ""), "name": r.get("name", ""), "label": r["label"], **p}
        for r, p in zip(rows, predictions, strict=True)
        if p["category"] != r["label"]
    ]
    return result


def format_evaluation(result: dict[str, Any]) -> str:
    """A plain-text report of an evaluate() result."""
    lines = [
        f"tools: {result['count']}   accuracy: {result['accuracy']:.3f}   macro-F1: {result['macro_f1']:.3f}",
        f"destructive recall: {result['destructive_recall']:.3f}   destructive labelled read: {result['destructive_labelled_read']}",
    ]
    approval = result.get("approval")
    if approval is not None:
        threshold = approval["caution_threshold"]
        lines.append(
            (
                f"with the cautious threshold {threshold}"
                if threshold is not None
                else "with no cautious threshold"
            )
            + f": destructive not sent to approval: {approval['destructive_not_sent_to_approval']}"
            f"   read/write sent to approval: {approval['false_alarms']} ({approval['false_alarms_per_100']:.1f} per 100 tools)"
        )
    lines += [
        "",
        f"{'class':<12}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}",
    ]
    for category, s in result["per_class"].items():
        lines.append(
            f"{category:<12}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}{s['support']:>9}"
        )
    lines += [
        "",
        "confusion matrix (rows: true, columns: predicted)",
        f"{'':<12}" + "".join(f"{c:>12}" for c in result["labels"]),
    ]
    for category, row in zip(result["labels"], result["confusion_matrix"], strict=True):
        lines.append(f"{category:<12}" + "".join(f"{v:>12}" for v in row))
    lines += [
        "",
        f"calibration (expected calibration error {result['expected_calibration_error']:.3f})",
        f"{'bin':<12}{'count':>7}{'mean conf':>11}{'accuracy':>10}",
    ]
    for b in result["calibration"]:
        lines.append(f"{b['bin']:<12}{b['count']:>7}{b['mean_confidence']:>11.3f}{b['accuracy']:>10.3f}")
    return "\n".join(lines)
