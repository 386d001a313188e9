"""Self-contained HTML triage report: inline PNG plots (matplotlib) and escaped job fields."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from flowsleuth.agent.triage_models import RunTriage
from flowsleuth.cli.safe import plain

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f4f4}.flag{color:#b00020;font-weight:bold}.plots img{max-width:100%;margin:.5em 0}
.muted{color:#777}
"""


def _png(fig: object) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img class="plot" alt="plot" src="data:image/png;base64,{data}">'


def _frame(t: RunTriage) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in t.rows])


def _timeline(t: RunTriage, starts: Mapping[str, float], threshold: float) -> str:
    import matplotlib.pyplot as plt

    df = _frame(t)
    df["start"] = df["job_id"].map(starts).astype(float)
    df = df.dropna(subset=["start", "score"])
    fig, ax = plt.subplots(figsize=(9, 3))
    if not df.empty:
        x = df["start"] - df["start"].min()
        ax.scatter(x, df["score"], c=np.where(df["is_anomalous"], "#b00020", "#4a78b5"), s=12)
    ax.axhline(threshold, color="#999", ls="--", lw=1)
    ax.set(
        xlabel="execute start (s since first job)",
        ylabel="score",
        ylim=(-0.02, 1.02),
        title=f"{t.run}: job scores along the run",
    )
    return _png(fig)


def _heatmap(t: RunTriage) -> str:
    import matplotlib.pyplot as plt

    df = _frame(t).dropna(subset=["score"])
    pivot = df.pivot_table(index="host", columns="transformation", values="score", aggfunc="mean")
    fig, ax = plt.subplots(figsize=(min(12, 2 + 0.9 * max(1, pivot.shape[1])), 1 + 0.28 * max(1, len(pivot))))
    im = ax.imshow(pivot.to_numpy(dtype=float), aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax.set_xticks(range(pivot.shape[1]), [str(c) for c in pivot.columns], rotation=45, ha="right")
    ax.set_yticks(range(len(pivot)), [str(i) for i in pivot.index], fontsize=7)
    ax.set_title(f"{t.run}: mean score, host x transformation")
    fig.colorbar(im, ax=ax, fraction=0.03)
    return _png(fig)


def _classes(t: RunTriage) -> str:
    import matplotlib.pyplot as plt

    counts = _frame(t)["anomaly_class"].value_counts()
    fig, ax = plt.subplots(figsize=(5, 2.5))
    ax.bar([str(i) for i in counts.index], counts.to_numpy(), color="#4a78b5")
    ax.set(title=f"{t.run}: jobs per class", ylabel="jobs")
    return _png(fig)


def _esc(v: object) -> str:
    """Markup escaped, and control characters made visible: the file may well be ``cat`` to a terminal."""
    return html.escape(plain("" if v is None else v), quote=True)


def _flagged_table(t: RunTriage) -> str:
    flagged = sorted((r for r in t.rows if r.is_anomalous), key=lambda r: -(r.score or 0))
    if not flagged:
        return '<p class="muted">No job above the threshold.</p>'
    cols = ("job", "host", "transformation", "score", "class", "explanation")
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    body = "".join(
        f"<tr><td>{_esc(r.job_id)}</td><td>{_esc(r.host)}</td><td>{_esc(r.transformation)}</td>"
        f"<td>{r.score:.3f}</td><td>{_esc(r.anomaly_class)}</td><td>{_esc(r.explanation or '')}</td></tr>"
        for r in flagged
    )
    return f"<table>{head}{body}</table>"


def _summary(t: RunTriage) -> str:
    culprits = ", ".join(f"{_esc(c.host)} ({c.confidence:.2f})" for c in t.culprits) or "none"
    return (
        f"<table><tr><th>workflow</th><td>{_esc(t.workflow)}</td></tr>"
        f"<tr><th>source</th><td>{_esc(t.source)}</td></tr>"
        f"<tr><th>jobs flagged</th><td class='flag'>"
        f"{t.n_flagged} of {t.n_jobs} ({t.share_flagged:.1%})</td></tr>"
        f"<tr><th>run diagnosis</th><td>{_esc(t.anomaly_class)} ({_esc(t.anomaly_kind)})</td></tr>"
        f"<tr><th>culprit hosts</th><td>{culprits}</td></tr></table>"
    )


def _plot(make: Callable[[], str], what: str) -> str:
    """One plot, with job fields drawn as plain text ('$' is not mathtext); a plot that still
    fails becomes a line in the page, never a lost report."""
    import matplotlib

    try:
        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return make()
    except Exception as err:  # a plot is decoration: the rows and tables must survive it
        import matplotlib.pyplot as plt

        plt.close("all")
        return f'<p class="muted">{_esc(what)} plot unavailable ({_esc(type(err).__name__)})</p>'


def render_report(triages: Sequence[RunTriage], starts: Mapping[str, Mapping[str, float]]) -> str:
    """The whole page. ``starts[run][job_id]`` is each job's execute start (epoch seconds)."""
    sections = []
    for t in triages:
        plots = (
            _plot(lambda t=t: _timeline(t, starts.get(t.run, {}), t.threshold), "timeline")  # type: ignore[misc]
            + _plot(lambda t=t: _heatmap(t), "heatmap")  # type: ignore[misc]
            + _plot(lambda t=t: _classes(t), "class")  # type: ignore[misc]
        )
        sections.append(
            f"<section><h2>{_esc(t.run)}</h2>{_summary(t)}<div class='plots'>{plots}</div>"
            f"<h3>Flagged jobs</h3>{_flagged_table(t)}</section>"
        )
    made = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>flowsleuth triage</title>"
        f"<style>{_CSS}</style></head><body><h1>flowsleuth triage report</h1>"
        f"<p class='muted'>{len(triages)} run(s), made {made}. Scores are fused tool scores; "
        "explanations are narrated from tool evidence.</p>" + "".join(sections) + "</body></html>"
    )
