"""A home without models falls back to the shipped pretrained ones, all or nothing."""

from __future__ import annotations

import shutil

import pytest
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import load_toolkit
from flowsleuth.tools.pretrained import pretrained_models_dir


@pytest.fixture(autouse=True)
def _no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSLEUTH_NO_PLUGINS", "1")


def test_empty_home_uses_the_pretrained_models(tmp_path) -> None:
    kit = load_toolkit(Settings(home=tmp_path), llm=False, sft=False)
    assert "tree" in kit.models and kit.diagnosis is not None and kit.baseline is not None
    assert kit.fusion.workflows, "the shipped per-workflow fusion"
    assert any("pretrained" in n for n in kit.notes)


def test_home_with_its_own_model_is_not_mixed_with_shipped_ones(tmp_path) -> None:
    shipped = pretrained_models_dir()
    assert shipped is not None
    shutil.copytree(shipped / "tree", tmp_path / "models" / "tree")
    kit = load_toolkit(Settings(home=tmp_path), llm=False, sft=False)
    assert "tree" in kit.models and kit.diagnosis is None
    assert not kit.fusion.workflows and kit.fusion.fitted_on == "unfitted"
    assert not any("pretrained" in n for n in kit.notes)
