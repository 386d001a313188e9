"""Workflow-agnostic detection: zero-shot scoring, history without labels, few labelled runs."""
