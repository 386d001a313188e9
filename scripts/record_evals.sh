#!/usr/bin/env bash
# Record the explanation eval cases (evals/<case>/) from the bundled sample runs, in one command.
# Usage: scripts/record_evals.sh [INDEX_HOME]
# INDEX_HOME holds a job index of the sample runs (made here if missing); its models folder stays
# empty, so the shipped pretrained models (which never saw the sample runs) score the jobs. A kNN
# vote never sees the job's own run. Each anomalous run gives its clearest and most borderline
# anomalous job, its most anomalous-looking normal job and a typical normal one; most
# anomalous cases are also written without the kNN vote (no index).
set -euo pipefail
home=${1:-${TMPDIR:-/tmp}/flowsleuth-evals-home}
fs=${FLOWSLEUTH:-flowsleuth}
runs=$(python3 -c 'from flowsleuth.workflows.sample import RUNS_DIR; print(RUNS_DIR)' 2>/dev/null \
  || echo workflows/sample/runs)
if [ ! -d "$home/index" ]; then
  "$fs" index build "$runs" --index-dir "$home/index"
fi
for run in "$runs"/*/*.csv; do
  extra=()
  case $run in */normal/*|*/cpu_2/*|*/hdd_10/predict*) ;; *) extra=(--also-without knn_vote) ;; esac
  FLOWSLEUTH_HOME=$home "$fs" evals record "$run" --pick "${extra[@]}"
done
# Real Pegasus runs bundled with the tests: the recorded job state (failure, held, a failed
# sub-workflow plan) is the truth.
# An empty home (no index: the sample runs' index holds no Pegasus jobs). No fixture has a job that
# succeeded only after retries, so there is no 'retried' case.
pegasus=tests/fixtures/pegasus
pegasus_home=$(mktemp -d)
FLOWSLEUTH_HOME=$pegasus_home "$fs" evals record "$pegasus/process_wf_failure" ls_ID0000001
FLOWSLEUTH_HOME=$pegasus_home "$fs" evals record "$pegasus/sample_wf_held" chebi_drug_loader_ID0000001
FLOWSLEUTH_HOME=$pegasus_home "$fs" evals record "$pegasus/hierarchical_wf_failure" pegasus-plan_diamond_subworkflow
