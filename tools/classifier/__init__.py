"""Classifiers that score jobs: a fine-tuned encoder (the paper's SFT) and gradient-boosted trees.

Public API (what the agent and the CLI call):

* :class:`Scorer` protocol: ``.score_runs(runs) -> DataFrame`` indexed like the concatenated run
  frames, columns ``run_id, node_id, score`` (calibrated P(anomalous)), ``pred_class`` ('None',
  'cpu_3', 'hdd_5', … for multi-class; 'cpu' / 'hdd' for the kind task; 'anomalous' for binary)
  and ``class_probs`` (dict); ``.name``; ``.meta`` (:class:`ArtifactMeta`); ``.save(dir)``.
* :func:`load_scorer(dir, template=..., labels=..., kind=...)`: load any saved scorer; raises
  :class:`ArtifactError` when the directory is not a model or does not match what is asked.
* :meth:`TreeScorer.fit(train_runs, val_runs, ...)` and :meth:`SFTScorer.fit(...)`
  (``adapter=LoraSpec()`` trains a LoRA adapter on the frozen backbone instead of every weight).
* :class:`~tools.classifier.sft_set.AdapterSet`: per-workflow adapters on one backbone, with a
  ``general`` fallback (what ``load_scorer`` returns for a directory holding ``adapters.json``).
* :func:`~tools.classifier.sft_onnx.attach`: score an SFT model through ONNX Runtime (fp32/int8).
* :func:`sft_score` / :func:`tree_score`: agent tools ``(subject) -> ToolResult`` (and their
  whole-run forms ``*_score_run``); they find their model in the subject's services under
  :data:`SCORERS` (kind -> loaded scorer).
* :func:`train_default_tree(out_dir)`: the demo tree model, trained on the bundled sample.

Heavy libraries (torch, transformers, lightgbm) are imported only when a model is fitted or
loaded; :class:`SFTScorer` and :class:`TreeScorer` are imported lazily by attribute access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta
from flowsleuth.tools.classifier.calibration import Calibration
from flowsleuth.tools.classifier.scorer import Scorer, load_scorer
from flowsleuth.tools.classifier.tasks import TASKS, Task
from flowsleuth.tools.classifier.tool import SCORERS, sft_score, sft_score_run, tree_score, tree_score_run

if TYPE_CHECKING:
    from flowsleuth.tools.classifier.sft import SFTScorer
    from flowsleuth.tools.classifier.tree import TreeScorer

__all__ = [
    "SCORERS",
    "TASKS",
    "ArtifactError",
    "ArtifactMeta",
    "Calibration",
    "SFTScorer",
    "Scorer",
    "Task",
    "TreeScorer",
    "load_scorer",
    "sft_score",
    "sft_score_run",
    "train_default_tree",
    "tree_score",
    "tree_score_run",
]


def __getattr__(name: str) -> Any:
    if name == "SFTScorer":
        from flowsleuth.tools.classifier.sft import SFTScorer

        return SFTScorer
    if name == "TreeScorer":
        from flowsleuth.tools.classifier.tree import TreeScorer

        return TreeScorer
    if name == "train_default_tree":
        from flowsleuth.tools.classifier.default import train_default_tree

        return train_default_tree
    raise AttributeError(name)
