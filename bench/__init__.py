"""flowsleuth's benchmarks. Each runs from the repository root as ``python -m bench.<name>``,
prints a table and writes ``bench/results/<name>.{json,md}`` with its protocol and command."""
