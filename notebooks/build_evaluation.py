"""Write notebooks/evaluation.ipynb with nbformat and execute it in place (outputs saved).

    python notebooks/build_evaluation.py                          # the current classifier
    python notebooks/build_evaluation.py --before-model OLD.npz   # + a 'before' model (with today's rules)
    python notebooks/build_evaluation.py --before-ref bf3a61e     # + the whole classifier at a git commit
                                                                  #   (its rules, lexicon and model.npz)

The held-out part reads every data/heldout/*.jsonl of this checkout (none is fine) and nothing else.
"""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOK = HERE / "evaluation.ipynb"

INTRO = """# Classifier evaluation

Measurements of the shipped classifier: the rules and lexicon plus the learned model in `data/model.npz`
(trained with scikit-learn, run as plain numpy arrays).

1. **Leave-servers-out cross-validation over all labelled servers (the primary figure).** Every real server
   in `data/labelled/` is held out in turn (10 folds of whole servers); its tools are labelled by the rules
   plus a model that never saw that server. Confidences go through calibrators fitted on the *other* folds.
   The cautious threshold (a tool whose P(destructive) reaches it goes to approval) is chosen on these
   held-out decisions for 0.98 destructive recall.
2. **Held-out batches, scored once** (`data/heldout/*.jsonl`): real servers labelled blind under RUBRIC.md by
   labellers who never saw the classifier's output, never trained or tuned on. Each batch is shown as it
   comes out for the current classifier and, when the notebook is built with `--before-model` or
   `--before-ref`, for the classifier before, so one run gives before and after.
3. **dev.jsonl**: reported, but no longer the target (the rules were fitted to it over earlier rounds).
4. **kkruglik/mlflow-mcp**, kept out of training.

Caveat on part 1: lexicon rules were written while reading mistakes on this training data, so the rule side
of the cross-validated figure is somewhat optimistic; the model side is honest. Part 2 is the clean test.

A destructive tool labelled write gets a rate cap instead of an approval step; labelled read, it is allowed.
So each part shows destructive recall, the destructive tools labelled read, and (part 2) the destructive
tools that even the cautious threshold does not send to approval."""

PARAMS = """# Set by build_evaluation.py (--before-model / --before-ref); None: no 'before' classifier.
BEFORE_MODEL = {before_model!r}
BEFORE_REF = {before_ref!r}"""

SETUP = """import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import classifier
from classifier import model as model_module
from classifier.caution import choose_threshold
from classifier.evaluation import approval_figures, score_labels
from classifier.features import load_lexicon
from classifier.labelling import classifier_version, classify_with, load_bundle, sibling_batches
from classifier.training import cross_fitted_confidence, cross_validate, load_training_rows, server_folds

ROOT = Path("..").resolve()
CATS = ["read", "write", "destructive"]

def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]

bundle = load_bundle()
version = classifier_version(load_lexicon())
print("classifier version:", version)
print("model training stats:", bundle.stats["rows"], "rows,", bundle.stats["servers"], "servers")
if BEFORE_MODEL:
    print("before: today's rules with the model", BEFORE_MODEL)
if BEFORE_REF:
    print("before: the classifier (rules, lexicon, model) at git", BEFORE_REF)"""

