"""The composition root: configuration (one ``Settings``), loading a home, preparing a home."""
