"""The cautious threshold: a tool not labelled destructive whose P(destructive) reaches it is treated as one.

p_destructive is the text model's P(destructive) for a tool labelled read or write (the probability the
read guard already acts on), and the calibrated confidence for a tool labelled destructive (a rule that
forces destructive gives its calibrated value, not 1). Tools with no text to read have no p (None).
The threshold is chosen on leave-servers-out cross-validation (training.cross_validate): the largest p
such that the tools labelled destructive by hand that are labelled destructive OR reach p catch TARGET of them.
"""

from __future__ import annotations

import math
from typing import Any

TARGET_RECALL = 0.98
STATS_KEY = "caution_threshold"
DIGITS = 4


def p_destructive(category: str, model_destructive: float | None, confidence: float) -> float | None:
    """The probability a label carries: calibrated confidence when destructive, else the model's P(destructive)."""
    if category == "destructive":
        return round(float(confidence), DIGITS)
    return None if model_destructive is None else round(float(model_destructive), DIGITS)


def possibly_destructive(category: str, p: float | None, threshold: float | None) -> bool:
    """Labelled read or write, but P(destructive) reaches the cautious threshold."""
    return category != "destructive" and p is not None and threshold is not None and p >= threshold


def choose_threshold(
    decisions: list[Any], labels: list[str], target: float = TARGET_RECALL
) -> dict[str, Any]:
    """The cautious threshold from held-out decisions (None = never held out), with what it catches and costs."""
    held = [(d, label) for d, label in zip(decisions, labels, strict=True) if d is not None]
    destructive = [d for d, label in held if label == "destructive"]
    caught = sum(d.category == "destructive" for d in destructive)
    missed = sorted(
        (round(d.model_destructive, DIGITS) for d in destructive
         if d.category != "destructive" and d.model_destructive is not None),
        reverse=True,
    )  # fmt: skip
    needed = math.ceil(target * len(destructive) - 1e-9) - caught
    if needed <= 0:
        threshold = 1.0
    elif needed <= len(missed):
        threshold = missed[needed - 1]
    else:  # unreachable: take every missed tool the model scored
        threshold = missed[-1] if missed else 1.0
    return {"threshold": threshold, **caution_figures(held, threshold)}


def caution_figures(held: list[tuple[Any, str]], threshold: float) -> dict[str, Any]:
    """Destructive recall with and without the caution, and the read/write tools it sends to approval."""
    destructive = [d for d, label in held if label == "destructive"]
    flagged = [
        (d, label) for d, label in held
        if possibly_destructive(d.category, _p(d), threshold)
    ]  # fmt: skip
    caught = sum(d.category == "destructive" for d in destructive)
    extra = sum(label == "destructive" for _, label in flagged)
    alarms = sum(label != "destructive" for _, label in flagged)
    total = len(held)
    return {
        "tools": total,
        "destructive": len(destructive),
        "recall_label": round(caught / len(destructive), 4) if destructive else 0.0,
        "recall_cautious": round((caught + extra) / len(destructive), 4) if destructive else 0.0,
        "flagged": len(flagged),
        "false_alarms": alarms,
        "false_alarms_per_100": round(100 * alarms / total, 2) if total else 0.0,
    }


def _p(decision: Any) -> float | None:
    m = decision.model_destructive
    return None if m is None else round(float(m), DIGITS)
