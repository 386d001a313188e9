"""From tool results to a decision: score fusion and the verdict's numbers (score, class, culprit)."""
