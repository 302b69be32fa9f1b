"""Combine the rules, the model and the author's annotations (untrusted) into one label, risk and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from classifier.features import Lexicon, ToolFeatures
from classifier.rules import CATEGORIES, DANGER, MEDIUM, NONE, STRONG, WEAK, RuleVerdict

# weights chosen on leave-servers-out CV (notebooks/: a grid over these five and READ_GUARD, stop 20)
RULE_WEIGHT = {NONE: 0.0, WEAK: 0.5, MEDIUM: 1.2, STRONG: 3.0}
ANNOTATION_WEIGHT = {MEDIUM: 1.2, WEAK: 0.5}
MODEL_WEIGHT = 2.0
READ_GUARD = 0.4  # model P(destructive) at which a read label is overruled (see training CV figures)
READ_GUARD_CLEAR_READ = (
    0.6  # the same when a strong rule reads it as a read: a plain list_run_inputs stays read
)
DANGER_BONUS = 0.3  # ties go to the more dangerous category, as a cautious reviewer would
RULES_ONLY_CONFIDENCE = {"rule": 0.93, "blend": 0.7}


@dataclass
class Decision:
    """A category with the route that decided it, an uncalibrated confidence and the reasons."""

    category: str
    route: str  # "rule": a strong rule decided; "blend": rule, annotations and model weighed together
    raw_confidence: float
    reasons: list[str] = field(default_factory=list)
    model_destructive: float | None = None  # the text model's P(destructive); classifier.caution reads it


def annotation_vote(annotations: dict) -> tuple[str | None, int, str]:
    """What the author's hints claim, and how much to believe it (spec defaults apply only when hints exist)."""
    read_only, destructive = annotations.get("readOnlyHint"), annotations.get("destructiveHint")
    if read_only is True:
        return "read", MEDIUM, "author marks it readOnlyHint"
    if destructive is True:
        return "destructive", MEDIUM, "author marks it destructiveHint"
    if destructive is False:
        return "write", MEDIUM, "author marks it destructiveHint: false (additive changes only)"
    if read_only is False:
        return (
            "destructive",
            WEAK,
            "readOnlyHint false with destructiveHint unset: the spec assumes destructive",
        )
    return None, NONE, ""


def _mistrust_reason(annotation: str, category: str, rule_reason: str) -> str:
    return f"{annotation}, but {rule_reason} says {category} (annotations are untrusted hints)"


def _blend(
    verdict: RuleVerdict, annotation: tuple[str | None, int, str], proba: Sequence[float] | None
) -> list[float]:
    scores = [DANGER_BONUS * DANGER[c] for c in CATEGORIES]
    if verdict.category:
        scores[CATEGORIES.index(verdict.category)] += RULE_WEIGHT[verdict.strength]
    if annotation[0]:
        scores[CATEGORIES.index(annotation[0])] += ANNOTATION_WEIGHT[annotation[1]]
    if proba is not None:
        scores = [score + MODEL_WEIGHT * p for score, p in zip(scores, proba, strict=True)]
    return scores


def _argmax(values: Sequence[float]) -> int:
    """The index of the first largest value (as numpy's argmax)."""
    return max(range(len(values)), key=values.__getitem__)


def _total(values: list[float]) -> float:
    """The sum added left to right, the order numpy sums three values in (bit for bit the same confidences)."""
    total = 0.0
    for value in values:
        total += value
    return total


def combine_rules_model_annotations(
    feature: ToolFeatures, verdict: RuleVerdict, proba: Sequence[float] | None
) -> Decision:
    """Strong rules decide; otherwise rule, annotations and model are weighed, ties toward danger.

    Last, a read that the model finds plausibly destructive is labelled destructive (read_guard).
    """
    decision = read_guard(_decide(feature, verdict, proba), proba, verdict)
    if proba is not None:
        decision.model_destructive = float(proba[CATEGORIES.index("destructive")])
    return decision


def read_guard(decision: Decision, proba: Sequence[float] | None, verdict: RuleVerdict) -> Decision:
    """Never let a tool the model scores >= READ_GUARD destructive pass as read: calling a read is unguarded.

    A description that states the tool is read-only (a SELECT-only SQL tool) is left to the rules.
    """
    if proba is None or decision.category != "read" or "stated_read_only" in verdict.flags:
        return decision
    destructive = float(proba[CATEGORIES.index("destructive")])
    clear_read = verdict.category == "read" and verdict.strength == STRONG
    if destructive < (READ_GUARD_CLEAR_READ if clear_read else READ_GUARD):
        return decision
    reason = (
        f"the text model gives destructive {destructive:.2f}, too likely to let it pass as read "
        f"(the cautious reading; otherwise: {decision.reasons[0] if decision.reasons else 'read'})"
    )
    return Decision("destructive", "guard", destructive, [reason, *decision.reasons[1:]])


