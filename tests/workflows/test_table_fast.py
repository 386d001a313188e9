"""The small-file CSV path reads exactly what the chunked pandas path reads: the same frame, labels
and notes, or the same DataError message, for every input (or it hands the input to pandas)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.workflows import table
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.sample import sample_run, sample_runs
from flowsleuth.workflows.schema import LABEL_COLUMN, NUMERIC_COLUMNS, REQUIRED_COLUMNS
from flowsleuth.workflows.table_fast import small_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Result = tuple[pd.DataFrame, pd.Series | None, list[str]] | str


def _read(raw: bytes, fast: bool, chunk_rows: int = table.CHUNK_ROWS) -> Result:
    saved = table.FAST_MAX_BYTES, table.CHUNK_ROWS
    # fast: every input up to the header read's size may take the csv-module path; else none does
    table.FAST_MAX_BYTES, table.CHUNK_ROWS = (1 << 20 if fast else -1), chunk_rows
    try:
        return table.read_table(io.BytesIO(raw), "run.csv")
    except DataError as err:
        return str(err)
    finally:
        table.FAST_MAX_BYTES, table.CHUNK_ROWS = saved


def assert_same(raw: bytes, chunk_rows: int = table.CHUNK_ROWS) -> Result:
    fast, slow = _read(raw, True), _read(raw, False, chunk_rows)
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return fast
    (f1, l1, n1), (f2, l2, n2) = fast, slow
    pd.testing.assert_frame_equal(f1, f2, check_exact=True, check_index_type=True, check_column_type=True)
    assert list(f1.dtypes) == list(f2.dtypes) and f1.index.dtype == f2.index.dtype
    assert f1.index.name == f2.index.name and f1.columns.dtype == f2.columns.dtype
    if l2 is None:
        assert l1 is None
    else:
        assert l1 is not None and l1.name == l2.name and l1.dtype == l2.dtype
        pd.testing.assert_series_equal(l1, l2, check_exact=True, check_index_type=True)
    assert n1 == n2
    return fast


def _used(raw: bytes) -> list[int]:
    header = raw.decode("utf-8-sig").split("\n")[0].split(",")
    return list(range(len(header)))


@pytest.mark.parametrize("path", sample_runs(), ids=lambda p: p.name)
def test_bundled_runs_read_the_same(path: Path) -> None:
    raw = path.read_bytes()
    assert small_cells(raw, _used(raw)) is not None  # the fast path really reads it
    assert not isinstance(assert_same(raw), str)


def test_chunked_reads_join_like_one_read() -> None:
    raw = sample_run("1000-genome-run0084").read_bytes()
    frame, labels, _ = assert_same(raw, chunk_rows=7)  # type: ignore[misc]
    assert len(frame) == 137 and labels is not None


@pytest.mark.shared
def test_flowbench_runs_read_the_same(flowbench: Path) -> None:
    files = sorted(flowbench.glob("parsed/*/*.csv"))
    assert files
    raws = [f.read_bytes() for f in files[::25] if f.stat().st_size < table._MAX_HEADER_BYTES]
    for name in ("eht_imaging.zip", "somospie.zip"):
        with zipfile.ZipFile(flowbench / "extra" / name) as zf:
            members = sorted(m for m in zf.namelist() if m.endswith(".csv"))
            raws += [zf.read(m) for m in members[::20]]
    for raw in raws:
        assert small_cells(raw, _used(raw)) is not None
        assert not isinstance(assert_same(raw), str)


_HEADER = ["", LABEL_COLUMN, *REQUIRED_COLUMNS, "ready", "kickstart_executables_argv"]
_TEXT_CELL = st.sampled_from(["compute", "auxiliary", "host1", " host2 ", "a,b", 'say "hi"', ""])
_NUM_CELL = st.sampled_from(["1.5", " 2 ", "", "nan", "NA", "N/A", "null", "-3", "1e400", "7", "inf"])
_LABEL_CELL = st.sampled_from(["None", "cpu_2", " hdd_5 ", "None"])
_DAMAGE = [b"\x00", b"\r", b"\n", b'"', b"\xef\xbb\xbf", b"\xff", b"\x1a"]
# one of these, sometimes, in a random cell of its kind
_BAD = {
    "id": ["", "j1", " j1 "],
    "num": ["abc", "0x1", "1,5"],
    "label": ["bogus", "", "NaN"],
    "text": ["x\ny"],
}


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def tricky_csv(draw: st.DrawFn) -> bytes:
    """Mostly valid runs with a few tricks each: quoting, padding, NA strings, BOM, CRLF, and
    sometimes a flaw (bad cell, duplicate or empty id, ragged row, blank line, damaged bytes)."""

    def rare(k: int = 6) -> bool:
        return draw(st.integers(0, k - 1)) == 0

    header = list(_HEADER)
    if rare(3):
        header[0] = "node_id"
    rows = []
    for i in range(draw(st.integers(0, 6)) if rare(10) else draw(st.integers(1, 6))):
        cells = [draw(st.sampled_from([f" j{i}", f'j{i}"x'])) if rare() else f"j{i}"]
        cells.append(draw(_LABEL_CELL))
        cells += [draw(_NUM_CELL if c in NUMERIC_COLUMNS else _TEXT_CELL) for c in header[2:]]
        rows.append(cells)
    if rows and rare(3):
        kind = draw(st.sampled_from(sorted(_BAD)))
        row = draw(st.sampled_from(rows))
        col = {"id": 0, "label": 1}.get(kind) or draw(
            st.sampled_from(
                [j for j, c in enumerate(header) if j > 1 and (c in NUMERIC_COLUMNS) == (kind == "num")]
            )
        )
        row[col] = draw(st.sampled_from(_BAD[kind]))
    lines: list = [",".join(header)]
    for row in rows:
        line = [_quoted(c) if any(ch in c for ch in ',"\n') or rare(4) else c for c in row]
        lines.append(line)
    if rows and rare(8):  # a ragged row
        line = draw(st.sampled_from(lines[1:]))
        line.append("extra") if draw(st.booleans()) else line.pop()
    lines = [lines[0], *(",".join(line) for line in lines[1:])]
    if rare(8):  # a blank, whitespace-only or all-empty line
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", "  ", ",,,"])))
    end = "\r" if rare(12) else draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from(["", end, end, end + end]))
    raw = text.encode()
    if rare(4):
        raw = b"\xef\xbb\xbf" + raw
    if rare(8):  # byte damage: NUL, a lone CR or LF, a stray quote, a BOM, bad UTF-8, an EOF mark
        pos = draw(st.integers(0, len(raw)))
        raw = raw[:pos] + draw(st.sampled_from(_DAMAGE)) + raw[pos:]
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tricky_csv())
def test_tricky_csvs_read_the_same(raw: bytes) -> None:
    assert_same(raw)


@pytest.mark.parametrize(
    "text",
    [
        'id,"a ""b""",c\nj1,"x,y",  z \nj2,,"q"\n',  # quoted fields, doubled quotes, blanks
        "\ufeffid,a\r\nj1,1\r\n",  # BOM and CRLF
        "id,a\nj1,1",  # no final newline
    ],
)
def test_regular_text_takes_the_fast_path(text: str) -> None:
    raw = text.encode()
    assert small_cells(raw, [0, 1]) is not None


@pytest.mark.parametrize(
    "text",
    [
        "id,a\nj1,1\n\nj2,2\n",  # blank line
        "id,a\nj1,1\n   \n",  # whitespace line
        "id,a\nj1\n",  # short row
        "id,a\nj1,1,2\n",  # long row
        'id,a\nj1,"x\ny"\n',  # quoted newline
        'id,a\nj1,x"y\n',  # quote inside a field
        'id,a\nj1,"x"y\n',  # text after a closing quote
        "id,a\rj1,1\r",  # lone CR line ends
        "id,a\nj1,\x00\n",  # NUL
        "id,a\nj1,\ufeff1\n",  # BOM inside
        "id,a\n",  # no rows
    ],
)
def test_irregular_text_is_left_to_pandas(text: str) -> None:
    assert small_cells(text.encode(), [0, 1]) is None


def test_bytes_that_are_not_utf8_are_left_to_pandas() -> None:
    assert small_cells(b"id,a\nj1,\xff\n", [0, 1]) is None