HELPERS = """def summary(name, scores):
    return (f"{name:<26} accuracy {scores['accuracy']:.3f}  macro-F1 {scores['macro_f1']:.3f}  "
            f"destructive recall {scores['destructive_recall']:.3f}  "
            f"destructive labelled read {scores['destructive_labelled_read']}  "
            f"ECE {scores['expected_calibration_error']:.3f}")

def print_confusion(scores):
    print("rows: true label, columns: predicted")
    print(f"{'':<13}" + "".join(f"{c:>13}" for c in CATS))
    for c, row in zip(CATS, scores["confusion_matrix"], strict=True):
        print(f"{c:<13}" + "".join(f"{v:>13}" for v in row))

def plot_confusion(ax, scores, title):
    matrix = np.array(scores["confusion_matrix"])
    ax.imshow(matrix, cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center", color="black" if v < matrix.max() / 2 else "white")
    ax.set_xticks(range(3), CATS)
    ax.set_yticks(range(3), CATS)
    ax.set(xlabel="predicted", ylabel="true", title=title)

def print_reliability(scores):
    print(f"{'confidence':<12}{'count':>7}{'mean conf':>11}{'accuracy':>10}")
    for b in scores["calibration"]:
        print(f"{b['bin']:<12}{b['count']:>7}{b['mean_confidence']:>11.3f}{b['accuracy']:>10.3f}")

def plot_reliability(ax, scores, title):
    table = scores["calibration"]
    conf = [b["mean_confidence"] for b in table]
    acc = [b["accuracy"] for b in table]
    ax.plot([0.4, 1], [0.4, 1], "--", color="grey", label="perfect")
    ax.scatter(conf, acc, s=[max(10, b["count"]) for b in table], alpha=0.6)
    ax.plot(conf, acc, marker="o")
    ax.set(xlabel="mean confidence", ylabel="fraction right", title=title)
    ax.legend()

def print_caution(figures):
    print(f"cautious threshold {figures['threshold']}: destructive recall {figures['recall_label']:.3f} by label, "
          f"{figures['recall_cautious']:.3f} with the caution; read/write tools sent to approval: "
          f"{figures['false_alarms']} of {figures['tools']} ({figures['false_alarms_per_100']:.1f} per 100 tools)")

def worst_mistakes(rows, predictions, limit=15):
    danger = {"read": 0, "write": 1, "destructive": 2}
    wrong = [(r, p) for r, p in zip(rows, predictions, strict=True) if r["label"] != p["category"]]
    wrong.sort(key=lambda rp: (-(rp[0]["label"] == "destructive" and rp[1]["category"] == "read"),
                               -abs(danger[rp[0]["label"]] - danger[rp[1]["category"]]), -rp[1]["confidence"]))
    for r, p in wrong[:limit]:
        print(f"{r['label']:>11} -> {p['category']:<11} conf {p['confidence']:.2f}  {r['server'][:30]:<30} {r['name'][:34]:<34}")
        if p.get("reasons"):
            print(f"{'':>14}reasons: {'; '.join(p['reasons'][:2])[:150]}")
    print(f"({len(wrong)} mistakes in all)")

def model_stats(path):
    \"\"\"The training stats in a model.npz header (any format version that has one), without loading the model.\"\"\"
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz["header"].tobytes().decode("utf-8")).get("stats", {})"""

CV_RUN = """train_rows = load_training_rows(classifier.DATA_DIR)
cv = cross_validate(train_rows)
held = cv["held_out"]
cv_rows = [train_rows[i] for i in held]
cv_scores = cv["scores"]
print("training rows:", len(train_rows), " held out (real servers):", len(held),
      " servers:", len({r["server"] for r in cv_rows}))
print(summary("CV, rules + model", cv_scores))
cv_rules = score_labels([r["label"] for r in cv_rows], classify_with(cv_rows, None, "rules-only"))
print(summary("CV, rules only", cv_rules))
print()
print_caution(choose_threshold(cv["decisions"], [r["label"] for r in train_rows]))
print()
print("rules + model")
print_confusion(cv_scores)
print()
print("rules only")
print_confusion(cv_rules)"""

