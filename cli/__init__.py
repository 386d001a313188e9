"""The ``flowsleuth`` command line (Typer)."""
