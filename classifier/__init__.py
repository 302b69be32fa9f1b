"""Classify MCP tools as read / write / destructive, with risk, confidence and reasons."""

from classifier.evaluation import evaluate, format_evaluation
from classifier.labelling import classify
from classifier.model import MODEL_PATH
from classifier.training import DATA_DIR, TrainingError, train

__all__ = ["DATA_DIR", "MODEL_PATH", "TrainingError", "classify", "evaluate", "format_evaluation", "train"]