CV_BEFORE = """def print_stats_cv(name, stats):
    if "cv_accuracy" not in stats:
        print(f"{name}: the model file holds no cross-validation figures")
        return
    print(f"{name:<26} accuracy {stats['cv_accuracy']:.3f}  destructive recall {stats['cv_destructive_recall']:.3f}  "
          f"destructive labelled read {stats.get('cv_destructive_labelled_read', '?')}  "
          f"({stats.get('cv_rows', '?')} tools, {stats.get('cv_servers', '?')} servers)")
    if "caution" in stats:
        print_caution(stats["caution"])
    if "cv_confusion_matrix" in stats:
        print_confusion({"confusion_matrix": stats["cv_confusion_matrix"]})

before_stats = None
if BEFORE_MODEL:
    before_stats = model_stats(BEFORE_MODEL)
elif BEFORE_REF:
    blob = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_REF}:{model_path_at(BEFORE_REF)}"],
                          check=True, capture_output=True).stdout
    before_stats = model_stats(io.BytesIO(blob))
print("As recorded by `catalog train` in each model file (the CV of the data and rules of its day):")
print()
print_stats_cv("after (classifier/model.npz)", bundle.stats)
if before_stats is not None:
    print()
    print_stats_cv("before", before_stats)
else:
    print()
    print("(no 'before' classifier given: build with --before-model PATH or --before-ref REF)")"""

CV_CALIBRATION = """print("CV reliability (cross-fitted calibration: each fold calibrated on the other folds)")
print_reliability(cv_scores)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_confusion(axes[0], cv_scores, "CV: rules + model")
plot_reliability(axes[1], cv_scores, "CV: reliability")
plt.tight_layout()
plt.show()"""

CV_MISTAKES = """confidence = cross_fitted_confidence(cv["decisions"], [r["label"] for r in train_rows], server_folds(train_rows))
cv_predictions = [{"category": cv["decisions"][i].category, "confidence": confidence[i],
                   "reasons": cv["decisions"][i].reasons} for i in held]
worst_mistakes(cv_rows, cv_predictions)"""

RISK = """RISKS = ["low", "medium", "high", "critical"]
rated = [r for r in cv_rows if r.get("risk") in RISKS]
risk_labels = classify_with(rated, bundle, version)
pairs = [(r["risk"], label["risk"]) for r, label in zip(rated, risk_labels, strict=True)]
print(f"risk level agreement with the labellers: {sum(a == b for a, b in pairs) / len(pairs):.3f} of {len(pairs)}")
print("(the shipped model has seen these rows; the risk level comes from the rules)")
print(f"{'':<10}" + "".join(f"{c:>10}" for c in RISKS))
for a in RISKS:
    print(f"{a:<10}" + "".join(f"{sum(1 for x, y in pairs if x == a and y == b):>10}" for b in RISKS))"""

HELDOUT_LABELLERS = """KEPT = ("category", "risk", "confidence", "reasons", "p_destructive", "possibly_destructive", "caution_threshold")

def label_current(rows):
    return classifier.classify(rows)

def label_with_model(rows, path):
    \"\"\"Today's rules and lexicon with another model file (its calibrators and caution threshold too).\"\"\"
    other = model_module.load(Path(path))
    other_version = f"rules-today+model-{model_module.file_digest(Path(path))}"
    labels = [None] * len(rows)
    for batch in sibling_batches(rows):
        for i, label in zip(batch, classify_with([rows[i] for i in batch], other, other_version), strict=True):
            labels[i] = label
    return labels

AT_REF = (
    "import json, sys\\n"
    "from classifier.labelling import classify\\n"
    "rows = json.load(sys.stdin)\\n"
    f"print(json.dumps([{{k: label.get(k) for k in {KEPT!r}}} for label in classify(rows)]))\\n"
)

def label_at_ref(rows, ref):
    \"\"\"The classifier exactly as it was at a git commit (its code, lexicon and model), in a fresh interpreter.\"\"\"
    old_layout = model_path_at(ref) == "data/model.npz"  # before stop 20 the model and lexicon lived in data/
    paths = ["classifier", "data/lexicon.json", "data/model.npz"] if old_layout else ["classifier"]
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *paths],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        done = subprocess.run([sys.executable, "-c", AT_REF], cwd=tmp, input=json.dumps(rows), text=True,
                              capture_output=True, check=True, env={**os.environ, "PYTHONPATH": tmp})
    return json.loads(done.stdout)

def label_before(rows):
    if BEFORE_MODEL:
        return label_with_model(rows, BEFORE_MODEL)
    if BEFORE_REF:
        return label_at_ref(rows, BEFORE_REF)
    return None"""

