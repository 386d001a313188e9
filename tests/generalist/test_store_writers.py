"""Several flowsleuth processes teaching one home at once (``baseline add``, ``label``,
``feedback``): no run or label is lost, and no line is torn."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flowsleuth.tools.generalist.history import History
from flowsleuth.tools.generalist.store import LabelledJob, Store
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.locking import exclusive


def _history(make_run, ids: range) -> History:  # type: ignore[no-untyped-def]
    hist = History(workflow="w")
    hist.add(make_run("w", i, seed=i) for i in ids)
    return hist


def test_a_merge_reads_the_history_only_once_it_holds_the_lock(tmp_path: Path, make_run) -> None:  # type: ignore[no-untyped-def]
    """Another writer saves runs 0-2 while this merge of runs 3-4 waits: all five are kept
    (a merge that read before waiting would write back a history without 0-2)."""
    store = Store(tmp_path)
    path = store.history_path("w")
    done: list[tuple[int, int]] = []
    with exclusive(path):
        t = threading.Thread(target=lambda: done.append(store.add_history(_history(make_run, range(3, 5)))))
        t.start()
        t.join(0.5)
        assert t.is_alive(), "the merge did not wait for the lock"
        _history(make_run, range(3)).save(path)  # the other writer
    t.join(30)
    assert done == [(2, 5)]
    assert sorted(Store(tmp_path).history("w").runs) == sorted(f"w-run{i:04d}" for i in range(5))  # type: ignore[union-attr]


def test_concurrent_baseline_processes_lose_no_run(tmp_path: Path, make_run) -> None:  # type: ignore[no-untyped-def]
    """Four processes each merge their own five runs into one history file at once."""
    parts = [_history(make_run, range(5 * k, 5 * k + 5)) for k in range(4)]
    files = []
    for k, part in enumerate(parts):
        files.append(tmp_path / f"part{k}.json")
        part.save(files[-1])
    code = (
        "import sys; from pathlib import Path\n"
        "from flowsleuth.tools.generalist.history import History\n"
        "from flowsleuth.tools.generalist.store import Store\n"
        "Store(Path(sys.argv[1])).add_history(History.load(sys.argv[2]))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "home"), str(f)]) for f in files]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    assert Store(tmp_path / "home").history("w").n_runs == 20  # type: ignore[union-attr]


def test_a_lock_held_too_long_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "history" / "w.json"
    with (
        exclusive(target),
        pytest.raises(FlowsleuthError, match="another flowsleuth process"),
        exclusive(target, wait_s=0.2),
    ):
        pass


def test_a_label_line_still_being_written_is_not_an_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    job = LabelledJob(workflow="w", run="r1", job="j1", anomalous=True, features={"x": 1.0})
    store.add_labels([job])
    with store.labels_path("w").open("a", encoding="utf-8") as fh:
        fh.write(job.model_dump_json()[:20])  # another process, mid-write
    assert [j.job for j in store.labelled("w")] == ["j1"]
