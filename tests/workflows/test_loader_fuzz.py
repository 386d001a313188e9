"""Property-based fuzzing: whatever the bytes, the loader raises only the project's own error."""

from __future__ import annotations

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import run_from_bytes
from flowsleuth.workflows.sample import sample_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_VALID = sample_run("1000-genome-run0084").read_bytes().splitlines(keepends=True)[:6]
_VALID_TEXT = b"".join(_VALID)


def _load(raw: bytes) -> None:
    try:
        run = run_from_bytes(raw, "fuzz.csv", name="fuzz-run0001")
    except DataError:
        return
    assert len(run) > 0  # anything accepted is a real, non-empty run


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(raw: bytes) -> None:
    _load(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(_VALID_TEXT) - 1),
    st.integers(0, 64),
    st.binary(max_size=16) | st.sampled_from([b",", b"\n", b'"', b"None", b"nan", b"\r\n", b",,,"]),
)
def test_mangled_csv(pos: int, cut: int, insert: bytes) -> None:
    _load(_VALID_TEXT[:pos] + insert + _VALID_TEXT[pos + cut :])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(_VALID) - 1), min_size=1, max_size=10))
def test_shuffled_lines(order: list[int]) -> None:
    _load(b"".join(_VALID[i] for i in order))
