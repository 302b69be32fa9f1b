"""Classify MCP tools as read / write / destructive, with risk, confidence and reasons."""

from classifier.evaluation import evaluate, format_evaluation
from classifier.labelling import classify
from classifier.training import train

__all__ = ["classify", "evaluate", "format_evaluation", "train"]
