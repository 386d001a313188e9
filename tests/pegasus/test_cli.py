"""`data info`, `triage`, `why` and `watch` on real Pegasus input: a submit directory, a stampede
DB file and a DB URL, checked against pegasus-analyzer's answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowsleuth.cli.main import app
from typer.testing import CliRunner

from .conftest import FIXTURES
from .test_fixtures import ANALYZER

runner = CliRunner()


@pytest.fixture
def env(use_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An empty home (the shipped pretrained models are used), no config, no plugins, no LLM."""
    use_home(tmp_path / "home")


def _sources(name: str) -> list[str]:
    d = FIXTURES / name
    db = next(d.glob("*.stampede.db"))
    return [str(d), str(db), f"sqlite:///{db}"]


def _ok(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.parametrize("name", sorted(ANALYZER))
def test_data_info_counts_agree_with_pegasus_analyzer(env, name: str) -> None:
    for source in _sources(name):
        info = json.loads(_ok(["data", "info", source, "--json"]))
        root = info[0] if isinstance(info, list) else info
        c = root["job_states"]
        assert (c["total"], c["succeeded"], c["failed"], c["held"], c["unsubmitted"]) == ANALYZER[name]


def test_data_info_hierarchical(env) -> None:
    info = json.loads(_ok(["data", "info", str(FIXTURES / "hierarchical_wf_success"), "--json"]))
    assert [i["jobs"] for i in info] == [13, 15] and info[1]["parent_run"] == info[0]["run_id"]


@pytest.mark.parametrize(
    ("name", "job", "cls"),
    [
        ("process_wf_failure", "ls_ID0000001", "failure"),
        ("sample_wf_held", "chebi_drug_loader_ID0000001", "held"),
        ("hierarchical_wf_failure", "pegasus-plan_diamond_subworkflow", "failure"),
    ],
)
def test_triage_flags_recorded_problems(env, name: str, job: str, cls: str) -> None:
    out = json.loads(_ok(["triage", _sources(name)[0], "--format", "json", "--explain", "0"]))
    rows = {r["job_id"]: r for r in out[0]["rows"]}
    assert len(rows) == ANALYZER[name][0]
    assert rows[job]["is_anomalous"] and rows[job]["anomaly_class"] == cls and rows[job]["score"] == 1.0
    never = [j for j, r in rows.items() if r["score"] is None]
    assert all(not rows[j]["is_anomalous"] for j in never)


# the jobs pegasus-analyzer reports as failed or held, per fixture (none on the healthy runs)
PROBLEMS = {
    "process_wf_success": set(),
    "hierarchical_wf_success": set(),
    "process_wf_failure": {"ls_ID0000001"},
    "sample_wf_held": {"chebi_drug_loader_ID0000001"},
    "hierarchical_wf_failure": {"pegasus-plan_diamond_subworkflow"},
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_triage_flags_what_pegasus_analyzer_reports_and_nothing_else(env, name: str) -> None:
    """A healthy run of a workflow flowsleuth has never seen (one host, a few jobs: nothing to
    compare a job with) gets no performance verdicts out of thin air."""
    out = json.loads(_ok(["triage", _sources(name)[0], "--format", "json", "--explain", "0"]))
    flagged = {r["job_id"] for run in out for r in run["rows"] if r["is_anomalous"]}
    assert flagged == PROBLEMS[name]


@pytest.mark.parametrize("source_index", [0, 1, 2])
def test_why_explains_the_failure(env, source_index: int) -> None:
    source = _sources("process_wf_failure")[source_index]
    v = json.loads(_ok(["why", source, "ls_ID0000001", "--json", "--backend", "none"]))
    assert v["is_anomalous"] and v["anomaly_class"] == "failure"
    assert "POST_SCRIPT_FAILED" in v["explanation"] and "exit code 2" in v["explanation"]
    assert any(e["tool"] == "job_state" for e in v["evidence"])
    # the recorded state is told once (it comes from the scoring pass, not again from the
    # hints), as the first finding: it is why the job is anomalous
    assert v["explanation"].count("POST_SCRIPT_FAILED") == 1
    assert v["findings"][0]["tool"] == "job_state" and v["findings"][0]["about"] == "state"
    assert "exit code 2 [F1]" in v["explanation"] or "after 1 retry [F1]" in v["explanation"]
    assert v["reasoning"].count("- job_state:") == 1


def test_why_and_triage_agree(env) -> None:
    source = _sources("sample_wf_held")[0]
    rows = json.loads(_ok(["triage", source, "--format", "json", "--explain", "0"]))[0]["rows"]
    for r in rows[:3]:
        v = json.loads(_ok(["why", source, r["job_id"], "--json", "--backend", "none"]))
        assert (v["is_anomalous"], v["anomaly_class"], v["score"]) == (
            r["is_anomalous"],
            r["anomaly_class"],
            r["score"],
        )


def test_why_sub_workflow_job(env) -> None:
    v = json.loads(_ok(["why", str(FIXTURES / "hierarchical_wf_success"), "analyze_ID0000004", "--json"]))
    assert v["job_id"] == "analyze_ID0000004"


def test_a_job_in_several_sub_workflows_is_asked_about_by_run(env) -> None:
    """register_local_0_0 is in the root workflow and in its sub-workflow: ``--run`` (the
    wf_uuid triage prints) says which one; without it, the error says how."""
    source = str(FIXTURES / "hierarchical_wf_success")
    rows = json.loads(_ok(["triage", source, "--format", "json", "--explain", "0"]))
    runs = [r["run"] for t in rows for r in t["rows"] if r["job_id"] == "register_local_0_0"]
    assert len(set(runs)) == 2
    res = runner.invoke(app, ["why", source, "register_local_0_0", "--backend", "none"])
    assert res.exit_code == 1 and "name one with --run" in res.output, res.output
    for run in runs:
        v = json.loads(
            _ok(["why", source, "register_local_0_0", "--run", run, "--json", "--backend", "none"])
        )
        assert (v["run_id"], v["job_id"]) == (run, "register_local_0_0")
    res = runner.invoke(app, ["why", source, "register_local_0_0", "--run", "no-such-uuid"])
    assert res.exit_code == 1 and "no run 'no-such-uuid'" in res.output and runs[0] in res.output


@pytest.mark.parametrize("command", [["data", "info"], ["triage"], ["why"]])
def test_a_directory_that_is_not_a_submit_dir_is_one_line(env, tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    args = [*command, str(tmp_path), *(["x_ID1"] if command == ["why"] else [])]
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and "not a Pegasus submit directory" in res.output, res.output
    assert "Traceback" not in res.output


def test_bad_job_id_is_one_line(env) -> None:
    res = runner.invoke(app, ["why", _sources("process_wf_failure")[0], "nope_ID1"])
    assert res.exit_code == 1 and "no job 'nope_ID1'" in res.output


def test_watch_finished_run(env, writable_copy) -> None:
    d = writable_copy("sample_wf_held")
    res = runner.invoke(app, ["watch", str(d), "--interval", "0.05", "--idle-exit", "0.2"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    held = [x for x in lines if x["event"] == "held"]
    done = {x["job_id"]: x for x in lines if x["event"] == "finished"}
    assert [h["job_id"] for h in held] == ["chebi_drug_loader_ID0000001"]
    assert done["chebi_drug_loader_ID0000001"]["anomaly_class"] == "held"
    assert len(done) == 3  # pegasus-analyzer: 2 succeeded + 1 failed


def test_feature_set_note(env) -> None:
    res = runner.invoke(
        app, ["triage", _sources("process_wf_success")[0], "--format", "json", "--explain", "0"]
    )
    assert res.exit_code == 0
    assert "portable set + kickstart usage" in res.stderr and "tree-portable-usage" in res.stderr