def _decide(feature: ToolFeatures, verdict: RuleVerdict, proba: Sequence[float] | None) -> Decision:
    annotation = annotation_vote(feature.annotations)
    if verdict.strength == STRONG and verdict.category:
        reasons = list(verdict.reasons)
        if annotation[0] and annotation[0] != verdict.category:
            reasons.insert(1, _mistrust_reason(annotation[2], verdict.category, verdict.reasons[0]))
        elif annotation[0]:
            reasons.insert(1, annotation[2])
        raw = (
            float(proba[CATEGORIES.index(verdict.category)])
            if proba is not None
            else RULES_ONLY_CONFIDENCE["rule"]
        )
        return Decision(verdict.category, "rule", raw, reasons)
    model_note = ""  # only the blend names the model's view among its reasons
    if proba is not None:
        best = _argmax(proba)
        model_note = f"the text model says {CATEGORIES[best]} ({proba[best]:.2f})"
    scores = _blend(verdict, annotation, proba)
    category = CATEGORIES[_argmax(scores)]
    if verdict.category is None and annotation[0] and DANGER[annotation[0]] > DANGER[category]:
        # Nothing in the name, text or schema speaks: the author's hints (with the spec's defaults) are
        # the only stated evidence, and the more dangerous reading of them is kept.
        category = annotation[0]
    reasons = _blend_reasons(category, verdict, annotation, model_note)
    if proba is None:
        raw = RULES_ONLY_CONFIDENCE["blend"]
    else:
        raw = float(scores[CATEGORIES.index(category)] / _total(scores))
    return Decision(category, "blend", raw, reasons)


def _blend_reasons(
    category: str, verdict: RuleVerdict, annotation: tuple[str | None, int, str], model_note: str
) -> list[str]:
    agreeing: list[str] = []
    disagreeing: list[str] = []
    if verdict.category:
        (agreeing if verdict.category == category else disagreeing).append(verdict.reasons[0])
    if annotation[0]:
        (agreeing if annotation[0] == category else disagreeing).append(annotation[2])
    if model_note:
        (agreeing if model_note.split(" says ")[1].startswith(category) else disagreeing).append(model_note)
    if annotation[0] and annotation[2] in disagreeing:
        disagreeing[disagreeing.index(annotation[2])] = f"{annotation[2]} (annotations are untrusted hints)"
    reasons = agreeing + [f"outweighed: {r}" for r in disagreeing] + verdict.reasons[1:]
    if not agreeing:
        reasons.insert(0, f"no clear signal: {category} chosen as the cautious reading")
    return reasons


def risk_level(
    category: str, verdict: RuleVerdict, feature: ToolFeatures, lexicon: Lexicon
) -> tuple[str, list[str]]:
    """Risk per RUBRIC: read low/medium, write medium, destructive high, critical for exec/money/credentials/bulk."""
    flags = verdict.flags
    if category == "read":
        free_form = next((f.split(":", 1)[1] for f in flags if f.startswith("free_form:")), None)
        if "secrets" in flags:
            return "medium", ["may expose secrets or credentials"]
        if "exposes_data" in flags:
            return "medium", ["can read any data the query reaches"]
        if free_form:
            return "medium", [f"takes a free-form '{free_form}' (arbitrary files or URLs)"]
        return "low", []
    if category == "write":
        if "money" in flags:
            return "critical", ["moves money"]
        if "credential" in flags:
            return "critical", ["changes credentials or permissions"]
        return _write_risk_from_siblings(verdict, feature, lexicon)
    for flag, why in (
        ("exec", "runs arbitrary code, shell or SQL"),
        ("money", "moves money"),
        ("credential", "changes credentials or permissions"),
        ("bulk", "acts in bulk"),
    ):
        if flag in flags:
            return "critical", [why]
    return "high", []


# A confirm parameter is the server asking before it acts: caution, not a sign of danger by itself.
_CAUTION_PARAMS = frozenset({"danger_param:confirm", "danger_param:confirmation"})


def _write_risk_from_siblings(
    verdict: RuleVerdict, feature: ToolFeatures, lexicon: Lexicon
) -> tuple[str, list[str]]:
    """A server that also deletes things manages data worth protecting: its bare or borderline writes rise to high."""
    examples = feature.siblings.destructive_examples(feature.name) if feature.siblings else []
    if not examples:
        return "medium", []
    named = ", ".join(examples)
    objects = [t for t in feature.tokens if t not in lexicon.sets["service_prefixes"] and t != feature.verb]
    bare_change = feature.verb in lexicon.sets["bare_raise_verbs"] and not objects
    if bare_change and verdict.category == "write":
        return "high", [
            f"a bare '{feature.verb}' on a server whose siblings include {named}: a real write to data worth protecting"
        ]
    danger = [f for f in verdict.flags if f.startswith("danger_param:") and f not in _CAUTION_PARAMS]
    if verdict.category == "destructive" or danger:
        return "high", [f"a destructive signal was outweighed, and siblings include {named}"]
    if "modifies_existing" in verdict.flags:
        return "medium", [f"siblings include {named}: this changes data worth protecting"]
    return "medium", []
