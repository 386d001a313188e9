"""The agent's tools: classifiers, root-cause hints, and the registry (the plugin seam)."""
