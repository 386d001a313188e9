"""Hint: are the job's DAG parents or children also slow (victim or source of a delay)?"""

from __future__ import annotations

from functools import lru_cache

from flowsleuth.tools.hints._common import SLOW_RATIO, finite, rnd
from flowsleuth.workflows.contract import Finding, Subject, ToolResult
from flowsleuth.workflows.dag import Dag
from flowsleuth.workflows.sample import bundled_dag

NAME = "dag_neighbours"


@lru_cache(maxsize=8)
def _bundled(workflow: str) -> Dag | None:
    return bundled_dag(workflow)


def _ratios(subject: Subject, nodes: tuple[str, ...]) -> dict[str, float]:
    ctx = subject.context
    out = {}
    for n in nodes:
        if n in ctx.index:
            r = finite(ctx.at[n, "runtime_ratio"])
            if r is not None:
                out[n] = r
    return out


def _role(job_slow: bool, parents_slow: float | None, waited: bool) -> str:
    if job_slow:
        return "part of a slow chain" if (parents_slow or 0) >= 0.5 else "source"
    if (parents_slow or 0) >= 0.5 or waited:
        return "victim of an upstream delay"
    return "clean"


def dag_neighbours(subject: Subject) -> ToolResult:
    """Are this job's DAG parents or children slow too: victim of an upstream delay, or source?

    Each neighbour's runtime is compared with the median of its transformation in this run
    (`runtime_ratio`; slow means >= 1.5). Returns the share of slow parents and children,
    the slowest of each, how long the job waited after its last parent finished (`wait_s`,
    its `ready` time minus the parents' latest `post_script_end`), and a `role`: "source" (the
    job is slow and its parents are not), "victim of an upstream delay" (its parents are slow
    or it waited, but it ran normally), "part of a slow chain", or "clean". no_data when the
    DAG is unknown or the job is not in it.
    """
    job = subject.job
    dag = subject.dag or _bundled(subject.run.workflow)
    if dag is None or job.node_id not in dag:
        why = "no DAG for this workflow" if dag is None else f"{job.node_id} is not in the DAG"
        return ToolResult.no_data(NAME, why, job=job.node_id)
    parents, children = dag.parents(job.node_id), dag.children(job.node_id)
    pr, cr = _ratios(subject, parents), _ratios(subject, children)
    own = finite(subject.context.at[job.node_id, "runtime_ratio"])
    frame = subject.run.frame
    ends = [finite(frame.at[p, "post_script_end"]) for p in parents if p in frame.index]
    ends_f = [e for e in ends if e is not None]
    ready = finite(job.timestamps.get("ready"))
    wait = ready - max(ends_f) if ready is not None and ends_f else None
    share = lambda r: rnd(sum(v >= SLOW_RATIO for v in r.values()) / len(r)) if r else None  # noqa: E731
    slowest = lambda r: max(r, key=r.__getitem__) if r else None  # noqa: E731
    data = {
        "runtime_ratio": rnd(own),
        "n_parents": len(parents),
        "n_children": len(children),
        "parents_slow_share": share(pr),
        "children_slow_share": share(cr),
        "slowest_parent": slowest(pr),
        "slowest_parent_ratio": rnd(max(pr.values())) if pr else None,
        "slowest_child": slowest(cr),
        "slowest_child_ratio": rnd(max(cr.values())) if cr else None,
        "wait_s": rnd(wait, 1),
    }
    waited = wait is not None and wait > 60.0
    data["role"] = role = _role((own or 1.0) >= SLOW_RATIO, data["parents_slow_share"], waited)
    summary = (
        f"{job.node_id}: {role}; runtime {data['runtime_ratio']}x its transformation's "
        f"median, {len(pr)} parents ({data['parents_slow_share']} slow), {len(cr)} children "
        f"({data['children_slow_share']} slow)"
    )
    slow_parents = data["parents_slow_share"]
    finding = Finding(
        about="dag",
        text=f"DAG role {role}: {len(pr)} parents"
        + (f", {slow_parents:.2f} of them slow" if isinstance(slow_parents, float) else ""),
        numbers=[float(len(pr))] + ([slow_parents] if isinstance(slow_parents, float) else []),
        direction="higher" if role == "source" else None,
    )
    return ToolResult.ok(NAME, data, summary, findings=[finding], job=job.node_id)