HELDOUT_RUN = """def heldout_report(name, rows, labels):
    truth = [r["label"] for r in rows]
    scores = score_labels(truth, labels)
    approval = approval_figures(truth, labels)
    print(summary(name, scores))
    print_confusion(scores)
    as_read = [(r, got) for r, got in zip(rows, labels, strict=True) if r["label"] == "destructive" and got["category"] == "read"]
    print(f"destructive tools labelled read: {len(as_read)}")
    for r, got in as_read:
        print(f"    {r['server'][:34]:<34} {r['name'][:40]:<40} p_destructive {got.get('p_destructive')}")
    threshold = approval["caution_threshold"]
    print((f"with the cautious threshold {threshold}" if threshold is not None else "with no cautious threshold")
          + f", destructive tools NOT sent to approval (nor denied) by the default policy: "
          f"{approval['destructive_not_sent_to_approval']} of {truth.count('destructive')}; read/write tools the "
          f"caution sends to approval: {approval['false_alarms']} ({approval['false_alarms_per_100']:.1f} per 100 tools)")
    for i in approval["not_sent_to_approval"]:
        r, got = rows[i], labels[i]
        print(f"    {r['server'][:34]:<34} {r['name'][:40]:<40} labelled {got['category']}/{got.get('risk')}"
              f"  p_destructive {got.get('p_destructive')}")
    return scores

HELDOUT_FILES = sorted((ROOT / "data" / "heldout").glob("*.jsonl"))
heldout = {}
for path in HELDOUT_FILES:
    rows = [r for r in read_jsonl(path) if r.get("label") in CATS]
    print(f"=== {path.name}: {len(rows)} tools, {len({r['server'] for r in rows})} servers ===")
    print()
    after = heldout_report("after (current)", rows, label_current(rows))
    before_labels = label_before(rows)
    print()
    before = heldout_report("before", rows, before_labels) if before_labels is not None else None
    heldout[path.stem] = (after, before)
    print()
if not HELDOUT_FILES:
    print("no held-out batch waiting in data/heldout/: the recorded results of the joined ones are below")"""

SCORED_BEFORE = """# Each batch that was scored once and then joined training keeps its result in its SOURCES file.
for path in sorted((ROOT / "data" / "labelled").glob("SOURCES_heldout_*.md")):
    text = path.read_text(encoding="utf-8")
    head, found, result = text.partition("## Result when scored once")
    print(f"=== {path.name} ===")
    print(("## Result when scored once" + result).strip() if found else "(no result recorded in this file)")
    print()"""

HELDOUT_PLOT = """for stem, (after, before) in heldout.items():
    shown = [(after, f"{stem}: after")] + ([(before, f"{stem}: before")] if before else [])
    fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 4), squeeze=False)
    for ax, (scores, title) in zip(axes[0], shown, strict=True):
        plot_confusion(ax, scores, title)
    plt.tight_layout()
    plt.show()"""

DEV_SCORES = """DEV = Path("/work/shared/eval/dev.jsonl")
dev_rows = read_jsonl(DEV) if DEV.exists() else []
if dev_rows:
    dev_model = classify_with(dev_rows, bundle, version)
    dev_rules = classify_with(dev_rows, None, "rules-only")
    dev_labels = [r["label"] for r in dev_rows]
    scores_model = score_labels(dev_labels, dev_model)
    scores_rules = score_labels(dev_labels, dev_rules)
    print("dev tools:", len(dev_rows), "servers:", len({r["server"] for r in dev_rows}))
    print(summary("dev, rules + model", scores_model))
    print(summary("dev, rules only", scores_rules))
    print()
    print_confusion(scores_model)
    print()
    print("reliability (rules + model, calibrated confidence)")
    print_reliability(scores_model)
    print()
    worst_mistakes(dev_rows, dev_model, limit=10)
else:
    print(f"{DEV} not found: skipped")"""

