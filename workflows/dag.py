"""Workflow DAGs from Flow-Bench adjacency lists (node -> children)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from flowsleuth.workflows.errors import DataError


@dataclass(frozen=True)
class Dag:
    children_of: dict[str, tuple[str, ...]]
    parents_of: dict[str, tuple[str, ...]]

    @classmethod
    def from_adjacency(cls, adjacency: dict[str, list[str]]) -> Dag:
        parents: dict[str, list[str]] = defaultdict(list)
        for node, kids in adjacency.items():
            for kid in kids:
                parents[kid].append(node)
        return cls(
            children_of={k: tuple(sorted(v)) for k, v in adjacency.items()},
            parents_of={k: tuple(sorted(v)) for k, v in parents.items()},
        )

    def children(self, node: str) -> tuple[str, ...]:
        return self.children_of.get(node, ())

    def parents(self, node: str) -> tuple[str, ...]:
        return self.parents_of.get(node, ())

    def __contains__(self, node: object) -> bool:
        return node in self.children_of or node in self.parents_of


def load_dag(path: str | Path) -> Dag:
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise DataError(p, "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(p, f"not a JSON adjacency list ({err})") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in data.values()
    ):
        raise DataError(
            p, "not a DAG adjacency list (expected an object mapping node id -> list of child ids)"
        )
    return Dag.from_adjacency(data)
