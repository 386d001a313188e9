"""Loading runs: the happy paths, and every bad input named in the foundation issue."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import iter_runs, load_run, load_runs, parse_run_name
from flowsleuth.workflows.models import UnknownJobError
from flowsleuth.workflows.sample import RUNS_DIR, sample_run


def test_sample_run_loads_with_labels_and_metadata(hdd_run) -> None:
    assert hdd_run.workflow == "1000-genome"
    assert hdd_run.run_id == "1000-genome-run0084"
    assert hdd_run.injected == "hdd_5"
    assert len(hdd_run) == 137
    # The string 'None' is a label, not a missing value.
    assert hdd_run.labels is not None
    counts = hdd_run.labels.value_counts().to_dict()
    assert counts == {"None": 104, "hdd_5": 33}
    assert "anomaly_type" not in hdd_run.frame.columns


def test_job_model(hdd_run) -> None:
    job = hdd_run.job("individuals_ID0000047")
    assert job.transformation == "individuals"
    assert job.job_type == "compute"
    assert job.host.startswith("worker")
    assert job.feature("runtime") == hdd_run.frame.at["individuals_ID0000047", "runtime"]
    assert job.label is not None


def test_missing_features_are_nan_not_errors(hdd_run) -> None:
    job = hdd_run.job("create_dir_1000-genome_0_condorpool")
    assert math.isnan(job.features["stage_in_delay"])
    assert job.feature("stage_in_delay") is None


def test_unknown_job_id_names_close_matches(hdd_run) -> None:
    with pytest.raises(UnknownJobError, match="no job 'individuals_ID00000'.*did you mean"):
        hdd_run.job("individuals_ID00000")


def test_parse_run_name() -> None:
    assert parse_run_name("predict-future-sales-run0067") == (
        "predict-future-sales",
        "predict-future-sales-run0067",
    )
    assert parse_run_name("myrun") == ("unknown", "myrun")


def test_directory_and_zip_give_the_same_runs(tmp_path: Path) -> None:
    from_dir = load_runs(RUNS_DIR)
    archive = tmp_path / "runs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(RUNS_DIR.glob("*/*.csv")):
            zf.write(p, f"{p.parent.name}/{p.name}")
    from_zip = load_runs(archive)
    assert [r.run_id for r in from_dir] == [r.run_id for r in from_zip]
    assert [r.injected for r in from_dir] == [r.injected for r in from_zip]
    assert {r.injected for r in from_dir} >= {"None", "cpu_2", "hdd_5", "hdd_10"}
    assert from_dir[0].frame.equals(from_zip[0].frame)


def test_run_without_label_column_loads_unlabelled(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.read_csv(sample_run("1000-genome-run0084"), dtype=str, keep_default_na=False)
    p = tmp_path / "1000-genome-run9999.csv"
    df.drop(columns="anomaly_type").to_csv(p, index=False)
    run = load_run(p)
    assert run.labels is None
    assert run.injected is None
    assert len(run) == 137


# --- bad input: each gets one DataError naming the file (and row / column) ---------------------


def _write(tmp_path: Path, text: str | bytes, name: str = "1000-genome-run0001.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_run(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "")
    with pytest.raises(DataError, match=r"1000-genome-run0001\.csv: empty file"):
        load_run(p)


def test_header_only_is_an_empty_run(tmp_path: Path, run_csv_text: str) -> None:
    p = _write(tmp_path, run_csv_text.splitlines()[0] + "\n")
    with pytest.raises(DataError, match="no jobs"):
        load_run(p)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00", b"\xff\xfe\xfa garbage"])
def test_not_a_csv(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(DataError, match="not a CSV"):
        load_run(_write(tmp_path, content))


def test_missing_required_columns_are_listed(tmp_path: Path, run_csv_text: str) -> None:
    import io

    import pandas as pd

    df = pd.read_csv(io.StringIO(run_csv_text), dtype=str, keep_default_na=False)
    p = tmp_path / "x.csv"
    df.drop(columns=["runtime", "kickstart_hostname"]).to_csv(p, index=False)
    with pytest.raises(DataError, match="missing required column.*runtime, kickstart_hostname"):
        load_run(p)


def test_duplicate_job_ids(tmp_path: Path, run_csv_text: str) -> None:
    lines = run_csv_text.splitlines()
    p = _write(tmp_path, "\n".join([*lines, lines[1]]) + "\n")
    job = lines[1].split(",")[0]
    with pytest.raises(DataError, match=f"duplicate job id '{job}'"):
        load_run(p)


def test_non_numeric_value_names_row_and_column(tmp_path: Path, run_csv_text: str) -> None:
    header, first, *rest = run_csv_text.splitlines()
    cols = header.split(",")
    cells = first.split(",")
    cells[cols.index("runtime")] = "fast"
    p = _write(tmp_path, "\n".join([header, ",".join(cells), *rest]) + "\n")
    with pytest.raises(DataError, match=rf"row {cells[0]}, column 'runtime'\): non-numeric value 'fast'"):
        load_run(p)


def test_unknown_label_names_row(tmp_path: Path, run_csv_text: str) -> None:
    header, first, *rest = run_csv_text.splitlines()
    cells = first.split(",")
    cells[1] = "gpu_9"
    p = _write(tmp_path, "\n".join([header, ",".join(cells), *rest]) + "\n")
    with pytest.raises(DataError, match=rf"row {cells[0]}, column 'anomaly_type'\): unknown label 'gpu_9'"):
        load_run(p)


def test_zip_with_no_runs(tmp_path: Path) -> None:
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "nothing here")
    with pytest.raises(DataError, match="holds no run CSV"):
        load_runs(archive)


def test_corrupt_zip(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a readable zip"):
        load_runs(_write(tmp_path, b"PK\x03\x04 truncated", name="runs.zip"))


def test_directory_with_no_runs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no run CSV"):
        list(iter_runs(tmp_path))
