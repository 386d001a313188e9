"""The paper's sentence template (Jin et al., SC'24): ``name is value `` for nine features."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from flowsleuth.workflows.schema import PAPER_FEATURES

TEMPLATE_VERSION = "paper-v1"


def _fmt(value: object) -> str:
    # Python float repr, as the paper wrote it: '6.0', '771.8', 'nan'.
    v = float(value)  # type: ignore[arg-type]
    return "nan" if math.isnan(v) else repr(v)


def render(features: Mapping[str, object], names: Iterable[str] = PAPER_FEATURES) -> str:
    """Render one job as the paper's sentence (byte-exact, trailing space included)."""
    return "".join(f"{name} is {_fmt(features.get(name, math.nan))} " for name in names)


def render_frame(frame: pd.DataFrame, names: Iterable[str] = PAPER_FEATURES) -> pd.Series:
    """Vectorised :func:`render` over a run frame; returns one sentence per job."""
    cols = list(names)
    values = frame.reindex(columns=cols).to_numpy(dtype=float)
    parts = [[f"{name} is {_fmt(v)} " for v in values[:, i]] for i, name in enumerate(cols)]
    sentences = ["".join(p) for p in zip(*parts, strict=True)] if cols else [""] * len(frame)
    return pd.Series(np.asarray(sentences, dtype=object), index=frame.index, name="text")