MLFLOW = """listing = json.loads((ROOT / "tests/fixtures/classifier/kkruglik__mlflow-mcp.json").read_text())
rows = [{"server": listing["server"], "name": t["name"], "description": t["description"],
         "input_schema": t["inputSchema"], "annotations": t["annotations"], "label": t["label"]}
        for t in listing["tools"]]
labels = classifier.classify(rows)
right = sum(r["label"] == label["category"] for r, label in zip(rows, labels, strict=True))
print(f"kkruglik/mlflow-mcp (held out of training): {right}/{len(rows)} right")
shown = ("get_runs", "query_runs", "set_model_alias", "delete_run", "delete_registered_model")
for r, label in zip(rows, labels, strict=True):
    if r["name"] in shown:
        print(f"  {r['name']:<26} {label['category']:<12} {label['risk']:<9} {label['confidence']:.2f}  {label['reasons'][0]}")"""


def model_path_at(ref: str) -> str | None:
    """Where the model file is at a git commit: classifier/model.npz since stop 20, data/model.npz before."""
    for path in ("classifier/model.npz", "data/model.npz"):
        found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{ref}:{path}"], capture_output=True)
        if found.returncode == 0:
            return path
    return None


def build(before_model: str | None = None, before_ref: str | None = None) -> nbformat.NotebookNode:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(INTRO),
        code(PARAMS.format(before_model=before_model, before_ref=before_ref)),
        code(SETUP),
        code(inspect.getsource(model_path_at)),  # the one definition, shared with the --before-ref check
        code(HELPERS),
        md("## 1. Leave-servers-out cross-validation over data/labelled (primary figure)"),
        code(CV_RUN),
        md("### Before and after, as each model file recorded its own cross-validation"),
        code(CV_BEFORE),
        md("### Confusion matrix and calibration: of the tools labelled 0.9, about 90% should be right"),
        code(CV_CALIBRATION),
        md("### Worst mistakes under cross-validation (destructive labelled read first)"),
        code(CV_MISTAKES),
        md("### Risk level against the labellers' risk (rows: theirs, columns: ours)"),
        code(RISK),
        md(
            "## 2. Held-out batches (data/heldout/), each scored once as it came out\n\n"
            "Approval means: labelled destructive, or labelled read/write with P(destructive) at or above "
            "the cautious threshold (every policy format sends both to approval, or denies where there "
            "is no approval step)."
        ),
        code(HELDOUT_LABELLERS),
        code(HELDOUT_RUN),
        code(HELDOUT_PLOT),
        md("### Batches scored once earlier, now in training: their results as recorded when scored"),
        code(SCORED_BEFORE),
        md("## 3. dev.jsonl (reported; no longer the target)"),
        code(DEV_SCORES),
        md("## 4. The held-out server kkruglik/mlflow-mcp (40 tools)"),
        code(MLFLOW),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _usage(message: str) -> None:
    print(f"build_evaluation.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    before = parser.add_mutually_exclusive_group()
    before.add_argument("--before-model", type=Path, help="an older model.npz, run with today's rules")
    before.add_argument("--before-ref", help="a git commit: its classifier, lexicon and model.npz")
    args = parser.parse_args(argv)
    before_model = None
    if args.before_model:
        if not args.before_model.is_file():
            _usage(f"--before-model {args.before_model}: no such file")
        before_model = str(args.before_model.resolve())
    if args.before_ref:
        if model_path_at(args.before_ref) is None:
            _usage(f"--before-ref {args.before_ref}: no classifier/model.npz or data/model.npz at that commit")
    notebook = build(before_model, args.before_ref)
    ExecutePreprocessor(timeout=900, kernel_name="python3").preprocess(
        notebook, {"metadata": {"path": str(HERE)}}
    )
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
