"""Evaluation reports what the policies make of the labels: destructive tools that get no approval step."""

from __future__ import annotations

import itertools

import classifier
from catalog.models import Classification, LabelledTool, Tool
from catalog.policies.rules import ALLOW, decide
from classifier.evaluation import approval_figures, sent_to_approval

THRESHOLD = 0.03


def label(category: str, risk: str, p: float | None) -> dict:
    possibly = category != "destructive" and p is not None and p >= THRESHOLD
    return {
        "category": category,
        "risk": risk,
        "confidence": 0.9,
        "p_destructive": p,
        "caution_threshold": THRESHOLD,
        "possibly_destructive": possibly,
    }


def test_sent_to_approval_is_what_the_default_policy_does_for_every_label():
    for category, risk, p in itertools.product(
        ("read", "write", "destructive"), ("low", "medium", "high", "critical"), (None, 0.01, 0.5)
    ):
        prediction = label(category, risk, p)
        classification = Classification(category, risk, 0.9, ["because"], "", p, THRESHOLD)
        rule = decide("s", LabelledTool(Tool("t"), classification), "balanced")
        assert sent_to_approval(prediction) is (rule.action != ALLOW), (category, risk, p, rule.action)


def test_approval_figures_count_unguarded_destructive_tools_and_caution_false_alarms():
    truth = ["destructive", "destructive", "destructive", "destructive", "write", "read", "read"]
    predictions = [
        label("destructive", "high", 0.9),  # labelled destructive: approval
        label("write", "medium", 0.5),  # caught by the caution
        label("write", "medium", 0.01),  # a destructive tool with only a rate cap
        label("read", "low", None),  # no text for the model: allowed
        label("write", "medium", 0.2),  # a false alarm
        label("read", "low", 0.01),
        label("write", "critical", 0.01),  # denied, but not the caution's doing
    ]
    figures = approval_figures(truth, predictions)
    assert figures["not_sent_to_approval"] == [2, 3]
    assert figures["destructive_not_sent_to_approval"] == 2
    assert figures["false_alarms"] == 1 and figures["false_alarms_per_100"] == round(100 / 7, 2)
    assert figures["caution_threshold"] == THRESHOLD


def test_eval_reports_the_destructive_tools_not_sent_to_approval():
    rows = [
        {"server": "s", "name": "delete_bucket", "description": "Delete a bucket.", "label": "destructive"},
        {"server": "s", "name": "list_buckets", "description": "List buckets.", "label": "read"},
    ]
    result = classifier.evaluate(rows)
    approval = result["approval"]
    assert approval["destructive_not_sent_to_approval"] == 0 and approval["not_sent_to_approval"] == []
    assert "destructive not sent to approval: 0" in classifier.format_evaluation(result)
